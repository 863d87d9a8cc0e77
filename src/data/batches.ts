/**
 * Turns prepared clips into model inputs: the apex frame [n, H, W, C] for the
 * spatial stream and all T frames [n, T, H, W, C] for the temporal stream.
 */
import * as tf from '@tensorflow/tfjs';
import type { ClipSet } from './types.js';
import type { Rng } from '../util/rng.js';

/**
 * What the network sees of a frame. 'frames' is the paper's input: each frame
 * as it is. 'onset-diff' gives each frame minus the clip's onset frame, a
 * common MER input (it cancels the face's identity and keeps the motion).
 * 'flow' gives the TV-L1 optical flow from the onset to each frame and its
 * optical strain, three channels u, v, strain (src/motion/clip-flow.ts), the
 * input of STSTNet and most flow-based MER methods. The last two are
 * departures from the paper, recorded in configs and checkpoints.
 */
export type InputMode = 'frames' | 'onset-diff' | 'flow';
export const INPUT_MODES: readonly InputMode[] = ['frames', 'onset-diff', 'flow'];

/**
 * Input normalisation, per channel (one value is broadcast): pixels x / 255
 * mapped by (x - mean) / std; with input 'flow', the flow channels (u and v in
 * pixels, strain) mapped by (f - mean) / std.
 */
export interface Normalization {
  /** Per-channel mean of x / 255, or of u, v, strain with input 'flow'. Default [0.5]; flow [0, 0, 0]. */
  mean: number[];
  /** Per-channel standard deviation. Default [0.5]; flow [motionScale, motionScale, strainScale] of `model.flow`. */
  std: number[];
  /** 'frames' (default; absent in older checkpoints), 'onset-diff': (x_t - x_onset) / (255 std), where the mean cancels, or 'flow'. */
  input?: InputMode;
}

/** The scales that map a flow input to about unit size: pixels of motion and strain per unit. */
export interface FlowScales {
  motionScale: number;
  strainScale: number;
}

export const DEFAULT_NORMALIZATION: Normalization = { mean: [0.5], std: [0.5] };
/** torchvision's ImageNet statistics, used whenever ImageNet weights initialise the trunks. */
export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/**
 * The normalisation a model is trained and deployed with: ImageNet's mean and
 * std when the trunks start from ImageNet weights (averaged over RGB for grey
 * input), else [0.5] / [0.5]; and the input mode.
 */
export function normalizationFor(init: string, channels: number, input: InputMode, flow?: FlowScales): Normalization {
  if (input === 'flow') {
    if (!flow) throw new Error('normalizationFor: input "flow" needs the flow scales (model.flow)');
    // flow statistics, whatever the trunks' initialisation: ImageNet's pixel statistics mean nothing for flow
    return { mean: [0, 0, 0], std: [flow.motionScale, flow.motionScale, flow.strainScale], input };
  }
  if (!init.startsWith('imagenet:')) return { ...DEFAULT_NORMALIZATION, input };
  const { mean, std } = IMAGENET_NORMALIZATION;
  if (channels === 3) return { mean: [...mean], std: [...std], input };
  const avg = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  return { mean: [avg(mean)], std: [avg(std)], input };
}

/**
 * Writes one clip of T*H*W*C bytes (onset first, apex last) into `dst` at
 * `offset` as normalised float32, mirrored left-right when `flip`. The one
 * place where bytes become network input: training, evaluation, `predict` and
 * the browser demo all call it, so they agree to the last bit.
 */
export function normalizeClip(
  dst: Float32Array,
  offset: number,
  src: Uint8Array,
  geometry: { frames: number; height: number; width: number; channels: number },
  norm: Normalization,
  flip = false,
): void {
  const { frames: T, height: H, width: W, channels: C } = geometry;
  const scale = new Float32Array(C);
  const shift = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const m = norm.mean.length === 1 ? norm.mean[0] : norm.mean[c];
    const s = norm.std.length === 1 ? norm.std[0] : norm.std[c];
    scale[c] = 1 / (255 * s);
    shift[c] = -m / s;
  }
  const diff = (norm.input ?? 'frames') === 'onset-diff';
  for (let t = 0; t < T; t++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const sx = flip ? W - 1 - x : x;
        const si = ((t * H + y) * W + sx) * C;
        const di = offset + ((t * H + y) * W + x) * C;
        if (diff) {
          const oi = (y * W + sx) * C; // same pixel of the onset frame
          for (let c = 0; c < C; c++) dst[di + c] = (src[si + c] - src[oi + c]) * scale[c];
        } else {
          for (let c = 0; c < C; c++) dst[di + c] = src[si + c] * scale[c] + shift[c];
        }
      }
    }
  }
}

