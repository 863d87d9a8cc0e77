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

/** tfjs name of the backend. */
export const NATIVE_BACKEND = 'native';

/** Functions exported by native/mimanet_native.cc. */
export interface NativeAddon {
  /** params: B,H,W,Ci, KH,KW,Co, strideH,strideW, dilationH,dilationW, padTop,padLeft, OH,OW. */
  conv2d(x: Float32Array, w: Float32Array, y: Float32Array, params: Int32Array): void;
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, params: Int32Array): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, params: Int32Array): void;
  /** params: batch, M, N, K, transposeA, transposeB, batch stride of a, of b (0 broadcasts). */
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, params: Int32Array): void;
  setThreads(n: number): void;
  getThreads(): number;
  simdInfo(): string;
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

/** The cpu backend, with the addon at hand for the kernels below. */
export class NativeBackend extends MathBackendCPU {
  constructor(readonly addon: NativeAddon) {
    super();
  }
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

function convParams(info: tf.backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.filterHeight,
    info.filterWidth, info.outChannels, info.strideHeight, info.strideWidth, info.dilationHeight,
    info.dilationWidth, info.padInfo.top, info.padInfo.left, info.outHeight, info.outWidth]);
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
  const y = new Float32Array(size(info.outShape));
  b.addon.conv2d(f32(b, x), f32(b, filter), y, convParams(info));
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
  const y = new Float32Array(size(info.outShape));
  b.addon.conv2d(f32(b, x!), f32(b, filter!), y, convParams(info));
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
  const dx = new Float32Array(size(a.inputShape));
  b.addon.conv2dBackpropInput(f32(b, dy), f32(b, filter), dx, convParams(info));
  return b.makeTensorInfo(a.inputShape, 'float32', dx);
};

const conv2DBackpropFilter: KernelFunc = (args) => {
  const b = args.backend as NativeBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const a = args.attrs as unknown as ConvAttrs & { filterShape: Shape4 };
  if (!isNHWC(a)) return cpuKernel('Conv2DBackpropFilter')(args);
  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, a.filterShape, a.strides, 1, a.pad,
    a.dimRoundingMode, false, 'channelsLast');
  const dw = new Float32Array(size(a.filterShape));
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
  const out = new Float32Array(batch * M * N);
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

/** Kernels the native backend computes in the addon; all others are the cpu backend's. */
export const NATIVE_KERNELS: ReadonlyArray<Pick<KernelConfig, 'kernelName' | 'kernelFunc'>> = [
  { kernelName: 'Conv2D', kernelFunc: conv2D },
  { kernelName: 'FusedConv2D', kernelFunc: fusedConv2D },
  { kernelName: 'Conv2DBackpropInput', kernelFunc: conv2DBackpropInput },
  { kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2DBackpropFilter },
  { kernelName: 'BatchMatMul', kernelFunc: batchMatMul },
  { kernelName: '_FusedMatMul', kernelFunc: fusedMatMul },
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
  registered = true;
  return lib;
}
