/**
 * The 'native' TensorFlow.js backend: the pure-JS cpu backend with its heavy
 * kernels (convolutions and their gradients, matrix products) replaced by the
 * multi-threaded C++ addon in native/ (built at install time by
 * native/build.mjs). Tensors stay in the cpu backend's TypedArrays, which the
 * addon reads and writes in place. Every other kernel is the cpu one.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { fastPaths, type AdamStepConstants } from './fast-paths.js';

/** tfjs name of the backend. */
export const NATIVE_BACKEND = 'native';

/** Functions exported by native/mimanet_native.cc. */
export interface NativeAddon {
  /**
   * params: B,H,W,Ci, KH,KW,Co, strideH,strideW, dilationH,dilationW, padTop,padLeft, OH,OW;
   * filterToken: the filter data's number from {@link NativeAddon.newDataToken} (lets oneDNN reuse its reordered copy).
   */
  conv2d(x: Float32Array, w: Float32Array, y: Float32Array, params: Int32Array, filterToken?: number): void;
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, params: Int32Array, filterToken?: number): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, params: Int32Array): void;
  /** params: batch, M, N, K, transposeA, transposeB, batch stride of a, of b (0 broadcasts). */
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, params: Int32Array): void;
  /** out = a op b over up to 4 merged broadcast dims; params: dims[4], strides of a[4], strides of b[4]. */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, params: Int32Array): void;
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  /** out[o, i] = op over r of x[o, r, i]. */
  reduce(op: number, x: Float32Array, out: Float32Array, outer: number, red: number, inner: number): void;
  /** y[i, c] = x[i, c] * a[c] + b[c] with C = a.length, then max(0, .) when relu. */
  channelAffine(x: Float32Array, a: Float32Array, b: Float32Array, y: Float32Array, relu?: boolean): void;
  /** params: B,H,W,C, KH,KW, strideH,strideW, padTop,padLeft, OH,OW. */
  maxPool(x: Float32Array, y: Float32Array, params: Int32Array): void;
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, params: Int32Array): void;
  /** One Adam step: m, v updated in place, new parameters in out; hyper = [step, beta1, beta2, 1 / sqrt(1 - beta2^t), epsilon]. */
  adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, out: Float32Array, hyper: Float32Array): void;
  /** Per-channel mean and biased variance of x over all rows; C = mean.length. */
  bnStats(x: Float32Array, mean: Float32Array, variance: Float32Array): void;
  /** Gradient of y = [relu](gamma (x - mean) invStd + beta): dx, dgamma, dbeta; C = mean.length. */
  bnGrad(x: Float32Array, dy: Float32Array, mean: Float32Array, invStd: Float32Array, gamma: Float32Array,
    beta: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, relu: boolean): void;
  /** Asks for transparent huge pages under a fresh buffer (Linux); whether the advice was taken. */
  adviseHugePages(a: Float32Array): boolean;
  /** Threads of the addon's own pool (its kernels' results do not depend on the count). */
  setThreads(n: number): void;
  getThreads(): number;
  /**
   * OpenMP threads of oneDNN's kernels called from this thread; returns the count in force (0
   * without oneDNN). oneDNN's sums depend on it, so every thread of a run sets the same count.
   */
  setOneDnnThreads(n: number): number;
  /** A number for a tensor's data, unique in the process (every worker thread draws from one counter). */
  newDataToken(): number;
  simdInfo(): string;
  /**
   * TV-L1 optical flow (native/tvl1.cc, the twin of src/motion/tvl1.ts) from i0 to i1 (width x height
   * grey, 0..255) into u and v; params: tau, lambda, theta, scales, warps, epsilon, innerIterations,
   * outerIterations, scaleStep, medianFiltering (checked by resolveTvl1Params). Returns the iterations run.
   * Absent from addons built before it.
   */
  tvl1Flow?(i0: Float32Array, i1: Float32Array, width: number, height: number, params: Float64Array, threads: number, u: Float32Array, v: Float32Array): number;
}

/** Where native/build.mjs puts the addon, relative to this file (src/backend or dist/backend). */
export const NATIVE_ADDON_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'build', 'mimanet_native.node');

let addon: NativeAddon | undefined;
let loadError: string | undefined;

