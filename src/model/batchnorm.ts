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
  const f = tf.customGrad(((input: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const m = tf.mean(input, axes) as tf.Tensor1D;
    const centred = tf.sub(input, m);
    const v = tf.mean(tf.square(centred), axes) as tf.Tensor1D;
    const invStd = tf.rsqrt(tf.add(v, epsilon));
    const xhat = tf.mul(centred, invStd);
    const y = tf.add(tf.mul(xhat, g), b);
    mean = tf.keep(m);
    variance = tf.keep(v);
    save([xhat, invStd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxhat, sInvStd, sg] = saved;
        const dbeta = tf.sum(dy, axes);
        const dgamma = tf.sum(tf.mul(dy, sxhat), axes);
        const inner = tf.sub(tf.sub(dy, tf.div(dbeta, count)), tf.mul(sxhat, tf.div(dgamma, count)));
        const dx = tf.mul(inner, tf.mul(sg, sInvStd));
        return [dx, dgamma, dbeta];
      },
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