/**
 * Writes one clip's flow input (T*H*W*3 float32 u, v, strain, see src/motion/clip-flow.ts) into
 * `dst` at `offset` as (f - mean) / std, mirrored left-right when `flip`: a mirror image moves the
 * other way, so u changes sign; v and the strain magnitude do not. The one place where flow becomes
 * network input, for training, evaluation, `predict` and the browser demo.
 */
export function normalizeFlowClip(
  dst: Float32Array,
  offset: number,
  flow: Float32Array,
  geometry: { frames: number; height: number; width: number },
  norm: Normalization,
  flip = false,
): void {
  const { frames: T, height: H, width: W } = geometry;
  const C = 3;
  if (flow.length !== T * H * W * C) throw new Error(`flow input has ${flow.length} values, expected ${T * H * W * C} (T=${T}, ${H}x${W}x3)`);
  const mean = [0, 1, 2].map((c) => (norm.mean.length === 1 ? norm.mean[0] : norm.mean[c]));
  const inv = [0, 1, 2].map((c) => 1 / (norm.std.length === 1 ? norm.std[0] : norm.std[c]));
  const sign = flip ? -1 : 1;
  for (let t = 0; t < T; t++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const si = ((t * H + y) * W + (flip ? W - 1 - x : x)) * C;
        const di = offset + ((t * H + y) * W + x) * C;
        dst[di] = (sign * flow[si] - mean[0]) * inv[0];
        dst[di + 1] = (flow[si + 1] - mean[1]) * inv[1];
        dst[di + 2] = (flow[si + 2] - mean[2]) * inv[2];
      }
    }
  }
}

/** Channels of the network input for clips of `channels` and normalisation `norm`: 3 (u, v, strain) with input 'flow'. */
export function inputChannels(channels: number, norm: Pick<Normalization, 'input'>): number {
  return norm.input === 'flow' ? 3 : channels;
}

export interface Batch {
  apex: tf.Tensor4D;
  frames: tf.Tensor5D;
  labels: number[];
}

/** What a batch is for: 'train' batches reach the optimiser and batch-norm statistics, 'eval' batches only a forward pass in inference mode. */
export type BatchPurpose = 'train' | 'eval';

/** One batch made, as the audit sees it. */
export interface BatchAuditEvent {
  /** Name of the clip set (e.g. `synthetic-micro`). */
  set: string;
  clipIds: string[];
  purpose: BatchPurpose;
}

let auditListener: ((e: BatchAuditEvent) => void) | null = null;

/**
 * Registers a listener told of every batch made (null removes it). Leakage
 * checks use it to prove which clips each training stage touched.
 */
export function auditBatches(listener: ((e: BatchAuditEvent) => void) | null): void {
  auditListener = listener;
}

export interface BatchOptions {
  normalization?: Normalization;
  /** Default 'eval'; training loops pass 'train'. */
  purpose?: BatchPurpose;
  /** Mirror each clip left-right with probability 1/2 (training augmentation). */
  flip?: Rng;
}

/** Builds a batch from clip indices; the caller disposes `apex` and `frames`. */
export function makeBatch(set: ClipSet, indices: number[], opts: BatchOptions = {}): Batch {
  const { frames: T, height: H, width: W, channels } = set;
  const norm = opts.normalization ?? DEFAULT_NORMALIZATION;
  const flowInput = norm.input === 'flow';
  const C = inputChannels(channels, norm);
  const per = T * H * W * C;
  const frameSize = H * W * C;
  const data = new Float32Array(indices.length * per);
  const apex = new Float32Array(indices.length * frameSize);
  auditListener?.({ set: set.name, clipIds: indices.map((i) => set.clips[i].id), purpose: opts.purpose ?? 'eval' });
  indices.forEach((ci, b) => {
    const clip = set.clips[ci];
    const src = clip.frames;
    const bytes = T * H * W * channels;
    if (src.length !== bytes) throw new Error(`clip ${clip.id}: ${src.length} bytes, expected ${bytes} (T=${T}, ${H}x${W}x${channels})`);
    const flip = opts.flip ? opts.flip.next() < 0.5 : false;
    const base = b * per;
    if (flowInput) {
      if (!clip.flow) throw new Error(`clip ${clip.id} of "${set.name}" has no optical flow; with input "flow" the data loader attaches it (src/data/flow-cache.ts)`);
      normalizeFlowClip(data, base, clip.flow, set, norm, flip);
    } else {
      normalizeClip(data, base, src, set, norm, flip);
    }
    apex.set(data.subarray(base + (T - 1) * frameSize, base + per), b * frameSize); // onset -> apex: apex is last
  });
  return {
    apex: tf.tensor4d(apex, [indices.length, H, W, C]),
    frames: tf.tensor5d(data, [indices.length, T, H, W, C]),
    labels: indices.map((i) => set.clips[i].label),
  };
}
