import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, currentBackendInfo, isGpuBackend } from '../src/backend/index.js';
import { WASM_TRAINING_KERNELS, WASM_REPLACED_KERNELS } from '../src/backend/wasm_kernels.js';
import { NATIVE_ADDON_PATH } from '../src/backend/native.js';
import { existsSync } from 'node:fs';
import { randn } from './helpers.js';

const size = (s: number[]) => s.reduce((p, d) => p * d, 1);

/** Runs fn with `backend` active and returns the values it produced. */
async function on<T extends tf.Tensor | tf.Tensor[]>(backend: string, fn: () => T): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(fn);
  const list = Array.isArray(out) ? out : [out];
  const vals = list.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(list);
  return vals;
}

/** max |a - b| <= tol * max(|b|) elementwise over the whole tensor, shapes equal. */
function expectClose(a: Float32Array, b: Float32Array, label: string, tol = 1e-4): void {
  expect(a.length, `${label}: length`).toBe(b.length);
  let scale = 0, err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  expect(scale, `${label}: reference is all zero`).toBeGreaterThan(0);
  expect(err / scale, `${label}: relative error`).toBeLessThanOrEqual(tol);
}

interface ConvCase { b: number; h: number; w: number; ci: number; co: number; k: number; s: number; pad: 'same' | 'valid' | number }

const CONV_CASES: ConvCase[] = [
  { b: 1, h: 7, w: 9, ci: 3, co: 5, k: 3, s: 1, pad: 'same' },
  { b: 1, h: 7, w: 9, ci: 3, co: 5, k: 3, s: 1, pad: 'valid' },
  { b: 2, h: 13, w: 11, ci: 4, co: 6, k: 3, s: 2, pad: 'same' },
  { b: 2, h: 13, w: 11, ci: 4, co: 6, k: 3, s: 2, pad: 'valid' },
  { b: 3, h: 8, w: 10, ci: 5, co: 3, k: 3, s: 2, pad: 'valid' }, // even size: trailing row unused
  { b: 1, h: 9, w: 9, ci: 6, co: 7, k: 1, s: 1, pad: 'valid' },
  { b: 2, h: 11, w: 9, ci: 5, co: 4, k: 1, s: 2, pad: 'same' },
  { b: 2, h: 15, w: 17, ci: 3, co: 8, k: 7, s: 2, pad: 'same' },
  { b: 1, h: 15, w: 13, ci: 2, co: 3, k: 7, s: 1, pad: 'valid' },
  { b: 2, h: 12, w: 11, ci: 3, co: 4, k: 7, s: 2, pad: 3 },
  { b: 1, h: 10, w: 9, ci: 3, co: 2, k: 3, s: 1, pad: 2 },
];

const label = (c: object) => JSON.stringify(c);

beforeAll(async () => {
  await initBackend('wasm');
});

