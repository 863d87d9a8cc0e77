/**
 * The custom layer of saved MiNet checkpoints, in a module without Node
 * imports so a browser bundle can register it before `tf.loadLayersModel`.
 */
import * as tf from '@tensorflow/tfjs';
import { temporalFrameWeights, type TemporalMode } from './twostream.js';

export interface TemporalAggregateArgs {
  /** 'mean' over all frames, or 'intervals': the expected aggregate of the v(s) over every window start. */
  mode: TemporalMode;
  /** Frames T. */
  frames: number;
  /** s_c. */
  sc: number;
  /** K, frame features per v(s) (a lower-case key: layer configs are stored snake_case, and `K` would not survive). */
  samples: number;
  name?: string;
}

/**
 * Frame features [batch, T, F] -> video feature v [batch, F], as MiNet forms v
 * at evaluation: the plain mean before guidance, the aggregate of the v(s)
 * (averaged over every valid window start, as training draws them) after it.
 */
export class TemporalAggregate extends tf.layers.Layer {
  static readonly className = 'TemporalAggregate';
  readonly mode: TemporalMode;
  readonly frames: number;
  readonly sc: number;
  readonly samples: number;

  constructor(args: TemporalAggregateArgs) {
    super(args);
    this.mode = args.mode;
    this.frames = args.frames;
    this.sc = args.sc;
    this.samples = args.samples;
  }

  /** Per-frame weights that give the same v as the chosen aggregation: v = sum_t w_t f^t. */
  frameWeights(): number[] {
    return temporalFrameWeights(this.mode, { sc: this.sc, K: this.samples, frames: this.frames });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [s[0], s[2]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => {
      const w = tf.tensor3d(this.frameWeights(), [1, this.frames, 1]);
      return tf.sum(tf.mul(x, w), 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode, frames: this.frames, sc: this.sc, samples: this.samples };
  }
}
tf.serialization.registerClass(TemporalAggregate);
