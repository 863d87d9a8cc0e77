import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { FlatAdam } from '../src/train/optimizer.js';
import { useCpu, numTensors } from './helpers.js';

beforeAll(useCpu);

/** Adam written out per scalar, as in Kingma and Ba with PyTorch's epsilon placement. */
function adamByHand(p: number[], grads: number[][], lr: number, eps: number): number[] {
  const b1 = 0.9;
  const b2 = 0.999;
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const x = [...p];
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < x.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const mh = m[i] / (1 - b1 ** t);
      const vh = v[i] / (1 - b2 ** t);
      x[i] -= (lr * mh) / (Math.sqrt(vh) + eps);
    }
  });
  return x;
}

describe('FlatAdam', () => {
  it('follows Adam step by step over several variables of different shapes', () => {
    const a = tf.variable(tf.tensor2d([[1, -2], [0.5, 3]]));
    const b = tf.variable(tf.tensor1d([0.1, -0.4, 2]));
    const opt = new FlatAdam([a, b], { lr: 0.05, epsilon: 1e-3 });
    const target = [0.3, 0.2, -0.1, 1, 0, 0, 0];
    const history: number[][] = [];
    const start = [...a.dataSync(), ...b.dataSync()];
    for (let k = 0; k < 3; k++) {
      // loss = sum (p - target)^2 * (index + 1): gradient 2 (p - target)(index + 1)
      const cur = [...a.dataSync(), ...b.dataSync()];
      history.push(cur.map((p, i) => 2 * (p - target[i]) * (i + 1)));
      const w = tf.tensor1d(target.map((_, i) => i + 1));
      const loss = opt.minimize(() => tf.sum(tf.mul(w, tf.square(tf.sub(tf.concat([tf.reshape(a, [-1]), b]), tf.tensor1d(target))))) as tf.Scalar);
      loss.dispose();
      w.dispose();
    }
    const expected = adamByHand(start, history, 0.05, 1e-3);
    const got = [...a.dataSync(), ...b.dataSync()];
    got.forEach((g, i) => expect(g).toBeCloseTo(expected[i], 5));
    opt.dispose();
  });

  it('keeps the tensor count flat across steps', () => {
    const a = tf.variable(tf.randomNormal([4, 3]));
    const opt = new FlatAdam([a], { lr: 0.01 });
    opt.minimize(() => tf.sum(tf.square(a)) as tf.Scalar).dispose();
    const before = numTensors();
    for (let k = 0; k < 3; k++) opt.minimize(() => tf.sum(tf.square(a)) as tf.Scalar).dispose();
    expect(numTensors()).toBe(before);
    opt.dispose();
  });
});
