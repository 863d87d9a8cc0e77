import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useFastBatchNorm } from '../src/model/batchnorm.js';
import { useCpu, numTensors } from './helpers.js';

beforeAll(useCpu);

function pair(shape: number[] = [1, 2, 2, 3]): [tf.layers.Layer, tf.layers.Layer] {
  const make = (): tf.layers.Layer => tf.layers.batchNormalization({ axis: -1, epsilon: 1e-5, momentum: 0.9, gammaInitializer: 'randomNormal', betaInitializer: 'randomNormal' });
  const a = make();
  const b = useFastBatchNorm(make());
  const x = tf.zeros([1, ...shape.slice(1)]);
  a.apply(x);
  b.apply(x);
  b.setWeights(a.getWeights());
  // non-trivial moving statistics
  const mv = [tf.tensor1d([0.1, -0.2, 0.3]), tf.tensor1d([1.5, 0.7, 2.0])];
  a.setWeights([a.getWeights()[0], a.getWeights()[1], ...mv]);
  b.setWeights(a.getWeights());
  return [a, b];
}

describe('closed-form batch-norm gradient', () => {
  for (const shape of [[2, 3, 5, 3], [1, 4, 4, 3], [6, 3]]) {
    it(`matches the stock layer in output, gradients and moving statistics for input ${JSON.stringify(shape)}`, () => {
      const [stock, fast] = pair(shape);
      const x = tf.randomNormal(shape, 0.5, 2, 'float32', 11);
      const w = tf.randomNormal(shape, 0, 1, 'float32', 12);
      const lossOf = (layer: tf.layers.Layer) => () => tf.sum(tf.mul(w, tf.square(layer.apply(x, { training: true }) as tf.Tensor))) as tf.Scalar;
      const varsOf = (layer: tf.layers.Layer): tf.Variable[] => layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
      const gs = tf.variableGrads(lossOf(stock), varsOf(stock));
      const gf = tf.variableGrads(lossOf(fast), varsOf(fast));
      expect(gf.value.dataSync()[0]).toBeCloseTo(gs.value.dataSync()[0], 3);
      const close = (p: tf.Tensor, q: tf.Tensor): void => {
        const pd = p.dataSync();
        const qd = q.dataSync();
        expect(pd.length).toBe(qd.length);
        pd.forEach((v, i) => expect(v).toBeCloseTo(qd[i], 3));
      };
      const sv = varsOf(stock);
      const fv = varsOf(fast);
      sv.forEach((v, i) => close(gf.grads[fv[i].name], gs.grads[v.name]));
      // input gradient
      const dxs = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(w, tf.square(stock.apply(v, { training: true }) as tf.Tensor))))(x);
      const dxf = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(w, tf.square(fast.apply(v, { training: true }) as tf.Tensor))))(x);
      close(dxf, dxs);
      // each layer has now run three training calls: moving statistics must agree
      stock.getWeights().slice(2).forEach((t, i) => close(fast.getWeights()[2 + i], t));
      // inference uses the moving statistics, identically
      close(fast.apply(x, { training: false }) as tf.Tensor, stock.apply(x, { training: false }) as tf.Tensor);
    });
  }

  it('leaves no tensors behind in training', () => {
    const [, fast] = pair();
    const x = tf.randomNormal([2, 3, 3, 3]);
    const vars = fast.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
    const before = numTensors();
    const g = tf.variableGrads(() => tf.sum(fast.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
    tf.dispose([g.value, ...Object.values(g.grads)]);
    expect(numTensors()).toBe(before);
  });
});