/** Loads the addon once; throws why it cannot be used. */
export function loadNativeAddon(): NativeAddon {
  if (addon) return addon;
  if (loadError) throw new Error(loadError);
  if (!existsSync(NATIVE_ADDON_PATH)) {
    loadError = `the native addon is not built (${NATIVE_ADDON_PATH} missing; run \`node native/build.mjs\`)`;
    throw new Error(loadError);
  }
  try {
    addon = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon;
  } catch (e) {
    loadError = `the native addon at ${NATIVE_ADDON_PATH} failed to load (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
    throw new Error(loadError);
  }
  return addon;
}

/**
 * Fresh buffers of at least this many floats (4 MiB) are backed by transparent huge pages where
 * the kernel allows it: their first write then costs one page fault per 2 MiB instead of 512.
 */
const HUGE_PAGE_MIN = 1 << 20;

/** Default cap on the bytes of released output buffers kept for reuse (512 MiB: most of the speed of reuse, without doubling peak memory). */
export const DEFAULT_POOL_BYTES = 1 << 29;

/**
 * The cpu backend, with the addon at hand for the kernels below and a pool of
 * output buffers: allocating (and page-faulting) a fresh multi-megabyte
 * Float32Array costs more than most kernels that fill it, so buffers of
 * disposed tensors are reused by later outputs of the same length.
 *
 * A buffer returns to the pool only when no tensor references it any more
 * (tracked per ArrayBuffer, since cpu kernels such as Slice return views of
 * their input), and readSync hands out copies of pooled buffers so that
 * values read from a tensor stay valid after it is disposed.
 */
export class NativeBackend extends MathBackendCPU {
  private readonly free = new Map<number, Float32Array[]>();
  private freeBytes = 0;
  /** Buffers made by alloc(), with the number of live data ids that use them. */
  private readonly users = new Map<ArrayBufferLike, { array: Float32Array; refs: number }>();
  private readonly made = new WeakMap<ArrayBufferLike, Float32Array>();

  constructor(readonly addon: NativeAddon, readonly maxPoolBytes = DEFAULT_POOL_BYTES) {
    super();
    // The cpu backend's first write prints advice to install tfjs-node; this backend is the native one.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** A Float32Array of n elements with undefined contents; the caller overwrites all of them. */
  alloc(n: number): Float32Array {
    const list = this.free.get(n);
    const reused = list?.pop();
    if (reused) {
      this.freeBytes -= reused.byteLength;
      this.made.set(reused.buffer, reused);
      return reused;
    }
    const a = new Float32Array(n);
    if (n >= HUGE_PAGE_MIN) this.addon.adviseHugePages?.(a);
    if (n > 0) this.made.set(a.buffer, a);
    return a;
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object {
    this.track(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: object, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType,
    refCount: number): void {
    this.track(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  private track(values: tf.backend_util.BackendValues | undefined): void {
    if (values == null || !ArrayBuffer.isView(values)) return;
    const u = this.users.get(values.buffer);
    if (u) { u.refs++; return; }
    const array = this.made.get(values.buffer);
    if (array) this.users.set(values.buffer, { array, refs: 1 });
  }

  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const removed = super.disposeData(dataId, force);
    if (removed && values != null && ArrayBuffer.isView(values) && !this.data.has(dataId)) {
      const u = this.users.get(values.buffer);
      if (u && --u.refs === 0) {
        this.users.delete(values.buffer);
        this.made.delete(values.buffer);
        if (this.freeBytes + u.array.byteLength <= this.maxPoolBytes) {
          const list = this.free.get(u.array.length) ?? [];
          list.push(u.array);
          this.free.set(u.array.length, list);
          this.freeBytes += u.array.byteLength;
        }
      }
    }
    return removed;
  }

  override readSync(dataId: object): tf.backend_util.BackendValues {
    const v = super.readSync(dataId);
    return ArrayBuffer.isView(v) && this.users.has(v.buffer) ? (v as Float32Array).slice() : v;
  }

  /** Bytes held by released buffers awaiting reuse. */
  pooledBytes(): number {
    return this.freeBytes;
  }

  /** Drops every pooled buffer. */
  trimPool(): void {
    this.free.clear();
    this.freeBytes = 0;
  }

  override dispose(): void {
    this.trimPool();
    super.dispose();
  }
}

/**
 * One Adam step of `value` in the addon, reading the tensors' buffers in place (no copies out of
 * the backend) and returning the updated value as a new tensor; null when the active backend is
 * not the native one or a tensor is not float32, and the caller then runs its own loop.
 */
export function nativeAdamStep(value: tf.Tensor, grad: tf.Tensor, m: Float32Array, v: Float32Array,
  c: AdamStepConstants): tf.Tensor | null {
  const b = tf.backend();
  if (!(b instanceof NativeBackend) || value.dtype !== 'float32' || grad.dtype !== 'float32') return null;
  const p = b.data.get(value.dataId)?.values;
  const g = b.data.get(grad.dataId)?.values;
  if (!(p instanceof Float32Array) || !(g instanceof Float32Array) || g.length !== p.length) return null;
  const out = b.alloc(p.length);
  b.addon.adam(p, g, m, v, out, Float32Array.of(c.step, c.beta1, c.beta2, c.sc2, c.epsilon));
  return tf.tensor(out, value.shape, 'float32');
}

/** The native backend and the float32 buffers of `ts`, or null when any of that is missing. */
function nativeBuffers(ts: tf.Tensor[]): { b: NativeBackend; bufs: Float32Array[] } | null {
  const b = tf.backend();
  if (!(b instanceof NativeBackend)) return null;
  const bufs: Float32Array[] = [];
  for (const t of ts) {
    const v = t.dtype === 'float32' ? b.data.get(t.dataId)?.values : undefined;
    if (!(v instanceof Float32Array)) return null;
    bufs.push(v);
  }
  return { b, bufs };
}

/** y = [relu](gamma (x - mean) / sqrt(variance + epsilon) + beta) in one pass of the addon, with the 1 / sqrt used. */
function normalise(b: NativeBackend, x: tf.Tensor, xv: Float32Array, mean: Float32Array, variance: Float32Array,
  gamma: Float32Array, beta: Float32Array, epsilon: number, relu: boolean): { y: tf.Tensor; invStd: Float32Array } {
  const C = mean.length;
  const invStd = new Float32Array(C), a = new Float32Array(C), shift = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    invStd[c] = 1 / Math.sqrt(variance[c] + epsilon);
    a[c] = gamma[c] * invStd[c];
    shift[c] = beta[c] - mean[c] * a[c];
  }
  const y = b.alloc(xv.length);
  b.addon.channelAffine(xv, a, shift, y, relu);
  return { y: tf.tensor(y, x.shape, 'float32'), invStd };
}

/**
 * Training-mode batch norm over the last axis in the addon: batch mean and biased variance in one
 * pass, y = [relu](gamma (x - mean) invStd + beta) in another. Null when not on the native backend.
 */
export function nativeBatchNormTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number,
  relu: boolean): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D; invStd: tf.Tensor1D } | null {
  const nb = nativeBuffers([x, gamma, beta]);
  const C = gamma.size;
  if (!nb || C === 0 || beta.size !== C || x.shape[x.rank - 1] !== C || x.size === 0) return null;
  const { b, bufs: [xv, g, be] } = nb;
  const mean = new Float32Array(C), variance = new Float32Array(C);
  b.addon.bnStats(xv, mean, variance);
  const { y, invStd } = normalise(b, x, xv, mean, variance, g, be, epsilon, relu);
  return { y, mean: tf.tensor1d(mean), variance: tf.tensor1d(variance), invStd: tf.tensor1d(invStd) };
}

/** Inference-mode batch norm over the last axis, then ReLU when `relu`, in one pass of the addon; null when not native. */
export function nativeBatchNormApply(x: tf.Tensor, mean: tf.Tensor1D, variance: tf.Tensor1D, gamma: tf.Tensor1D,
  beta: tf.Tensor1D, epsilon: number, relu: boolean): tf.Tensor | null {
  const nb = nativeBuffers([x, mean, variance, gamma, beta]);
  const C = gamma.size;
  if (!nb || C === 0 || x.shape[x.rank - 1] !== C || [mean, variance, beta].some((t) => t.size !== C)) return null;
  const { b, bufs: [xv, m, v, g, be] } = nb;
  return normalise(b, x, xv, m, v, g, be, epsilon, relu).y;
}

/** The gradient of {@link nativeBatchNormTrain}: [dx, dgamma, dbeta], or null when not on the native backend. */
export function nativeBatchNormGrad(x: tf.Tensor, dy: tf.Tensor, mean: tf.Tensor, invStd: tf.Tensor, gamma: tf.Tensor,
  beta: tf.Tensor, relu: boolean): [tf.Tensor, tf.Tensor1D, tf.Tensor1D] | null {
  const nb = nativeBuffers([x, dy, mean, invStd, gamma, beta]);
  if (!nb || dy.size !== x.size) return null;
  const { b, bufs: [xv, dyv, m, inv, g, be] } = nb;
  const C = m.length;
  const dx = b.alloc(xv.length), dgamma = new Float32Array(C), dbeta = new Float32Array(C);
  b.addon.bnGrad(xv, dyv, m, inv, g, be, dx, dgamma, dbeta, relu);
  return [tf.tensor(dx, x.shape, 'float32'), tf.tensor1d(dgamma), tf.tensor1d(dbeta)];
}

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
type Shape4 = [number, number, number, number];
interface ConvAttrs {
  strides: number | [number, number]; pad: Pad; dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number]; dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function f32(b: NativeBackend, t: TensorInfo): Float32Array {
  const v = b.data.get(t.dataId).values;
  if (v instanceof Float32Array) return v;
  // int32 inputs or not-yet-materialised data: hand the addon a float32 copy.
  return Float32Array.from(b.readSync(t.dataId) as ArrayLike<number>);
}

/** Conv params for the addon. */
function convParams(info: tf.backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.filterHeight,
    info.filterWidth, info.outChannels, info.strideHeight, info.strideWidth, info.dilationHeight,
    info.dilationWidth, info.padInfo.top, info.padInfo.left, info.outHeight, info.outWidth]);
}

const tokens = new WeakMap<object, number>();

/**
 * A number for a tensor's data, the same for every tensor sharing it and never reused in the
 * process: tensor data is immutable, so the addon may keep a filter converted to oneDNN's layout
 * for as long as the number it came with comes back. The numbers come from the addon, not from a
 * counter here: each worker thread loads its own copy of this module, and numbers from
 * per-thread counters would name different filters in different threads.
 */
function dataToken(b: NativeBackend, t: TensorInfo): number {
  let n = tokens.get(t.dataId);
  if (n === undefined) {
    n = b.addon.newDataToken();
    tokens.set(t.dataId, n);
  }
  return n;
}

const cpuKernel = (name: string): KernelFunc => {
  const k = tf.getKernel(name, 'cpu');
  if (k == null) throw new Error(`cpu backend has no ${name} kernel to fall back on`);
  return k.kernelFunc;
};

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/** In-place bias add (per last-axis channel) and activation; false when the activation is not handled here. */
function epilogue(y: Float32Array, channels: number, bias: Float32Array | undefined, activation: string,
  alpha: number): boolean {
  if (!['linear', 'relu', 'relu6', 'leakyrelu'].includes(activation)) return false;
  if (bias) {
    for (let i = 0; i < y.length; i += channels) for (let c = 0; c < channels; c++) y[i + c] += bias[c];
  }
  if (activation === 'relu') for (let i = 0; i < y.length; i++) { if (!(y[i] > 0)) y[i] = y[i] < 0 ? 0 : y[i]; }
  else if (activation === 'relu6') for (let i = 0; i < y.length; i++) y[i] = Math.min(6, Math.max(0, y[i]));
  else if (activation === 'leakyrelu') for (let i = 0; i < y.length; i++) { if (y[i] < 0) y[i] *= alpha; }
  return true;
}

function isNHWC(a: ConvAttrs): boolean {
  return a.dataFormat === undefined || a.dataFormat === 'NHWC';
}

const conv2D: KernelFunc = (args) => {
  const b = args.backend as NativeBackend;
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const a = args.attrs as unknown as ConvAttrs;
  if (!isNHWC(a)) return cpuKernel('Conv2D')(args);
  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, a.strides,
    a.dilations ?? 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
  const y = b.alloc(size(info.outShape));
  b.addon.conv2d(f32(b, x), f32(b, filter), y, convParams(info), dataToken(b, filter));
  return b.makeTensorInfo(info.outShape, 'float32', y);
};

const fusedConv2D: KernelFunc = (args) => {
  const b = args.backend as NativeBackend;
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const a = args.attrs as unknown as ConvAttrs & { activation: string; leakyreluAlpha?: number };
  const biasOk = bias == null || (bias.shape.length <= 1 && size(bias.shape) === filter!.shape[3]);
  if (!isNHWC(a) || preluActivationWeights != null || !biasOk) return cpuKernel('FusedConv2D')(args);
  const info = tf.backend_util.computeConv2DInfo(x!.shape as Shape4, filter!.shape as Shape4, a.strides,
    a.dilations ?? 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
  const y = b.alloc(size(info.outShape));
  b.addon.conv2d(f32(b, x!), f32(b, filter!), y, convParams(info), dataToken(b, filter!));
  if (!epilogue(y, info.outChannels, bias ? f32(b, bias) : undefined, a.activation, a.leakyreluAlpha ?? 0.2)) {
    return cpuKernel('FusedConv2D')(args);
  }
  return b.makeTensorInfo(info.outShape, 'float32', y);
};

const conv2DBackpropInput: KernelFunc = (args) => {
  const b = args.backend as NativeBackend;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = args.attrs as unknown as ConvAttrs & { inputShape: Shape4 };
  if (!isNHWC(a)) return cpuKernel('Conv2DBackpropInput')(args);
  const info = tf.backend_util.computeConv2DInfo(a.inputShape, filter.shape as Shape4, a.strides, 1, a.pad,
    a.dimRoundingMode, false, 'channelsLast');
  const dx = b.alloc(size(a.inputShape));
  b.addon.conv2dBackpropInput(f32(b, dy), f32(b, filter), dx, convParams(info), dataToken(b, filter));
  return b.makeTensorInfo(a.inputShape, 'float32', dx);
};

const conv2DBackpropFilter: KernelFunc = (args) => {
  const b = args.backend as NativeBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const a = args.attrs as unknown as ConvAttrs & { filterShape: Shape4 };
  if (!isNHWC(a)) return cpuKernel('Conv2DBackpropFilter')(args);
  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, a.filterShape, a.strides, 1, a.pad,
    a.dimRoundingMode, false, 'channelsLast');
  const dw = b.alloc(size(a.filterShape));
  b.addon.conv2dBackpropFilter(f32(b, x), f32(b, dy), dw, convParams(info));
  return b.makeTensorInfo(a.filterShape, 'float32', dw);
};

/** a [...batch, M, K] x b [...batch, K, N] with equal batch dims or one side unbatched; undefined otherwise. */
function nativeMatMul(b: NativeBackend, A: TensorInfo, B: TensorInfo, transposeA: boolean,
  transposeB: boolean): { out: Float32Array; shape: number[] } | undefined {
  if (A.dtype !== 'float32' || B.dtype !== 'float32') return undefined;
  const ra = A.shape.length, rb = B.shape.length;
  if (ra < 2 || rb < 2) return undefined;
  const M = transposeA ? A.shape[ra - 1] : A.shape[ra - 2];
  const K = transposeA ? A.shape[ra - 2] : A.shape[ra - 1];
  const Kb = transposeB ? B.shape[rb - 1] : B.shape[rb - 2];
  const N = transposeB ? B.shape[rb - 2] : B.shape[rb - 1];
  if (K !== Kb) return undefined; // let the cpu kernel report the mismatch
  const batchA = A.shape.slice(0, -2), batchB = B.shape.slice(0, -2);
  const nA = size(batchA), nB = size(batchB);
  let batchShape: number[];
  if (nA === nB && batchA.join() === batchB.join()) batchShape = batchA;
  else if (nA === 1) batchShape = batchB;
  else if (nB === 1) batchShape = batchA;
  else return undefined;
  const batch = Math.max(nA, nB);
  const out = b.alloc(batch * M * N);
  b.addon.matmul(f32(b, A), f32(b, B), out, Int32Array.from([batch, M, N, K, transposeA ? 1 : 0, transposeB ? 1 : 0,
    nA === 1 ? 0 : M * K, nB === 1 ? 0 : K * N]));
  return { out, shape: [...batchShape, M, N] };
}

const batchMatMul: KernelFunc = (args) => {
  const b = args.backend as NativeBackend;
  const { a, b: bb } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const r = nativeMatMul(b, a, bb, transposeA, transposeB);
  if (!r) return cpuKernel('BatchMatMul')(args);
  return b.makeTensorInfo(r.shape, 'float32', r.out);
};

const fusedMatMul: KernelFunc = (args) => {
  const b = args.backend as NativeBackend;
  const { a, b: bb, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const at = args.attrs as unknown as { transposeA: boolean; transposeB: boolean; activation: string; leakyreluAlpha?: number };
  if (preluActivationWeights != null) return cpuKernel('_FusedMatMul')(args);
  const r = nativeMatMul(b, a!, bb!, at.transposeA, at.transposeB);
  const N = r ? r.shape[r.shape.length - 1] : 0;
  if (!r || (bias != null && !(bias.shape.length <= 1 && size(bias.shape) === N))) return cpuKernel('_FusedMatMul')(args);
  if (!epilogue(r.out, N, bias ? f32(b, bias) : undefined, at.activation, at.leakyreluAlpha ?? 0.2)) {
    return cpuKernel('_FusedMatMul')(args);
  }
  return b.makeTensorInfo(r.shape, 'float32', r.out);
};

const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, SquaredDifference: 4, Maximum: 5, Minimum: 6 } as const;
const UNARY_OPS = {
  Neg: 0, Abs: 1, Square: 2, Sqrt: 3, Rsqrt: 4, Exp: 5, Log: 6, Relu: 7, Step: 8, Sigmoid: 9, Tanh: 10,
  Reciprocal: 11, Relu6: 12,
} as const;
const REDUCE_OPS = { Sum: 0, Mean: 1, Max: 2, Min: 3 } as const;

/**
 * Broadcast of a and b as at most four merged dims (dims of size 1 dropped,
 * neighbours merged where both sides stay contiguous or both broadcast);
 * undefined when more dims remain.
 */
export function broadcastPlan(aShape: number[], bShape: number[]): { outShape: number[]; params: Int32Array } | undefined {
  const outShape = tf.backend_util.assertAndGetBroadcastShape(aShape, bShape);
  const rank = outShape.length;
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const stridesOf = (s: number[]) => {
    const st = new Array<number>(rank).fill(0);
    let acc = 1;
    for (let i = rank - 1; i >= 0; i--) { st[i] = s[i] === 1 ? 0 : acc; acc *= s[i]; }
    return st;
  };
  const pa = pad(aShape), pb = pad(bShape), sa0 = stridesOf(pa), sb0 = stridesOf(pb);
  const d: number[] = [], sa: number[] = [], sb: number[] = [];
  for (let i = 0; i < rank; i++) {
    if (outShape[i] === 1) continue;
    const k = d.length - 1;
    if (k >= 0 && sa[k] === sa0[i] * outShape[i] && sb[k] === sb0[i] * outShape[i]) {
      d[k] *= outShape[i]; sa[k] = sa0[i]; sb[k] = sb0[i];
    } else {
      d.push(outShape[i]); sa.push(sa0[i]); sb.push(sb0[i]);
    }
  }
  if (d.length > 4) return undefined;
  while (d.length < 4) { d.unshift(1); sa.unshift(0); sb.unshift(0); }
  return { outShape, params: Int32Array.from([...d, ...sa, ...sb]) };
}

function binaryKernel(name: keyof typeof BINARY_OPS): KernelFunc {
  return (args) => {
    const b = args.backend as NativeBackend;
    const { a, b: bb } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const plan = a.dtype === 'float32' && bb.dtype === 'float32' ? broadcastPlan(a.shape, bb.shape) : undefined;
    if (!plan) return cpuKernel(name)(args);
    const out = b.alloc(size(plan.outShape));
    b.addon.binary(BINARY_OPS[name], f32(b, a), f32(b, bb), out, plan.params);
    return b.makeTensorInfo(plan.outShape, 'float32', out);
  };
}

function unaryKernel(name: keyof typeof UNARY_OPS): KernelFunc {
  return (args) => {
    const b = args.backend as NativeBackend;
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== 'float32') return cpuKernel(name)(args);
    const alpha = name === 'Step' ? (args.attrs as unknown as { alpha?: number }).alpha ?? 0 : 0;
    const out = b.alloc(size(x.shape));
    b.addon.unary(UNARY_OPS[name], f32(b, x), out, alpha);
    return b.makeTensorInfo(x.shape, 'float32', out);
  };
}

/** [outer, reduced, inner] sizes when the reduced axes are one block once size-1 dims are ignored. */
export function reductionPlan(shape: number[], axes: number[]): [number, number, number] | undefined {
  const red = new Set(axes);
  let outer = 1, mid = 1, inner = 1, phase = 0; // 0: before the block, 1: in it, 2: after it
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    if (red.has(i)) {
      if (phase === 2) return undefined;
      phase = 1; mid *= shape[i];
    } else if (phase === 0) {
      outer *= shape[i];
    } else {
      phase = 2; inner *= shape[i];
    }
  }
  return [outer, mid, inner];
}

function reduceKernel(name: keyof typeof REDUCE_OPS): KernelFunc {
  return (args) => {
    const b = args.backend as NativeBackend;
    const { x } = args.inputs as { x: TensorInfo };
    // Max names its axes reductionIndices; Sum, Mean and Min call them axis.
    const { axis, reductionIndices, keepDims } = args.attrs as unknown as
      { axis?: number | number[]; reductionIndices?: number | number[]; keepDims: boolean };
    // null (all axes) is valid at run time though not in the declared type.
    const axes = tf.util.parseAxisParam((axis ?? reductionIndices ?? null) as number[], x.shape);
    const plan = x.dtype === 'float32' && size(x.shape) > 0 ? reductionPlan(x.shape, axes) : undefined;
    if (!plan) return cpuKernel(name)(args);
    const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    const out = b.alloc(plan[0] * plan[2]);
    b.addon.reduce(REDUCE_OPS[name], f32(b, x), out, plan[0], plan[1], plan[2]);
    return b.makeTensorInfo(outShape, 'float32', out);
  };
}

interface PoolAttrs {
  filterSize: number | [number, number]; strides: number | [number, number]; pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function poolParams(info: tf.backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.filterHeight,
    info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left, info.outHeight,
    info.outWidth]);
}

const maxPool: KernelFunc = (args) => {
  const b = args.backend as NativeBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const a = args.attrs as unknown as PoolAttrs;
  if (x.dtype !== 'float32' || x.shape.length !== 4) return cpuKernel('MaxPool')(args);
  const info = tf.backend_util.computePool2DInfo(x.shape as Shape4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const y = b.alloc(size(info.outShape));
  b.addon.maxPool(f32(b, x), y, poolParams(info));
  return b.makeTensorInfo(info.outShape, 'float32', y);
};

/** Each dy goes to the first (row-major) largest real input of its window, as in the cpu kernel. */
const maxPoolGrad: KernelFunc = (args) => {
  const b = args.backend as NativeBackend;
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const a = args.attrs as unknown as PoolAttrs;
  const info = tf.backend_util.computePool2DInfo(input.shape as Shape4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const dx = b.alloc(size(input.shape));
  b.addon.maxPoolGrad(f32(b, dy), f32(b, input), dx, poolParams(info));
  return b.makeTensorInfo(input.shape, 'float32', dx);
};

/** FusedBatchNorm with per-channel (or scalar) statistics: one pass of x * a[c] + b[c]. */
const batchNorm: KernelFunc = (args) => {
  const b = args.backend as NativeBackend;
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
  const eps = (args.attrs as unknown as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001;
  const C = x!.shape[x!.shape.length - 1] ?? 1;
  const params = [mean, variance, offset, scale];
  if (x!.dtype !== 'float32' || params.some((t) => t != null && (t.dtype !== 'float32' || ![1, C].includes(size(t.shape))))) {
    return cpuKernel('FusedBatchNorm')(args);
  }
  const at = (t: TensorInfo | undefined, dflt: number) => {
    if (t == null) return () => dflt;
    const v = f32(b, t);
    return v.length === 1 ? () => v[0] : (c: number) => v[c];
  };
  const m = at(mean, 0), v = at(variance, 1), o = at(offset, 0), s = at(scale, 1);
  const ca = new Float32Array(C), cb = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    ca[c] = s(c) / Math.sqrt(v(c) + eps);
    cb[c] = o(c) - m(c) * ca[c];
  }
  const y = b.alloc(size(x!.shape));
  b.addon.channelAffine(f32(b, x!), ca, cb, y);
  return b.makeTensorInfo(x!.shape, 'float32', y);
};

/** Tile by copying whole blocks: the innermost row once per repeat, then each finished block per outer repeat. */
const tile: KernelFunc = (args) => {
  const b = args.backend as NativeBackend;
  const { x } = args.inputs as { x: TensorInfo };
  const { reps } = args.attrs as unknown as { reps: number[] };
  const src = b.data.get(x.dataId).values;
  if (x.dtype === 'string' || !(src instanceof Float32Array || src instanceof Int32Array || src instanceof Uint8Array)) {
    return cpuKernel('Tile')(args);
  }
  const rank = x.shape.length;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = src instanceof Float32Array ? b.alloc(size(outShape))
    : new (src.constructor as { new(n: number): Int32Array | Uint8Array })(size(outShape));
  if (out.length === 0) return b.makeTensorInfo(outShape, x.dtype, out);
  const inStride = new Array<number>(rank), outStride = new Array<number>(rank);
  for (let i = rank - 1, si = 1, so = 1; i >= 0; i--) { inStride[i] = si; outStride[i] = so; si *= x.shape[i]; so *= outShape[i]; }
  const fill = (d: number, inOff: number, outOff: number): void => {
    const n = x.shape[d];
    if (d === rank - 1) {
      out.set(src.subarray(inOff, inOff + n), outOff);
    } else {
      for (let i = 0; i < n; i++) fill(d + 1, inOff + i * inStride[d], outOff + i * outStride[d]);
    }
    const block = n * outStride[d];
    for (let r = 1; r < reps[d]; r++) out.copyWithin(outOff + r * block, outOff, outOff + block);
  };
  if (rank === 0) out.set(src.subarray(0, 1));
  else fill(0, 0, 0);
  return b.makeTensorInfo(outShape, x.dtype, out);
};

const addN: KernelFunc = (args) => {
  const b = args.backend as NativeBackend;
  const ts = args.inputs as unknown as TensorInfo[];
  if (ts.length === 0 || ts.some((t) => t.dtype !== 'float32')) return cpuKernel('AddN')(args);
  const n = size(ts[0].shape);
  const out = b.alloc(n);
  out.set(f32(b, ts[0]));
  const params = Int32Array.from([1, 1, 1, n, 0, 0, 0, 1, 0, 0, 0, 1]);
  for (let i = 1; i < ts.length; i++) b.addon.binary(BINARY_OPS.Add, out, f32(b, ts[i]), out, params);
  return b.makeTensorInfo(ts[0].shape, 'float32', out);
};

/** Kernels the native backend computes in the addon; all others are the cpu backend's. */
export const NATIVE_KERNELS: ReadonlyArray<Pick<KernelConfig, 'kernelName' | 'kernelFunc'>> = [
  { kernelName: 'Conv2D', kernelFunc: conv2D },
  { kernelName: 'FusedConv2D', kernelFunc: fusedConv2D },
  { kernelName: 'Conv2DBackpropInput', kernelFunc: conv2DBackpropInput },
  { kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2DBackpropFilter },
  { kernelName: 'BatchMatMul', kernelFunc: batchMatMul },
  { kernelName: '_FusedMatMul', kernelFunc: fusedMatMul },
  { kernelName: 'MaxPool', kernelFunc: maxPool },
  { kernelName: 'MaxPoolGrad', kernelFunc: maxPoolGrad },
  { kernelName: 'Tile', kernelFunc: tile },
  { kernelName: 'FusedBatchNorm', kernelFunc: batchNorm },
  { kernelName: 'AddN', kernelFunc: addN },
  ...(Object.keys(BINARY_OPS) as Array<keyof typeof BINARY_OPS>).map((k) => ({ kernelName: k, kernelFunc: binaryKernel(k) })),
  ...(Object.keys(UNARY_OPS) as Array<keyof typeof UNARY_OPS>).map((k) => ({ kernelName: k, kernelFunc: unaryKernel(k) })),
  ...(Object.keys(REDUCE_OPS) as Array<keyof typeof REDUCE_OPS>).map((k) => ({ kernelName: k, kernelFunc: reduceKernel(k) })),
];

let registered = false;

/**
 * Registers the 'native' backend and its kernels (the cpu kernels, with
 * {@link NATIVE_KERNELS} replacing theirs). Throws why when the addon cannot load.
 */
export function registerNativeBackend(): NativeAddon {
  const lib = loadNativeAddon();
  if (registered) return lib;
  const own = new Map(NATIVE_KERNELS.map((k) => [k.kernelName, k.kernelFunc]));
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (tf.getKernel(k.kernelName, NATIVE_BACKEND) != null) continue;
    tf.registerKernel({ ...k, backendName: NATIVE_BACKEND, kernelFunc: own.get(k.kernelName) ?? k.kernelFunc });
  }
  for (const [kernelName, kernelFunc] of own) {
    if (tf.getKernel(kernelName, NATIVE_BACKEND) == null) tf.registerKernel({ kernelName, backendName: NATIVE_BACKEND, kernelFunc });
  }
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(lib), 0);
  // each returns null unless the native backend is the active one
  fastPaths.adamStep = nativeAdamStep;
  fastPaths.batchNormTrain = nativeBatchNormTrain;
  fastPaths.batchNormGrad = nativeBatchNormGrad;
  fastPaths.batchNormApply = nativeBatchNormApply;
  registered = true;
  return lib;
}
