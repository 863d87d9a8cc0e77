import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.js';
import { NATIVE_ADDON_PATH, NATIVE_KERNELS, broadcastPlan, loadNativeAddon, reductionPlan } from '../src/backend/native.js';
import { Worker } from 'node:worker_threads';
import { FlatAdam } from '../src/train/optimizer.js';
import { numTensors, randn } from './helpers.js';

// The addon is optional (built by `node native/build.mjs`); without it these tests are skipped.
const built = existsSync(NATIVE_ADDON_PATH);

const size = (s: number[]) => s.reduce((p, d) => p * d, 1);

async function on(backend: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<{ vals: Float32Array[]; shapes: number[][] }> {
  await tf.setBackend(backend);
  const out = tf.tidy(fn);
  const list = Array.isArray(out) ? out : [out];
  const r = { vals: list.map((t) => Float32Array.from(t.dataSync())), shapes: list.map((t) => t.shape) };
  tf.dispose(list);
  return r;
}

function expectClose(a: Float32Array, b: Float32Array, label: string, tol = 1e-4): void {
  expect(a.length, `${label}: length`).toBe(b.length);
  let scale = 0, err = 0;
  for (let i = 0; i < b.length; i++) {
    if (Number.isNaN(b[i])) { expect(Number.isNaN(a[i]), `${label}: NaN at ${i}`).toBe(true); continue; }
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  expect(err, `${label}: max abs error (scale ${scale})`).toBeLessThanOrEqual(tol * Math.max(scale, 1e-6));
}

/** Same values and shapes on the native backend as on the cpu backend. */
async function matchesCpu(fn: () => tf.Tensor | tf.Tensor[], label: string, tol = 1e-4): Promise<void> {
  const cpu = await on('cpu', fn);
  const nat = await on('native', fn);
  expect(nat.shapes, `${label}: shapes`).toEqual(cpu.shapes);
  nat.vals.forEach((v, i) => expectClose(v, cpu.vals[i], `${label} #${i}`, tol));
}

/** Runs CommonJS `code` in a worker thread (`input` in scope, `out(value)` replies) and resolves with its reply. */
function inWorker<T>(code: string, input: unknown = null): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(`const { parentPort, workerData: input } = require('node:worker_threads'); const out = (v) => parentPort.postMessage(v); ${code}`, { eval: true, workerData: input });
    w.once('message', (v: T) => { resolve(v); void w.terminate(); });
    w.once('error', reject);
  });
}

interface ConvCase { b: number; h: number; w: number; ci: number; co: number; k: number; s: number; pad: 'same' | 'valid' | number; d?: number }

const CONV_CASES: ConvCase[] = [
  { b: 1, h: 7, w: 9, ci: 3, co: 5, k: 3, s: 1, pad: 'same' },
  { b: 1, h: 7, w: 9, ci: 3, co: 5, k: 3, s: 1, pad: 'valid' },
  { b: 2, h: 13, w: 11, ci: 4, co: 6, k: 3, s: 2, pad: 'same' },
  { b: 2, h: 13, w: 11, ci: 4, co: 6, k: 3, s: 2, pad: 'valid' },
  { b: 3, h: 8, w: 10, ci: 5, co: 3, k: 3, s: 2, pad: 'valid' },
  { b: 1, h: 9, w: 9, ci: 6, co: 7, k: 1, s: 1, pad: 'valid' },
  { b: 2, h: 11, w: 9, ci: 5, co: 4, k: 1, s: 2, pad: 'same' },
  { b: 2, h: 15, w: 17, ci: 3, co: 40, k: 7, s: 2, pad: 'same' },
  { b: 1, h: 15, w: 13, ci: 2, co: 3, k: 7, s: 1, pad: 'valid' },
  { b: 2, h: 12, w: 11, ci: 3, co: 4, k: 7, s: 2, pad: 3 },
  { b: 2, h: 9, w: 10, ci: 37, co: 33, k: 3, s: 1, pad: 'same' }, // several GEMM tiles with ragged edges
];

const label = (c: object) => JSON.stringify(c);