describe('wasm training kernels', () => {
  it('registers Conv2DBackpropFilter and the other missing training kernels', () => {
    const wasm = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
    for (const k of WASM_TRAINING_KERNELS) expect(wasm.has(k.kernelName), k.kernelName).toBe(true);
    for (const k of WASM_REPLACED_KERNELS) expect(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc).toBe(k.kernelFunc);
  });

  it.each(CONV_CASES)('Conv2DBackpropFilter matches cpu: %o', async (c) => {
    const xShape = [c.b, c.h, c.w, c.ci] as [number, number, number, number];
    const filterShape = [c.k, c.k, c.ci, c.co] as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, c.s, 1, c.pad);
    const xv = randn(size(xShape), 1), dyv = randn(size(info.outShape), 2);
    const run = () => {
      const x = tf.tensor4d(xv, xShape), dy = tf.tensor4d(dyv, info.outShape);
      return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
        { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape }) as tf.Tensor;
    };
    const [cpu] = await on('cpu', run);
    const [wasm] = await on('wasm', run);
    expectClose(wasm, cpu, label(c));
  });

  it('Conv2DBackpropFilter agrees with a hand-computed 1x1 case', async () => {
    await tf.setBackend('wasm');
    // dW[0,0,ci,co] = sum over b,h,w of x[..ci] * dy[..co]
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const dy = tf.tensor4d([1, 0, 0, 1, 1, 1, 2, 0], [1, 2, 2, 2]);
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
      { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [1, 1, 1, 2] }) as tf.Tensor;
    expect(Array.from(dw.dataSync())).toEqual([1 + 3 + 8, 2 + 3]);
    tf.dispose([x, dy, dw]);
  });

  const DW_CASES = [
    { b: 1, h: 7, w: 9, ci: 3, mul: 1, k: 3, s: 1, d: 1, pad: 'same' as const },
    { b: 2, h: 11, w: 10, ci: 4, mul: 2, k: 3, s: 2, d: 1, pad: 'valid' as const },
    { b: 1, h: 13, w: 11, ci: 3, mul: 2, k: 7, s: 2, d: 1, pad: 'same' as const },
    { b: 2, h: 5, w: 7, ci: 5, mul: 1, k: 1, s: 2, d: 1, pad: 'valid' as const },
  ];

  it.each(DW_CASES)('depthwise backprop input and filter match cpu: %o', async (c) => {
    const xShape = [c.b, c.h, c.w, c.ci] as [number, number, number, number];
    const filterShape = [c.k, c.k, c.ci, c.mul] as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, c.s, c.d, c.pad, undefined, true);
    const xv = randn(size(xShape), 3), wv = randn(size(filterShape), 4), dyv = randn(size(info.outShape), 5);
    const run = () => {
      const x = tf.tensor4d(xv, xShape), w = tf.tensor4d(wv, filterShape), dy = tf.tensor4d(dyv, info.outShape);
      const attrs = { strides: c.s, dilations: c.d, pad: c.pad };
      return [
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { ...attrs, inputShape: xShape }),
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape }),
      ] as tf.Tensor[];
    };
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    expectClose(wasm[0], cpu[0], `dx ${label(c)}`);
    expectClose(wasm[1], cpu[1], `dw ${label(c)}`);
  });

  it('depthwise backprop with dilation 2 equals dilation 1 with a zero-inserted filter', async () => {
    // The cpu kernels ignore dilations in backprop, so the reference is the same kernel on the dilated filter.
    await tf.setBackend('wasm');
    const xShape: [number, number, number, number] = [2, 9, 13, 2];
    const w = tf.tensor4d(randn(3 * 3 * 2 * 2, 6), [3, 3, 2, 2]);
    const wide = tf.tidy(() => {
      const z = tf.zeros([1, 3, 2, 2]);
      const rows = tf.unstack(w).flatMap((r, i) => (i < 2 ? [tf.expandDims(r), z] : [tf.expandDims(r)]));
      const tall = tf.concat(rows, 0); // [5,3,2,2]
      const zc = tf.zeros([5, 1, 2, 2]);
      const cols = tf.unstack(tall, 1).flatMap((c, i) => (i < 2 ? [tf.expandDims(c, 1), zc] : [tf.expandDims(c, 1)]));
      return tf.concat(cols, 1); // [5,5,2,2]
    });
    for (const pad of ['same', 'valid'] as const) {
      const info = tf.backend_util.computeConv2DInfo(xShape, [3, 3, 2, 2], 1, 2, pad, undefined, true);
      const x = tf.tensor4d(randn(size(xShape), 7), xShape);
      const dy = tf.tensor4d(randn(size(info.outShape), 8), info.outShape);
      const run = (f: tf.Tensor, d: number, filterShape: number[]) => [
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: f },
          { strides: 1, dilations: d, pad, inputShape: xShape }) as tf.Tensor,
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy },
          { strides: 1, dilations: d, pad, filterShape }) as tf.Tensor,
      ];
      const [dx2, dw2] = run(w, 2, [3, 3, 2, 2]);
      const [dx1, dw1] = run(wide, 1, [5, 5, 2, 2]);
      expectClose(dx2.dataSync() as Float32Array, dx1.dataSync() as Float32Array, `dx dilated ${pad}`);
      const taps = tf.stridedSlice(dw1, [0, 0, 0, 0], [5, 5, 2, 2], [2, 2, 1, 1]);
      expectClose(dw2.dataSync() as Float32Array, taps.dataSync() as Float32Array, `dw dilated ${pad}`);
      tf.dispose([x, dy, dx2, dw2, dx1, dw1, taps]);
    }
    tf.dispose([w, wide]);
  });

  const POOL_CASES = [
    { b: 1, h: 5, w: 5, c: 1, k: 3, s: 2, pad: 'same' as const },
    { b: 2, h: 13, w: 11, c: 3, k: 3, s: 2, pad: 'same' as const },
    { b: 1, h: 9, w: 8, c: 4, k: 3, s: 1, pad: 'same' as const },
    { b: 2, h: 9, w: 7, c: 2, k: 3, s: 2, pad: 'valid' as const },
    { b: 1, h: 7, w: 9, c: 3, k: 1, s: 2, pad: 'valid' as const },
    { b: 1, h: 8, w: 8, c: 2, k: 2, s: 2, pad: 'valid' as const },
  ];

  it.each(POOL_CASES)('MaxPoolGrad matches cpu on all-negative windows at the border: %o', async (c) => {
    const shape = [c.b, c.h, c.w, c.c] as [number, number, number, number];
    const xv = randn(size(shape), 9).map((v) => v - 0.7); // mostly negative: padding must never win
    const run = () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad),
      tf.range(1, 1 + size(tf.backend_util.computePool2DInfo(shape, c.k, c.s, 1, c.pad).outShape)).reshape(
        tf.backend_util.computePool2DInfo(shape, c.k, c.s, 1, c.pad).outShape))))(tf.tensor4d(xv, shape));
    const [cpu] = await on('cpu', run);
    const [wasm] = await on('wasm', run);
    expectClose(wasm, cpu, label(c), 0);
  });

  it('MaxPoolGrad gives a window of ties to its first element, as cpu does', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 4, 4, 1]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid')))(x);
    expect(Array.from(g.dataSync())).toEqual([1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
    tf.dispose([x, g]);
  });

  it('UnsortedSegmentSum matches a hand-computed case and cpu, dropping out-of-range ids', async () => {
    const run = () => tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]), tf.tensor1d([2, 0, 2, 5], 'int32'), 3);
    const [wasm] = await on('wasm', run);
    expect(Array.from(wasm)).toEqual([3, 4, 0, 0, 6, 8]);
    const [cpu] = await on('cpu', run);
    expect(Array.from(cpu)).toEqual(Array.from(wasm));
  });

  it('gradients of a small conv net match cpu', async () => {
    const shapes = { x: [2, 13, 11, 3], w1: [7, 7, 3, 4], w2: [3, 3, 4, 2], w3: [1, 1, 8, 5], w4: [3, 3, 5, 6] };
    const vals = Object.fromEntries(Object.entries(shapes).map(([k, s], i) => [k, randn(size(s), 10 + i)]));
    const run = () => {
      const t = (k: keyof typeof shapes) => tf.tensor(vals[k], shapes[k]) as tf.Tensor4D;
      const params = [t('x'), t('w1'), t('w2'), t('w3'), t('w4')];
      const f = (x: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, w3: tf.Tensor, w4: tf.Tensor) => {
        let y = tf.relu(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 2, 'same'));
        y = tf.depthwiseConv2d(y as tf.Tensor4D, w2 as tf.Tensor4D, 1, 'same');
        y = tf.maxPool(y as tf.Tensor4D, 3, 2, 'same');
        y = tf.relu(tf.conv2d(y as tf.Tensor4D, w3 as tf.Tensor4D, 1, 'valid'));
        y = tf.conv2d(y as tf.Tensor4D, w4 as tf.Tensor4D, 1, 'valid');
        const picked = tf.gather(tf.reshape(y, [2, -1]), [1, 0, 1], 0);
        return tf.sum(tf.square(picked));
      };
      return tf.grads(f)(params);
    };
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    expect(wasm.length).toBe(5);
    wasm.forEach((g, i) => expectClose(g, cpu[i], `grad ${Object.keys(shapes)[i]}`));
  });
});

