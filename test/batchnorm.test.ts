import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useFastBatchNorm } from '../src/model/batchnorm.js';
import { existsSync } from 'node:fs';
import { initBackend } from '../src/backend/index.js';
import { NATIVE_ADDON_PATH } from '../src/backend/native.js';
import { useCpu, numTensors, randn } from './helpers.js';

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

const nativeBuilt = existsSync(NATIVE_ADDON_PATH);

describe('batch norm with the following ReLU fused into it', () => {
  const cases = [
    ...['cpu', ...(nativeBuilt ? ['native'] : [])].flatMap((backend) => [false, true].map((fuse) => ({ backend, fuse }))),
  ];
  it.each(cases)('matches stock batch norm then ReLU in output, gradients and moving statistics: %o', async ({ backend, fuse }) => {
    if (backend === 'native') await initBackend('native');
    else await tf.setBackend('cpu');
    try {
      const shape = [3, 5, 4, 6];
      const make = (): tf.layers.Layer => tf.layers.batchNormalization({ axis: -1, epsilon: 1e-5, momentum: 0.9, gammaInitializer: 'randomNormal', betaInitializer: 'randomNormal' });
      const stock = make();
      const relu = tf.layers.reLU();
      const fast = useFastBatchNorm(make(), fuse ? relu : undefined);
      const x = tf.tensor(randn(3 * 5 * 4 * 6, 21), shape).mul(2).add(0.5);
      stock.apply(x);
      fast.apply(x);
      fast.setWeights(stock.getWeights());
      const w = tf.tensor(randn(3 * 5 * 4 * 6, 22), shape);
      const netStock = (v: tf.Tensor, training: boolean) => tf.relu(stock.apply(v, { training }) as tf.Tensor);
      const netFast = (v: tf.Tensor, training: boolean) => relu.apply(fast.apply(v, { training }), { training }) as tf.Tensor;
      const close = (p: tf.Tensor, q: tf.Tensor, what: string): void => {
        const pd = p.dataSync();
        const qd = q.dataSync();
        expect(pd.length, what).toBe(qd.length);
        pd.forEach((v, i) => expect(v, `${what} [${i}]`).toBeCloseTo(qd[i], 4));
      };
      const varsOf = (layer: tf.layers.Layer): tf.Variable[] => layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
      const lossOf = (net: typeof netStock) => () => tf.sum(tf.mul(w, net(x, true))) as tf.Scalar;
      const gs = tf.variableGrads(lossOf(netStock), varsOf(stock));
      const gf = tf.variableGrads(lossOf(netFast), varsOf(fast));
      close(gf.value, gs.value, 'loss');
      varsOf(stock).forEach((v, i) => close(gf.grads[varsOf(fast)[i].name], gs.grads[v.name], `d${v.name}`));
      close(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(w, netFast(v, true))))(x), tf.grad((v: tf.Tensor) => tf.sum(tf.mul(w, netStock(v, true))))(x), 'dx');
      // some outputs are cut by the ReLU, so the mask matters
      const y = netFast(x, true);
      expect(y.dataSync().filter((v) => v === 0).length).toBeGreaterThan(20);
      close(y, netStock(x, true), 'training output');
      stock.getWeights().slice(2).forEach((t, i) => close(fast.getWeights()[2 + i], t, 'moving statistics'));
      close(netFast(x, false), netStock(x, false), 'inference output');
      // the ReLU layer still applies max(0, .) to anything else
      close(relu.apply(tf.tensor1d([-1, 2, -3])) as tf.Tensor, tf.tensor1d([0, 2, 0]), 'ReLU of other input');
      const before = numTensors();
      const g = tf.variableGrads(lossOf(netFast), varsOf(fast));
      tf.dispose([g.value, ...Object.values(g.grads)]);
      expect(numTensors(), 'tensors left by a training step').toBe(before);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