describe.skipIf(!built)('native backend', () => {
  beforeAll(async () => {
    await initBackend('native');
  });

  it('initBackend("native") reports the backend and honours threads', async () => {
    const one = await initBackend('native', { threads: 1 });
    expect(one.name).toBe('native');
    expect(one.threads).toBe(1);
    const two = await initBackend('native', { threads: 2 });
    expect(two.threads).toBe(2);
    expect(tf.getBackend()).toBe('native');
    for (const k of NATIVE_KERNELS) expect(tf.getKernel(k.kernelName, 'native')?.kernelFunc, k.kernelName).toBe(k.kernelFunc);
    // Kernels it does not replace are the cpu ones.
    expect(tf.getKernel('Transpose', 'native')?.kernelFunc).toBe(tf.getKernel('Transpose', 'cpu')?.kernelFunc);
  });

  it.each(CONV_CASES)('Conv2D, FusedConv2D and both conv gradients match cpu: %o', async (c) => {
    const xShape = [c.b, c.h, c.w, c.ci] as [number, number, number, number];
    const fShape = [c.k, c.k, c.ci, c.co] as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(xShape, fShape, c.s, 1, c.pad);
    const xv = randn(size(xShape), 1), wv = randn(size(fShape), 2), dyv = randn(size(info.outShape), 3), bv = randn(c.co, 4);
    await matchesCpu(() => {
      const x = tf.tensor4d(xv, xShape), w = tf.tensor4d(wv, fShape), dy = tf.tensor4d(dyv, info.outShape);
      return [
        tf.conv2d(x, w, c.s, c.pad),
        tf.fused.conv2d({ x, filter: w, strides: c.s, pad: c.pad, bias: tf.tensor1d(bv), activation: 'relu' }),
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w },
          { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: xShape }) as tf.Tensor,
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
          { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: fShape }) as tf.Tensor,
      ];
    }, label(c));
  });

  it('Conv2D with dilation 2 matches cpu', async () => {
    const xv = randn(2 * 11 * 10 * 3, 5), wv = randn(3 * 3 * 3 * 4, 6);
    for (const pad of ['same', 'valid'] as const) {
      await matchesCpu(() => tf.conv2d(tf.tensor4d(xv, [2, 11, 10, 3]), tf.tensor4d(wv, [3, 3, 3, 4]), 1, pad, 'NHWC', 2), `dilated ${pad}`);
    }
  });

  it('Conv2D agrees with a hand-computed case', async () => {
    await tf.setBackend('native');
    // 2x2 image, 2x2 filter of ones, valid: the sum of the image; one output channel doubled.
    const y = tf.conv2d(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), tf.tensor4d([1, 2, 1, 2, 1, 2, 1, 2], [2, 2, 1, 2]), 1, 'valid');
    expect(Array.from(y.dataSync())).toEqual([10, 20]);
    y.dispose();
  });

  it('matmul kernels match cpu with transposes, batches, broadcast and fused bias + relu', async () => {
    const a = randn(3 * 7 * 13, 7), b = randn(3 * 13 * 9, 8), bias = randn(9, 9);
    await matchesCpu(() => {
      const A = tf.tensor3d(a, [3, 7, 13]), B = tf.tensor3d(b, [3, 13, 9]);
      const A2 = tf.tensor2d(a.subarray(0, 7 * 13), [7, 13]);
      return [
        tf.matMul(A, B),
        tf.matMul(tf.transpose(A, [0, 2, 1]), B, true, false),
        tf.matMul(A, tf.transpose(B, [0, 2, 1]), false, true),
        tf.matMul(tf.transpose(A2), tf.transpose(tf.tensor2d(b.subarray(0, 13 * 9), [13, 9])), true, true),
        tf.matMul(A2, B), // one matrix against a batch
        tf.fused.matMul({ a: A2, b: tf.tensor2d(b.subarray(0, 13 * 9), [13, 9]), bias: tf.tensor1d(bias), activation: 'relu' }),
      ];
    }, 'matmul');
  });

  it('a filter converted for oneDNN is reused only while it is the same filter', async () => {
    // same shapes, different filters, alternating; then a new filter in the buffer of a disposed one
    const xv = randn(2 * 12 * 12 * 16, 41);
    const wv = [randn(3 * 3 * 16 * 32, 42), randn(3 * 3 * 16 * 32, 43), randn(3 * 3 * 16 * 32, 44)];
    await matchesCpu(() => {
      const x = tf.tensor4d(xv, [2, 12, 12, 16]);
      const w = wv.map((v) => tf.tensor4d(v, [3, 3, 16, 32]));
      const out = [w[0], w[1], w[0], w[1]].map((f) => tf.conv2d(x, f, 1, 'same'));
      w[0].dispose();
      const w2 = tf.mul(w[2], 1) as tf.Tensor4D; // may take w[0]'s freed buffer
      out.push(tf.conv2d(x, w2, 1, 'same'), tf.conv2d(x, w[1], 1, 'same'));
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.conv2d(t as tf.Tensor4D, w2, 1, 'same')))(x);
      return [...out, dx];
    }, 'alternating filters', 1e-4);
  });

  it('data tokens are unique in the process: a worker thread never draws one the main thread drew', async () => {
    const addon = loadNativeAddon();
    const mine = Array.from({ length: 500 }, () => addon.newDataToken());
    const theirs = await inWorker<number[]>(`const a = require(${JSON.stringify(NATIVE_ADDON_PATH)});
      out(Array.from({ length: 500 }, () => a.newDataToken()));`);
    expect(new Set([...mine, ...theirs]).size).toBe(1000);
    expect(mine.every((t) => Number.isInteger(t) && t > 0)).toBe(true);
  });

  it('a filter kept for a token in one thread is never used by another thread passing the same token', async () => {
    // B x H x W x Ci, 3x3 filters to Co; wide enough that oneDNN keeps the filter in a blocked layout
    const p = [2, 12, 12, 16, 3, 3, 32, 1, 1, 1, 1, 1, 1, 12, 12];
    const x = randn(2 * 12 * 12 * 16, 51), w1 = randn(3 * 3 * 16 * 32, 52), w2 = randn(3 * 3 * 16 * 32, 53);
    const addon = loadNativeAddon();
    const token = addon.newDataToken();
    const y1 = new Float32Array(2 * 12 * 12 * 32);
    addon.conv2d(x, w1, y1, Int32Array.from(p), token); // this thread keeps w1 for `token`
    // another thread passes the same token with another filter, twice (the second time its own copy may be reused)
    const theirs = await inWorker<number[][]>(`const a = require(${JSON.stringify(NATIVE_ADDON_PATH)});
      const [x, w2, p, token] = input;
      const ys = [0, 1].map(() => { const y = new Float32Array(2 * 12 * 12 * 32); a.conv2d(x, w2, y, Int32Array.from(p), token); return Array.from(y); });
      out(ys);`, [x, w2, p, token]);
    const expected = new Float32Array(2 * 12 * 12 * 32);
    addon.conv2d(x, w2, expected, Int32Array.from(p));
    for (const y of theirs) expect(Float32Array.from(y)).toEqual(expected);
    const again = new Float32Array(y1.length);
    addon.conv2d(x, w1, again, Int32Array.from(p), token);
    expect(again).toEqual(y1);
  });

  it('the addon\'s sums do not depend on how many threads its pool has', () => {
    const addon = loadNativeAddon();
    // rows where the order of the double sums shows: a huge value cancelled in each half, ones in between
    const outer = 2, red = 8192, inner = 3; // over the size from which the rows are split
    const x = new Float32Array(outer * red * inner).fill(1);
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      x[(o * red) * inner + i] = 1e17;
      x[(o * red + red / 2) * inner + i] = -1e17;
    }
    const sums = [1, 2, 3, 1].map((n) => {
      addon.setThreads(n);
      const out = new Float32Array(outer * inner);
      addon.reduce(0, x, out, outer, red, inner);
      return Array.from(out);
    });
    addon.setThreads(2);
    for (const s of sums.slice(1)) expect(s).toEqual(sums[0]);
  });

  it('GEMMs large enough for the optional oneDNN path match cpu, every transpose and the conv gradients', async () => {
    // 96 x 80 x 72 and up: above the size at which a loaded oneDNN takes the GEMM (MIMANET_BLAS=off keeps the packed kernel)
    const a = randn(96 * 80, 12), b = randn(80 * 72, 13);
    await matchesCpu(() => {
      const A = tf.tensor2d(a, [96, 80]), B = tf.tensor2d(b, [80, 72]);
      return [
        tf.matMul(A, B),
        tf.matMul(tf.transpose(A), B, true, false),
        tf.matMul(A, tf.transpose(B), false, true),
        tf.matMul(tf.transpose(A), tf.transpose(B), true, true),
      ];
    }, 'large matmul', 1e-3);
    const xShape: [number, number, number, number] = [2, 12, 12, 32];
    const fShape: [number, number, number, number] = [3, 3, 32, 48];
    const xv = randn(size(xShape), 14), wv = randn(size(fShape), 15), dyv = randn(2 * 12 * 12 * 48, 16);
    await matchesCpu(() => {
      const x = tf.tensor4d(xv, xShape), w = tf.tensor4d(wv, fShape), dy = tf.tensor4d(dyv, [2, 12, 12, 48]);
      return [
        tf.conv2d(x, w, 1, 'same'),
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: xShape }) as tf.Tensor,
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: fShape }) as tf.Tensor,
      ];
    }, 'large conv', 1e-3);
  });

  const BINARY: Array<[number[], number[]]> = [
    [[2, 3, 4, 5], [2, 3, 4, 5]], [[2, 3, 4, 5], [5]], [[2, 3, 4, 5], []], [[], [3, 4]], [[2, 1, 4, 1], [3, 1, 5]],
    [[1, 1, 1, 7], [6, 5, 4, 7]], [[6, 1], [1, 9]], [[2, 3, 1, 5, 1, 2], [3, 4, 5, 6, 2]], [[4, 1, 3], [4, 5, 3]],
  ];

  it.each(BINARY)('binary ops with broadcasting match cpu: %j op %j', async (sa, sb) => {
    const av = randn(size(sa), 10), bv = randn(size(sb), 11).map((v) => v + Math.sign(v) * 0.5);
    await matchesCpu(() => {
      const a = tf.tensor(av, sa), b = tf.tensor(bv, sb);
      return [tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.div(a, b), tf.squaredDifference(a, b), tf.maximum(a, b), tf.minimum(a, b)];
    }, `${JSON.stringify(sa)} ${JSON.stringify(sb)}`);
  });

  it('binary ops keep int32 on the cpu path and propagate NaN like cpu', async () => {
    await matchesCpu(() => [tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([4, 5, 6], 'int32')).toFloat()], 'int32');
    await matchesCpu(() => [tf.maximum(tf.tensor1d([NaN, 1, 2]), tf.tensor1d([0, NaN, 3])), tf.minimum(tf.tensor1d([NaN, 1]), tf.tensor1d([0, 0]))], 'nan');
  });

  it('unary ops match cpu', async () => {
    const xv = Float32Array.from([...randn(300, 12).map((v) => v * 8), 0, -0, 6, -6, NaN]);
    const pos = xv.map((v) => Math.abs(v) + 0.1);
    await matchesCpu(() => {
      const x = tf.tensor1d(xv), p = tf.tensor1d(pos);
      return [tf.neg(x), tf.abs(x), tf.square(x), tf.sqrt(p), tf.rsqrt(p), tf.exp(tf.div(x, 8)), tf.log(p), tf.relu(x),
        tf.step(x, 0.3), tf.sigmoid(x), tf.tanh(x), tf.reciprocal(p), tf.relu6(x)];
    }, 'unary', 2e-6);
  });

  const REDUCE: Array<[number[], number | number[] | null, boolean]> = [
    [[4, 5, 6, 7], [0, 1, 2], false], [[4, 5, 6, 7], [1, 2], true], [[4, 5, 6, 7], 3, false], [[4, 5, 6, 7], null, false],
    [[4, 5, 6, 7], [0, 2], false], [[3, 1, 5], [0, 1], true], [[1, 300, 1, 9], [1], false], [[7], 0, false],
  ];

  it.each(REDUCE)('reductions match cpu: shape %j axes %j keepDims %s', async (shape, axes, keepDims) => {
    const xv = randn(size(shape), 13);
    await matchesCpu(() => {
      const x = tf.tensor(xv, shape);
      const ax = axes ?? undefined;
      return [tf.sum(x, ax, keepDims), tf.mean(x, ax, keepDims), tf.max(x, ax, keepDims), tf.min(x, ax, keepDims)];
    }, `${JSON.stringify(shape)} ${JSON.stringify(axes)}`, 2e-6);
  });

  const POOL = [
    { b: 1, h: 5, w: 5, c: 1, k: 3, s: 2, pad: 'same' as const },
    { b: 2, h: 13, w: 11, c: 3, k: 3, s: 2, pad: 'same' as const },
    { b: 1, h: 9, w: 8, c: 4, k: 3, s: 1, pad: 'same' as const },
    { b: 2, h: 9, w: 7, c: 2, k: 3, s: 2, pad: 'valid' as const },
    { b: 1, h: 7, w: 9, c: 3, k: 1, s: 2, pad: 'valid' as const },
    // more channels than one SIMD vector (and a remainder): the vectorised argmax of the gradient
    { b: 2, h: 9, w: 10, c: 37, k: 3, s: 2, pad: 'same' as const },
    // small integers: many ties inside a window, where the first maximum must take the gradient
    { b: 2, h: 8, w: 8, c: 35, k: 3, s: 2, pad: 'same' as const, ties: true },
  ];

  it.each(POOL)('MaxPool and its gradient match cpu: %o', async (c) => {
    const shape = [c.b, c.h, c.w, c.c] as [number, number, number, number];
    const xv = randn(size(shape), 14).map((v) => ('ties' in c ? Math.round(v) : v - 0.7));
    const outShape = tf.backend_util.computePool2DInfo(shape, c.k, c.s, 1, c.pad).outShape;
    const wv = Float32Array.from({ length: size(outShape) }, (_, i) => i + 1);
    await matchesCpu(() => {
      const x = tf.tensor4d(xv, shape);
      const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, c.k, c.s, c.pad), tf.tensor(wv, outShape)));
      return [tf.maxPool(x, c.k, c.s, c.pad), tf.grad(f)(x)];
    }, label(c), 0);
  });

  it('Tile, AddN and FusedBatchNorm match cpu', async () => {
    const xv = randn(2 * 3 * 4 * 5, 15), m = randn(5, 16), v = randn(5, 17).map((q) => Math.abs(q) + 0.2);
    const o = randn(5, 18), s = randn(5, 19);
    await matchesCpu(() => {
      const x = tf.tensor4d(xv, [2, 3, 4, 5]);
      return [
        tf.tile(x, [2, 1, 3, 1]), tf.tile(tf.tensor1d(m), [4]), tf.tile(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), [2, 3]).toFloat(),
        tf.addN([x, tf.mul(x, 2), tf.neg(x)]),
        tf.batchNorm(x, tf.tensor1d(m), tf.tensor1d(v), tf.tensor1d(o), tf.tensor1d(s), 1e-3),
        tf.batchNorm(x, tf.scalar(0.5), tf.scalar(2), undefined, undefined, 1e-5),
      ];
    }, 'tile/addN/batchNorm', 2e-6);
  });

  it('gradients of a small conv net with batch norm match cpu', async () => {
    const shapes = { x: [2, 13, 11, 3], w1: [7, 7, 3, 8], w2: [3, 3, 8, 6], w3: [1, 1, 6, 6], wd: [6, 4] };
    const vals = Object.fromEntries(Object.entries(shapes).map(([k, s], i) => [k, randn(size(s), 20 + i)]));
    await matchesCpu(() => {
      const t = (k: keyof typeof shapes) => tf.tensor(vals[k], shapes[k]);
      const f = (x: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, w3: tf.Tensor, wd: tf.Tensor) => {
        let y = tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 2, 'same');
        const mom = tf.moments(y, [0, 1, 2]);
        // offset and scale given: tfjs's batchNorm gradient fails on either being absent, on every backend
        y = tf.relu(tf.batchNorm(y, mom.mean, mom.variance, tf.fill([8], 0.1), tf.fill([8], 1.5), 1e-5));
        y = tf.maxPool(y as tf.Tensor4D, 3, 2, 'same');
        const r = tf.conv2d(y as tf.Tensor4D, w2 as tf.Tensor4D, 1, 'same');
        y = tf.relu(tf.add(tf.conv2d(r as tf.Tensor4D, w3 as tf.Tensor4D, 1, 'valid'), r));
        const logits = tf.matMul(tf.mean(y, [1, 2]), wd as tf.Tensor2D);
        return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([1, 3], 'int32'), 4), logits);
      };
      const params = [t('x'), t('w1'), t('w2'), t('w3'), t('wd')];
      return [f(...(params as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])), ...tf.grads(f)(params)];
    }, 'conv net', 2e-4);
  });

  it('values read from a tensor stay valid after it is disposed and its buffer reused', async () => {
    await tf.setBackend('native');
    const a = tf.mul(tf.tensor1d([1, 2, 3, 4]), 2); // output buffer comes from the pool
    const read = a.dataSync();
    const view = tf.slice(a, [1], [2]); // the cpu Slice kernel returns a view of a's buffer
    a.dispose();
    const b = tf.mul(tf.tensor1d([9, 9, 9, 9]), 1); // same length: would reuse a's buffer if it were free
    expect(Array.from(read)).toEqual([2, 4, 6, 8]);
    expect(Array.from(view.dataSync())).toEqual([4, 6]);
    view.dispose();
    const c = tf.mul(tf.tensor1d([5, 5, 5, 5]), 1); // now a's buffer is free and may be reused
    expect(Array.from(read)).toEqual([2, 4, 6, 8]);
    expect(Array.from(b.dataSync())).toEqual([9, 9, 9, 9]);
    expect(Array.from(c.dataSync())).toEqual([5, 5, 5, 5]);
    tf.dispose([b, c]);
  });
});

