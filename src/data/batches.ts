/**
 * Turns prepared clips into model inputs: the apex frame [n, H, W, C] for the
 * spatial stream and all T frames [n, T, H, W, C] for the temporal stream.
 */
import * as tf from '@tensorflow/tfjs';
import type { ClipSet } from './types.js';
import type { Rng } from '../util/rng.js';

/** Pixel normalisation: x / 255 mapped by (x - mean) / std, per channel. */
export interface Normalization {
  /** Per-channel mean of x / 255 (one value is broadcast). Default [0.5]. */
  mean: number[];
  /** Per-channel standard deviation (one value is broadcast). Default [0.5]. */
  std: number[];
}

export const DEFAULT_NORMALIZATION: Normalization = { mean: [0.5], std: [0.5] };

export interface Batch {
  apex: tf.Tensor4D;
  frames: tf.Tensor5D;
  labels: number[];
}

export interface BatchOptions {
  normalization?: Normalization;
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
  const scale = new Float32Array(C);
  const shift = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const m = norm.mean.length === 1 ? norm.mean[0] : norm.mean[c];
    const s = norm.std.length === 1 ? norm.std[0] : norm.std[c];
    scale[c] = 1 / (255 * s);
    shift[c] = -m / s;
  }
  indices.forEach((ci, b) => {
    const clip = set.clips[ci];
    const src = clip.frames;
    if (src.length !== per) throw new Error(`clip ${clip.id}: ${src.length} bytes, expected ${per} (T=${T}, ${H}x${W}x${C})`);
    const flip = opts.flip ? opts.flip.next() < 0.5 : false;
    const base = b * per;
    for (let t = 0; t < T; t++) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const sx = flip ? W - 1 - x : x;
          const si = ((t * H + y) * W + sx) * C;
          const di = base + ((t * H + y) * W + x) * C;
          for (let c = 0; c < C; c++) data[di + c] = src[si + c] * scale[c] + shift[c];
        }
      }
    }
    apex.set(data.subarray(base + (T - 1) * frameSize, base + per), b * frameSize); // onset -> apex: apex is last
  });
  return {
    apex: tf.tensor4d(apex, [indices.length, H, W, C]),
    frames: tf.tensor5d(data, [indices.length, T, H, W, C]),
    labels: indices.map((i) => set.clips[i].label),
  };
}
