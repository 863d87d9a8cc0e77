/**
 * A faster training path for batch normalisation over the channel axis.
 *
 * TensorFlow.js differentiates batch-norm training through moments and
 * broadcasting ops, about thirty small kernels per layer going back. Here the
 * gradient is written out once:
 *   x^ = (x - mean) / sqrt(var + eps),  y = gamma x^ + beta
 *   dbeta = sum dy,  dgamma = sum dy x^
 *   dx = gamma / sqrt(var + eps) * (dy - dbeta / N - x^ dgamma / N)
 * The layer stays a stock `BatchNormalization` (same config, weights and
 * inference), so checkpoints load anywhere; only its training call changes.
 */
import * as tf from '@tensorflow/tfjs';

/** y = gamma x^ + beta over all axes but the last, with the closed-form gradient. Returns y, batch mean and (biased) variance. */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.size / x.shape[x.shape.length - 1];
  let mean: tf.Tensor1D | undefined;
  let variance: tf.Tensor1D | undefined;
  // Every tensor made here lives until the whole backward pass ends (one tidy
  // spans forward and backward), so the forward keeps one full-size output (y)
  // and the backward recomputes x^ from x and the per-channel statistics.
  const f = tf.customGrad(((input: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const m = tf.mean(input, axes) as tf.Tensor1D;
    const v = tf.tidy(() => tf.mean(tf.squaredDifference(input, m), axes)) as tf.Tensor1D;
    const invStd = tf.tidy(() => tf.rsqrt(tf.add(v, epsilon))) as tf.Tensor1D;
    const y = tf.batchNorm(input, m, v, b, g, epsilon);
    mean = tf.keep(m);
    variance = tf.keep(v);
    save([input, m, invStd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sx, sm, sInvStd, sg] = saved;
          const xhat = tf.mul(tf.sub(sx, sm), sInvStd);
          const dbeta = tf.sum(dy, axes);
          const dgamma = tf.sum(tf.mul(dy, xhat), axes);
          const inner = tf.sub(tf.sub(dy, tf.div(dbeta, count)), tf.mul(xhat, tf.div(dgamma, count)));
          return [tf.mul(inner, tf.mul(sg, sInvStd)), dgamma, dbeta];
        }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = f(x, gamma, beta);
  return { y, mean: mean!, variance: variance! };
}

interface BatchNormInternals {
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
  momentum: number;
  epsilon: number;
  axis: number;
  center: boolean;
  scale: boolean;
  call: (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
}

/** Gives a channel-last BatchNormalization layer the closed-form training gradient. Returns the layer. */
export function useFastBatchNorm(layer: tf.layers.Layer): tf.layers.Layer {
  const bn = layer as unknown as BatchNormInternals;
  const stock = bn.call.bind(layer);
  bn.call = (inputs, kwargs) => {
    const training = Boolean(kwargs?.training);
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const channelLast = bn.axis === -1 || bn.axis === x.rank - 1;
    if (!training || !channelLast || !bn.center || !bn.scale) return stock(inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTrain(x, bn.gamma.read() as tf.Tensor1D, bn.beta.read() as tf.Tensor1D, bn.epsilon);
      // moving statistics as the stock layer keeps them: old - (old - batch) * (1 - momentum)
      const decay = 1 - bn.momentum;
      for (const [variable, value] of [[bn.movingMean, mean], [bn.movingVariance, variance]] as const) {
        const old = variable.read();
        variable.write(tf.sub(old, tf.mul(tf.sub(old, value), decay)));
      }
      tf.dispose([mean, variance]);
      return y;
    });
  };
  return layer;
}