describe.skipIf(!built)('FlatAdam on the native backend', () => {
  /** Three Adam steps of two variables on `backend` with fixed gradients; the values after each step. */
  async function adamSteps(backend: string): Promise<{ values: number[][]; addonCalls: number }> {
    await tf.setBackend(backend);
    // count the addon's Adam calls through an object that shadows it (its own properties are read-only)
    const b = tf.backend() as unknown as { addon?: Record<string, unknown> };
    let addonCalls = 0;
    const orig = b.addon;
    if (orig) {
      const adam = orig.adam as (...a: unknown[]) => void;
      b.addon = Object.create(orig, {
        adam: { value: (...a: unknown[]) => { addonCalls++; adam.apply(orig, a); } },
      }) as Record<string, unknown>;
    }
    const big = randn(70000, 11); // spans several of the addon's work items
    const vars = [tf.variable(tf.tensor1d(big)), tf.variable(tf.tensor2d([[1, -2], [0.5, 3]]))];
    const opt = new FlatAdam(vars, { lr: 0.05, epsilon: 1e-3 });
    const values: number[][] = [];
    try {
      for (let k = 0; k < 3; k++) {
        const grads = vars.map((v, i) => tf.tidy(() => tf.add(tf.mul(v, 0.5 + k), i === 0 ? -0.25 : 0.1 * k)));
        const before = numTensors();
        opt.apply(grads);
        expect(numTensors(), 'tensor count after a step').toBe(before);
        tf.dispose(grads);
        values.push([...vars[0].dataSync(), ...vars[1].dataSync()]);
      }
    } finally {
      if (orig) b.addon = orig;
      opt.dispose();
      tf.dispose(vars);
    }
    return { values, addonCalls };
  }

  it('runs the update in the addon and agrees with the JavaScript loop of the cpu backend', async () => {
    const cpu = await adamSteps('cpu');
    const nat = await adamSteps('native');
    expect(cpu.addonCalls).toBe(0);
    expect(nat.addonCalls).toBe(6); // two variables, three steps
    nat.values.forEach((v, k) => expectClose(Float32Array.from(v), Float32Array.from(cpu.values[k]), `step ${k + 1}`, 1e-6));
    // the parameters moved: a no-op update would agree with itself but not with this
    expect(Math.abs(nat.values[2][70000] - 1)).toBeGreaterThan(0.1);
    await tf.setBackend('native');
  });
});

