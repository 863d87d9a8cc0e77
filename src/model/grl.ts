/**
 * Gradient reversal layer (Ganin and Lempitsky 2015), used between MiNet's
 * features and the domain discriminators D_s and D_t (paper 2.3, 2.4): the
 * identity going forward, -lambda times the gradient going back, so the
 * discriminator learns to tell micro from macro while MiNet learns to fool it.
 */
import * as tf from '@tensorflow/tfjs';

/** Identity forward; gradient multiplied by -lambda backward. */
export function gradientReversal<T extends tf.Tensor>(x: T, lambda: number): T {
  const f = tf.customGrad(((input: tf.Tensor) => {
    // clone: returning the input itself would cut it out of the gradient tape
    return { value: input.clone(), gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.scalar(-lambda)) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as T;
}

/**
 * DANN schedule of the reversal coefficient: lambda(p) = 2 / (1 + exp(-gamma p)) - 1
 * for training progress p in [0, 1], ramping from 0 to about 1 so that the
 * untrained discriminator does not disturb MiNet early on.
 */
/** How the reversal coefficient lambda moves over fine-tuning. */
export interface GrlSchedule {
  /** 'dann': lambda ramps 2/(1+exp(-10p))-1 over fine-tuning progress p; 'constant': fixed. Default 'dann'. */
  schedule: 'dann' | 'constant';
  /** Maximum (or constant) reversal coefficient. Default 1. */
  lambda: number;
}

export function dannLambda(progress: number, gamma = 10): number {
  const p = Math.min(1, Math.max(0, progress));
  return 2 / (1 + Math.exp(-gamma * p)) - 1;
}

export interface GradientReversalArgs {
  /** Scale of the reversed gradient. Default 1. */
  lambda?: number;
  name?: string;
}

/** Layer form of the reversal, serialisable with a layers model. */
export class GradientReversal extends tf.layers.Layer {
  static readonly className = 'GradientReversal';
  lambda: number;

  constructor(args: GradientReversalArgs = {}) {
    super(args);
    this.lambda = args.lambda ?? 1;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return gradientReversal(x, this.lambda);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), lambda: this.lambda };
  }
}
tf.serialization.registerClass(GradientReversal);