describe('initBackend', () => {
  it("picks tfjs-node, else native, else wasm for 'auto' where it finds no GPU, and is idempotent", async () => {
    const hasTfjsNode = await import('@tensorflow/tfjs-node' as string).then(() => true, () => false);
    const info = await initBackend('auto');
    // a GPU route comes first (test/backend-gpu.test.ts)
    if (isGpuBackend(info)) return;
    expect(info.name).toBe(hasTfjsNode ? 'tensorflow' : existsSync(NATIVE_ADDON_PATH) ? 'native' : 'wasm');
    expect(tf.getBackend()).toBe(info.name);
    expect(info.requested).toBe('auto');
    expect(info.tfjsVersion).toBe(tf.version_core);
    expect(await initBackend('auto')).toBe(info);
    expect(currentBackendInfo()).toBe(info);
  });

  it("throws a clear error when forced to 'tfjs-node' without the package", async () => {
    const hasTfjsNode = await import('@tensorflow/tfjs-node' as string).then(() => true, () => false);
    if (hasTfjsNode) return;
    await expect(initBackend('tfjs-node')).rejects.toThrow(/backend 'tfjs-node' is unavailable: @tensorflow\/tfjs-node could not be imported/);
  });

  it('switches to cpu and back, and rejects unknown choices and bad thread counts', async () => {
    expect((await initBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend('wasm')).name).toBe('wasm');
    await expect(initBackend('gpu' as never)).rejects.toThrow(/unknown backend 'gpu'/);
    await expect(initBackend('wasm', { threads: 0 })).rejects.toThrow(/positive integer, got 0/);
  });
});
