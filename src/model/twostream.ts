/**
 * The two-stream network of paper 2.2, used twice: MiNet (trained on micro
 * data, the model kept for recognition) and MaNet (trained on macro data, the
 * teacher during guided fine-tuning).
 *
 *   apex frame x^A --ResNet18 (spatial)--> feature map -> mean -> f^A
 *   frames f^1..f^T --ResNet18 (temporal, shared over t)--> frame features [T, F]
 *   v = mean over t             (pretraining, "mean-pooling")
 *   v = mean over s of v(s)     (after guidance: v(s) = K frame features spaced s apart, s = 2^k, k < s_c)
 *                               training draws a random start per s; evaluation uses the expectation of
 *                               that draw, so every frame (the apex too) gets the weight it has on average
 *   z = [f^A ; v]  -> C_e -> class logits
 */
import * as tf from '@tensorflow/tfjs';
import { applyTrunk, buildResNet18, resnetFeatures, resnetMapSize, layerSeed } from './resnet.js';

/** The shape of a two-stream net; `model` of the config is this without `classes` (which the data says). */
export interface TwoStreamConfig {
  /** Number of expression classes L. */
  classes: number;
  /** Input frame height = width in pixels. The paper does not say; quick 32, paper 112. */
  size: number;
  /** 1 (grey) or 3 (RGB). Quick 1, paper 3. */
  channels: number;
  /** Frames per clip T, onset to apex. Quick 8, paper 16. */
  frames: number;
  /** ResNet18 width; 64 is the paper's ResNet18. Quick 8, paper 64. */
  width: number;
  /** Number of sampling intervals s_c (s = 2^k, k < s_c: 1, 2, ..., 2^(s_c - 1)). Quick 2, paper 3. */
  sc: number;
  /** Frame features per v(s), K: the same for every s so that C_s cannot read s off the length. Default 4. */
  K: number;
}

/**
 * The integer fields of a net's shape and the ranges the code runs them in, as
 * [lowest, highest]: the config and a checkpoint's `mimanet.json` are checked
 * against the same ranges (and the intervals against T, {@link checkIntervals}).
 */
export const NET_RANGES = {
  size: [32, 1024],
  frames: [2, 512],
  width: [1, 512],
  sc: [1, 8],
  K: [1, 512],
} as const satisfies Partial<Record<keyof TwoStreamConfig, readonly [number, number]>>;

/** How the video-level feature v is formed. */
export type TemporalMode = 'mean' | 'intervals';

export interface ForwardOptions {
  /** Batch-norm in training mode (batch statistics, moving averages updated). */
  training: boolean;
  /** 'mean' over all T frames (pretraining) or the aggregate of the v(s) (guided fine-tuning and its evaluation). */
  temporal: TemporalMode;
  /** Start frame of each v(s), one per interval (training); default: the expectation over every valid start (evaluation). */
  starts?: number[];
}

export interface ForwardResult {
  /** Spatial stream's last feature map on the apex frame [n, h, w, F] (input of D_s). */
  apexMap: tf.Tensor4D;
  /** f^A [n, F]. */
  fA: tf.Tensor2D;
  /** Frame features f^1..f^T [n, T, F]. */
  frameFeatures: tf.Tensor3D;
  /** v(s) for s = 2^k, each [n, K, F]; empty in 'mean' mode and at evaluation (no `starts`). */
  vs: tf.Tensor3D[];
  /** Video feature v [n, F]. */
  v: tf.Tensor2D;
  /** Fused feature z = [f^A ; v] [n, 2F] (used by L_con). */
  z: tf.Tensor2D;
  /** C_e(z) logits [n, L]. */
  logits: tf.Tensor2D;
}

/** Frame indices of v(s): K frames spaced s apart from `start`. */
export function intervalIndices(start: number, s: number, K: number, T: number): number[] {
  const idx = Array.from({ length: K }, (_, j) => start + j * s);
  if (start < 0 || idx[K - 1] >= T) throw new Error(`v(s) window start=${start}, s=${s}, K=${K} does not fit T=${T} frames`);
  return idx;
}

/** Largest start of a v(s) window: T - (K - 1) s - 1. */
export function maxIntervalStart(s: number, K: number, T: number): number {
  return T - (K - 1) * s - 1;
}

/**
 * The start frame of each v(s) window for one training step: for s = 2^k, uniform over every
 * valid start 0..maxIntervalStart. `temporalFrameWeights` is the expectation of this draw.
 */
export function sampleIntervalStarts(cfg: Pick<TwoStreamConfig, 'sc' | 'K' | 'frames'>, rng: { int(n: number): number }): number[] {
  return Array.from({ length: cfg.sc }, (_, k) => rng.int(maxIntervalStart(2 ** k, cfg.K, cfg.frames) + 1));
}

/** Centred window starts, one per interval (kept for callers that want one fixed window per s). */
export function centredStarts(cfg: Pick<TwoStreamConfig, 'sc' | 'K' | 'frames'>): number[] {
  return Array.from({ length: cfg.sc }, (_, k) => Math.floor(maxIntervalStart(2 ** k, cfg.K, cfg.frames) / 2));
}

/**
 * Per-frame weights w with v = sum_t w_t f^t, for the aggregate of the v(s):
 * 'mean' gives 1/T each; 'intervals' gives the expected weight of each frame
 * when, as in training, the start of each v(s) is drawn uniformly from every
 * valid start. A fixed centred window would leave frames (the apex among them)
 * with no weight at all, which is not the v that C_e was trained on.
 */
