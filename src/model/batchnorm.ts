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
import { fastPaths } from '../backend/fast-paths.js';

/**
 * y = gamma x^ + beta over all axes but the last (then max(0, y) when `relu`), with the
 * closed-form gradient. Returns y, batch mean and (biased) variance. On the native backend both
 * directions are single passes in the addon (see backend/fast-paths); elsewhere they are tensor ops.
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number, relu = false): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.size / x.shape[x.shape.length - 1];
  let mean: tf.Tensor1D | undefined;
  let variance: tf.Tensor1D | undefined;
  // Saved tensors live until the backward pass reaches this layer, so the forward keeps one
  // full-size tensor (its input) and the backward recomputes x^ (and the ReLU mask) from it.
  const f = tf.customGrad(((input: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const native = fastPaths.batchNormTrain?.(input, g, b, epsilon, relu) ?? null;
    if (native) {
      mean = tf.keep(native.mean);
      variance = tf.keep(native.variance);
      save([input, native.mean, native.invStd, g, b]);
      return {
        value: native.y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sm, sInvStd, sg, sb] = saved;
          const grads = fastPaths.batchNormGrad?.(sx, dy, sm, sInvStd, sg, sb, relu) ?? null;
          if (!grads) throw new Error('batch norm: the native backend was switched off between the forward and backward pass');
          return grads;
        },
      };
    }
    const m = tf.mean(input, axes) as tf.Tensor1D;
    const v = tf.tidy(() => tf.mean(tf.squaredDifference(input, m), axes)) as tf.Tensor1D;
    const invStd = tf.tidy(() => tf.rsqrt(tf.add(v, epsilon))) as tf.Tensor1D;
    const y = relu ? tf.tidy(() => tf.relu(tf.batchNorm(input, m, v, b, g, epsilon))) : tf.batchNorm(input, m, v, b, g, epsilon);
    mean = tf.keep(m);
    variance = tf.keep(v);
    save([input, m, invStd, g, b]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sx, sm, sInvStd, sg, sb] = saved;
          const xhat = tf.mul(tf.sub(sx, sm), sInvStd);
          // the ReLU passes the gradient only where its input gamma x^ + beta was positive
          const g0 = relu ? tf.mul(dy, tf.step(tf.add(tf.mul(xhat, sg), sb))) : dy;
          const dbeta = tf.sum(g0, axes);
          const dgamma = tf.sum(tf.mul(g0, xhat), axes);
          const inner = tf.sub(tf.sub(g0, tf.div(dbeta, count)), tf.mul(xhat, tf.div(dgamma, count)));
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

/** Outputs of batch norm layers that already applied the ReLU of the layer after them. */
const reluApplied = new WeakSet<tf.Tensor>();

/**
 * Gives a channel-last BatchNormalization layer the closed-form training gradient. With `relu`
 * (the ReLU layer that follows it), a training call applies the ReLU inside the batch norm, which
 * then saves only its input for the backward pass, and the ReLU layer passes such outputs through
 * unchanged (max(0, .) of them is themselves). Inference runs the stock layers, or on the native
 * backend the normalisation and ReLU as one pass. Returns the layer.
 */
export function useFastBatchNorm(layer: tf.layers.Layer, relu?: tf.layers.Layer): tf.layers.Layer {
  const bn = layer as unknown as BatchNormInternals;
  const stock = bn.call.bind(layer);
  const fuse = relu != null && (relu as unknown as { maxValue?: number | null }).maxValue == null;
  bn.call = (inputs, kwargs) => {
    const training = Boolean(kwargs?.training);
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const channelLast = bn.axis === -1 || bn.axis === x.rank - 1;
    if (!channelLast || !bn.center || !bn.scale) return stock(inputs, kwargs);
    if (!training) {
      // inference: with the ReLU fused, normalisation and ReLU in one pass where the backend offers it
      const y = fuse
        ? fastPaths.batchNormApply?.(x, bn.movingMean.read() as tf.Tensor1D, bn.movingVariance.read() as tf.Tensor1D,
          bn.gamma.read() as tf.Tensor1D, bn.beta.read() as tf.Tensor1D, bn.epsilon, true) ?? null
        : null;
      if (!y) return stock(inputs, kwargs);
      reluApplied.add(y);
      return y;
    }
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTrain(x, bn.gamma.read() as tf.Tensor1D, bn.beta.read() as tf.Tensor1D, bn.epsilon, fuse);
      // moving statistics as the stock layer keeps them: old - (old - batch) * (1 - momentum)
      const decay = 1 - bn.momentum;
      for (const [variable, value] of [[bn.movingMean, mean], [bn.movingVariance, variance]] as const) {
        const old = variable.read();
        variable.write(tf.sub(old, tf.mul(tf.sub(old, value), decay)));
      }
      tf.dispose([mean, variance]);
      if (fuse) reluApplied.add(y);
      return y;
    });
  };
  if (fuse) {
    const r = relu as unknown as { call: BatchNormInternals['call'] };
    const stockRelu = r.call.bind(relu);
    r.call = (inputs, kwargs) => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return reluApplied.has(x) ? x.clone() : stockRelu(inputs, kwargs);
    };
  }
  return layer;
}