describe('native backend shape planning', () => {
  it('merges broadcast dims into at most four', () => {
    // [8,28,28,64] * [64]: rows of 64 against one row
    expect(Array.from(broadcastPlan([8, 28, 28, 64], [64])!.params)).toEqual([1, 1, 8 * 28 * 28, 64, 0, 0, 64, 1, 0, 0, 0, 1]);
    expect(broadcastPlan([2, 3], [])!.outShape).toEqual([2, 3]);
    expect(Array.from(broadcastPlan([2, 1, 4], [3, 1])!.params)).toEqual([1, 2, 3, 4, 0, 4, 0, 1, 0, 0, 1, 0]);
    expect(broadcastPlan([2, 1, 2, 1, 2], [1, 2, 1, 2, 1])).toBeUndefined(); // five alternating dims
  });

  it('finds [outer, reduced, inner] when reduced axes form one block', () => {
    expect(reductionPlan([8, 28, 28, 64], [0, 1, 2])).toEqual([1, 8 * 28 * 28, 64]);
    expect(reductionPlan([8, 7, 7, 512], [1, 2])).toEqual([8, 49, 512]);
    expect(reductionPlan([4, 1, 6], [0, 1])).toEqual([1, 4, 6]);
    expect(reductionPlan([4, 5, 6], [0, 2])).toBeUndefined();
  });
});
