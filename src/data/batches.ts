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
 * common MER input (it cancels the face's identity and keeps the motion); it is
 * a departure from the paper, recorded in configs and checkpoints.
 */
export type InputMode = 'frames' | 'onset-diff';
export const INPUT_MODES: readonly InputMode[] = ['frames', 'onset-diff'];

/** Pixel normalisation: x / 255 mapped by (x - mean) / std, per channel. */
export interface Normalization {
  /** Per-channel mean of x / 255 (one value is broadcast). Default [0.5]. */
  mean: number[];
  /** Per-channel standard deviation (one value is broadcast). Default [0.5]. */
  std: number[];
  /** 'frames' (default; absent in older checkpoints) or 'onset-diff': (x_t - x_onset) / (255 std), where the mean cancels. */
  input?: InputMode;
}

export const DEFAULT_NORMALIZATION: Normalization = { mean: [0.5], std: [0.5] };
/** torchvision's ImageNet statistics, used whenever ImageNet weights initialise the trunks. */
export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/**
 * The normalisation a model is trained and deployed with: ImageNet's mean and
 * std when the trunks start from ImageNet weights (averaged over RGB for grey
 * input), else [0.5] / [0.5]; and the input mode.
 */
export function normalizationFor(init: string, channels: number, input: InputMode): Normalization {
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
  const { frames: T, height: H, width: W, channels: C } = set;
  const norm = opts.normalization ?? DEFAULT_NORMALIZATION;
  const per = T * H * W * C;
  const frameSize = H * W * C;
  const data = new Float32Array(indices.length * per);
  const apex = new Float32Array(indices.length * frameSize);
  auditListener?.({ set: set.name, clipIds: indices.map((i) => set.clips[i].id), purpose: opts.purpose ?? 'eval' });
  indices.forEach((ci, b) => {
    const clip = set.clips[ci];
    const src = clip.frames;
    if (src.length !== per) throw new Error(`clip ${clip.id}: ${src.length} bytes, expected ${per} (T=${T}, ${H}x${W}x${C})`);
    const flip = opts.flip ? opts.flip.next() < 0.5 : false;
    const base = b * per;
    normalizeClip(data, base, src, set, norm, flip);
    apex.set(data.subarray(base + (T - 1) * frameSize, base + per), b * frameSize); // onset -> apex: apex is last
  });
  return {
    apex: tf.tensor4d(apex, [indices.length, H, W, C]),
    frames: tf.tensor5d(data, [indices.length, T, H, W, C]),
    labels: indices.map((i) => set.clips[i].label),
  };
}
