import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { withEarlyRelease } from '../src/train/release.js';
import { useFastBatchNorm } from '../src/model/batchnorm.js';
import { gradientReversal } from '../src/model/grl.js';
import { useCpu, numTensors, randn } from './helpers.js';

beforeAll(useCpu);

/** A small net with the kinds of nodes a training step has: conv, fused batch norm + ReLU, pooling, a residual add, concat, gradient reversal, dense. */
function makeNet(): { vars: tf.Variable[]; loss: () => tf.Scalar } {
  const v = (shape: number[], seed: number) => tf.variable(tf.tensor(randn(shape.reduce((a, b) => a * b, 1), seed), shape).mul(0.3));
  const w1 = v([3, 3, 2, 4], 1), w2 = v([3, 3, 4, 4], 2), dense = v([4 * 4 * 8, 3], 3);
  const relu = tf.layers.reLU();
  const bn = useFastBatchNorm(tf.layers.batchNormalization({ axis: -1, momentum: 0.9 }), relu);
  const x = tf.tensor(randn(2 * 8 * 8 * 2, 4), [2, 8, 8, 2]);
  const labels = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
  bn.apply(tf.zeros([1, 8, 8, 4]));
  const bnVars = bn.trainableWeights.map((t) => (t as unknown as { val: tf.Variable }).val);
  const loss = (): tf.Scalar => {
    let y = tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same');
    y = relu.apply(bn.apply(y, { training: true }), { training: true }) as tf.Tensor4D;
    const r = tf.conv2d(y as tf.Tensor4D, w2 as tf.Tensor4D, 1, 'same');
    y = tf.relu(tf.add(r, y));
    y = tf.maxPool(y as tf.Tensor4D, 2, 2, 'same');
    const both = tf.concat([y, gradientReversal(tf.mul(y, y), 0.5)], -1);
    const logits = tf.matMul(tf.reshape(both, [2, -1]), dense);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  };
  return { vars: [w1, w2, dense, ...bnVars], loss };
}

function gradsOf(net: { vars: tf.Variable[]; loss: () => tf.Scalar }, early: boolean): Float32Array[] {
  const run = () => tf.variableGrads(net.loss, net.vars);
  const { value, grads } = early ? withEarlyRelease(run) : run();
  const out = net.vars.map((v) => Float32Array.from(grads[v.name].dataSync()));
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

describe('early release in the backward pass', () => {
  it('gives the same gradients, bit for bit, as the stock backward pass', () => {
    const net = makeNet();
    const stock = gradsOf(net, false);
    const early = gradsOf(net, true);
    expect(early.map((g) => Array.from(g))).toEqual(stock.map((g) => Array.from(g)));
    expect(stock.every((g) => g.some((x) => x !== 0))).toBe(true);
  });

  it('holds less and less as the backward pass proceeds, and leaves no tensor behind', async () => {
    // a deep chain of large intermediates: the stock pass keeps every saved input and every
    // intermediate gradient to its end; with early release they go as the pass leaves them
    const w = tf.variable(tf.scalar(1.01));
    const x = tf.randomNormal([64, 64, 64]);
    const loss = (): tf.Scalar => {
      let y: tf.Tensor = x;
      for (let i = 0; i < 12; i++) y = tf.sin(tf.mul(y, w));
      return tf.sum(y);
    };
    /** Bytes the engine holds at the last kernel of the backward pass. */
    const heldAtEnd = async (early: boolean): Promise<number> => {
      const info = await tf.profile(() => {
        const run = () => tf.variableGrads(loss, [w]);
        const { value, grads } = early ? withEarlyRelease(run) : run();
        tf.dispose([value, ...Object.values(grads)]);
      });
      return info.kernels[info.kernels.length - 1].totalBytesSnapshot;
    };
    const before = numTensors();
    const stock = await heldAtEnd(false);
    const early = await heldAtEnd(true);
    expect(numTensors()).toBe(before);
    const one = 64 * 64 * 64 * 4;
    expect(stock).toBeGreaterThan(24 * one); // 12 saved inputs of Mul and 12 of Sin, at least
    expect(early).toBeLessThan(8 * one);
    tf.dispose([w, x]);
  });

  it('stays correct when a gradient is taken inside the step (nested tapes are left alone)', () => {
    const w = tf.variable(tf.tensor1d([0.5, -1.5, 2]));
    const loss = (): tf.Scalar => {
      // d/dv sum(v^3) = 3 v^2, itself differentiated by the outer pass
      const inner = tf.grad((v: tf.Tensor) => tf.sum(tf.pow(v, 3)))(w);
      return tf.sum(tf.mul(inner, tf.sin(w)));
    };
    const g = (early: boolean) => {
      const run = () => tf.variableGrads(loss, [w]);
      const r = early ? withEarlyRelease(run) : run();
      const out = Array.from(r.grads[w.name].dataSync());
      tf.dispose([r.value, ...Object.values(r.grads)]);
      return out;
    };
    const stock = g(false);
    expect(g(true)).toEqual(stock);
    // by hand: d/dw [3 w^2 sin w] = 6 w sin w + 3 w^2 cos w
    [0.5, -1.5, 2].forEach((v, i) => expect(stock[i]).toBeCloseTo(6 * v * Math.sin(v) + 3 * v * v * Math.cos(v), 4));
    w.dispose();
  });

  it('restores the engine afterwards, also when the step throws', () => {
    const engine = tf.engine() as unknown as Record<string, unknown>;
    expect(() => withEarlyRelease(() => { throw new Error('boom'); })).toThrow('boom');
    expect(Object.prototype.hasOwnProperty.call(engine, 'addTapeNode')).toBe(false);
  });
});
