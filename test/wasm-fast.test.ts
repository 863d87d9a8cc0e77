import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.js';

async function onBoth<T>(fn: () => T): Promise<[T, T]> {
  await initBackend('cpu');
  const a = fn();
  await initBackend('wasm');
  const b = fn();
  return [a, b];
}

describe('wasm Identity and Slice replacements', () => {
  it('slices like the cpu backend: contiguous, strided, 1-D to 5-D, empty', async () => {
    const cases: Array<[number[], number[], number[]]> = [
      [[10], [3], [4]],
      [[4, 5], [1, 2], [2, 3]],
      [[4, 5], [1, 0], [2, 5]],
      [[3, 4, 5], [1, 1, 2], [2, 2, 3]],
      [[2, 3, 4, 5], [0, 1, 1, 1], [2, 2, 2, 4]],
      [[2, 3, 4, 5, 3], [1, 0, 2, 1, 0], [1, 3, 2, 3, 2]],
      [[4, 5], [1, 2], [0, 3]],
    ];
    for (const [shape, begin, size] of cases) {
      const [cpu, wasm] = await onBoth(() => {
        const n = shape.reduce((a, b) => a * b, 1);
        const x = tf.tensor(Array.from({ length: n }, (_, i) => i * 0.5 - 3), shape);
        const y = tf.slice(x, begin, size);
        return { data: Array.from(y.dataSync()), shape: y.shape };
      });
      expect(wasm).toEqual(cpu);
    }
  });

  it('identity aliases without copying and survives disposing the source', async () => {
    await initBackend('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    const before = tf.memory().numBytes;
    const z = tf.clone(y);
    expect(Array.from(z.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
    z.dispose();
    expect(tf.memory().numBytes).toBeLessThanOrEqual(before);
  });

  it('gradients through saved tensors match the cpu backend', async () => {
    const [cpu, wasm] = await onBoth(() => {
      const x = tf.tensor2d([[0.5, -1, 2], [1.5, 0.2, -0.3]]);
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.exp(v), tf.square(tf.slice(v, [0, 1], [2, 2])).pad([[0, 0], [1, 0]]))))(x);
      return Array.from(g.dataSync());
    });
    wasm.forEach((v, i) => expect(v).toBeCloseTo(cpu[i], 4));
  });
});