export function temporalFrameWeights(mode: TemporalMode, cfg: Pick<TwoStreamConfig, 'sc' | 'K' | 'frames'>): number[] {
  const T = cfg.frames;
  if (mode === 'mean') return new Array<number>(T).fill(1 / T);
  checkIntervals(cfg);
  const w = new Array<number>(T).fill(0);
  for (let k = 0; k < cfg.sc; k++) {
    const s = 2 ** k;
    const starts = maxIntervalStart(s, cfg.K, T) + 1;
    for (let start = 0; start < starts; start++) {
      for (const t of intervalIndices(start, s, cfg.K, T)) w[t] += 1 / (starts * cfg.K * cfg.sc);
    }
  }
  return w;
}

/** Checks that the largest interval still fits K samples into T frames. */
export function checkIntervals(cfg: Pick<TwoStreamConfig, 'sc' | 'K' | 'frames'>): void {
  const sMax = 2 ** (cfg.sc - 1);
  if (maxIntervalStart(sMax, cfg.K, cfg.frames) < 0) {
    throw new Error(
      `sampling intervals do not fit: s_c=${cfg.sc} gives s up to ${sMax}, and K=${cfg.K} frames spaced ${sMax} apart need ${(cfg.K - 1) * sMax + 1} frames, but T=${cfg.frames}`,
    );
  }
}

export class TwoStreamNet {
  readonly config: TwoStreamConfig;
  readonly features: number;
  readonly mapSize: number;
  /** Spatial stream: apex frame -> last feature map. */
  readonly spatial: tf.LayersModel;
  /** Temporal stream: one frame -> pooled frame feature (applied to all T frames as one batch). */
  readonly temporal: tf.LayersModel;
  /** Expression classifier C_e on z. */
  readonly classifier: tf.LayersModel;

  constructor(config: TwoStreamConfig, readonly name: string) {
    checkIntervals(config);
    this.config = config;
    this.features = resnetFeatures(config.width);
    this.mapSize = resnetMapSize(config.size);
    const common = { size: config.size, channels: config.channels, width: config.width };
    this.spatial = buildResNet18({ ...common, prefix: 'spatial', pool: false });
    this.temporal = buildResNet18({ ...common, prefix: 'temporal', pool: true });
    const zIn = tf.input({ shape: [2 * this.features], name: 'z' });
    const logits = tf.layers
      .dense({ name: 'C_e', units: config.classes, kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed('C_e') }) })
      .apply(zIn) as tf.SymbolicTensor;
    this.classifier = tf.model({ inputs: zIn, outputs: logits, name: 'C_e' });
  }

  /** All weights (trainable and batch-norm statistics), in a fixed order. */
  get weights(): tf.LayerVariable[] {
    return [...this.spatial.weights, ...this.temporal.weights, ...this.classifier.weights];
  }

  /** The variables the optimiser updates. */
  get trainableVariables(): tf.Variable[] {
    const vars = [...this.spatial.trainableWeights, ...this.temporal.trainableWeights, ...this.classifier.trainableWeights];
    return vars.map((w) => (w as unknown as { val: tf.Variable }).val);
  }

  /** Copies all weights (batch-norm statistics included) from another net of the same shape. */
  copyFrom(other: TwoStreamNet): void {
    const src = other.weights;
    const dst = this.weights;
    if (src.length !== dst.length) throw new Error(`copyFrom: ${other.name} has ${src.length} weights, ${this.name} has ${dst.length}`);
    dst.forEach((w, i) => w.write(src[i].read()));
  }

  /**
   * Runs both streams. `apex` is [n, H, W, C] and `frames` [n, T, H, W, C], values
   * scaled as in training (see data/batches). Returned tensors belong to the caller.
   */
  forward(apex: tf.Tensor4D, frames: tf.Tensor5D, opts: ForwardOptions): ForwardResult {
    const { training } = opts;
    const [n, T, H, W, C] = frames.shape;
    if (T !== this.config.frames) throw new Error(`${this.name}: clips have ${T} frames, the model expects T=${this.config.frames}`);
    return tf.tidy(() => {
      const apexMap = applyTrunk(this.spatial, apex, training) as tf.Tensor4D;
      const fA = tf.mean(apexMap, [1, 2]) as tf.Tensor2D;
      const flat = tf.reshape(frames, [n * T, H, W, C]);
      const frameFeatures = tf.reshape(applyTrunk(this.temporal, flat, training), [n, T, this.features]) as tf.Tensor3D;
      let v: tf.Tensor2D;
      const vs: tf.Tensor3D[] = [];
      if (opts.temporal === 'mean') {
        v = tf.mean(frameFeatures, 1) as tf.Tensor2D;
      } else if (opts.starts) {
        for (let k = 0; k < this.config.sc; k++) {
          const idx = intervalIndices(opts.starts[k], 2 ** k, this.config.K, T);
          vs.push(tf.gather(frameFeatures, tf.tensor1d(idx, 'int32'), 1) as tf.Tensor3D);
        }
        v = tf.mean(tf.stack(vs.map((x) => tf.mean(x, 1))), 0) as tf.Tensor2D;
      } else {
        // evaluation: the expectation of the training-time v over all window starts
        const w = tf.tensor3d(temporalFrameWeights('intervals', this.config), [1, T, 1]);
        v = tf.sum(tf.mul(frameFeatures, w), 1) as tf.Tensor2D;
      }
      const z = tf.concat([fA, v], 1);
      const logits = this.classifier.apply(z, { training }) as tf.Tensor2D;
      return { apexMap, fA, frameFeatures, vs, v, z, logits };
    });
  }

  dispose(): void {
    this.spatial.dispose();
    this.temporal.dispose();
    this.classifier.dispose();
  }
}

/** Disposes every tensor of a forward result. */
export function disposeForward(r: ForwardResult): void {
  tf.dispose([r.apexMap, r.fA, r.frameFeatures, ...r.vs, r.v, r.z, r.logits]);
}
