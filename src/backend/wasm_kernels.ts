/**
 * Training kernels that @tensorflow/tfjs-backend-wasm 4.22 does not ship.
 *
 * Conv2DBackpropFilter is the one every conv net needs. It is expressed as a
 * forward Conv2D on the wasm backend (XNNPACK) instead of an im2col + matMul:
 *
 *   dW[kh,kw,ci,co] = sum_{b,oh,ow} x[b, oh*s + kh - padTop, ow*s + kw - padLeft, ci] * dy[b,oh,ow,co]
 *
 * which is a convolution of x' = x^T[ci,h,w,b] (channels as batch, batch as
 * channels) with the "filter" dy' = dy^T[oh,ow,b,co], dilation = stride,
 * stride 1; the result [ci,kh,kw,co] is sliced to the filter size and
 * transposed back to [kh,kw,ci,co].
 *
 * The depthwise backprop kernels and UnsortedSegmentSum (the gradient of
 * gather) are rarely hot, so they are plain loops over the wasm heap.
 *
 * MaxPoolGrad is replaced: the wasm one routes the gradient of a window that
 * touches the padding and holds only negative values to the padding (it is
 * lost), where TensorFlow gives it to the window's largest real input.
 */
import * as tf from '@tensorflow/tfjs';
import { WASM_FAST_KERNELS } from './wasm_fast.js';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

const WASM = 'wasm';

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

/** Runs another kernel of the wasm backend directly (no tape, no engine scope). */
function runWasmKernel(name: string, backend: BackendWasm, inputs: NamedTensorInfoMap, attrs: NamedAttrMap): TensorInfo {
  const k = tf.getKernel(name, WASM);
  if (k == null) throw new Error(`wasm backend has no ${name} kernel, needed by a mimanet training kernel`);
  return k.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
}

function dispose(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

function requireNHWC(kernel: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernel} on wasm supports dataFormat 'NHWC' only, got '${String(dataFormat)}'`);
  }
}

const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as BackendWasm;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: number | [number, number]; pad: Pad; dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
  };
  requireNHWC('Conv2DBackpropFilter', dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  const { top, left } = info.padInfo;
  // Enough trailing padding that the dilated dy window reaches every filter tap.
  const bottom = Math.max(0, kh - 1 + (info.outHeight - 1) * sh + 1 - info.inHeight - top);
  const right = Math.max(0, kw - 1 + (info.outWidth - 1) * sw + 1 - info.inWidth - left);

  const xT = runWasmKernel('Transpose', b, { x }, { perm: [3, 1, 2, 0] });
  const dyT = runWasmKernel('Transpose', b, { x: dy }, { perm: [1, 2, 0, 3] });
  const full = runWasmKernel('Conv2D', b, { x: xT, filter: dyT }, {
    strides: [1, 1], dilations: [sh, sw], dataFormat: 'NHWC',
    pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
  } as unknown as NamedAttrMap);
  dispose(b, xT, dyT);
  let cropped = full;
  if (full.shape[1] !== kh || full.shape[2] !== kw) {
    cropped = runWasmKernel('Slice', b, { x: full }, { begin: [0, 0, 0, 0], size: [-1, kh, kw, -1] });
    dispose(b, full);
  }
  const out = runWasmKernel('Transpose', b, { x: cropped }, { perm: [1, 2, 0, 3] });
  dispose(b, cropped);
  return out;
};

interface DepthwiseAttrs {
  strides: number | [number, number]; dilations: number | [number, number]; pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Visits every (b, oh, ow, ih, iw, kh, kw) tap of a depthwise conv with its input row/col in range. */
function forEachDepthwiseTap(info: tf.backend_util.Conv2DInfo,
  fn: (bi: number, oh: number, ow: number, ih: number, iw: number, r: number, c: number) => void): void {
  for (let bi = 0; bi < info.batchSize; bi++) {
    for (let oh = 0; oh < info.outHeight; oh++) {
      for (let r = 0; r < info.filterHeight; r++) {
        const ih = oh * info.strideHeight - info.padInfo.top + r * info.dilationHeight;
        if (ih < 0 || ih >= info.inHeight) continue;
        for (let ow = 0; ow < info.outWidth; ow++) {
          for (let c = 0; c < info.filterWidth; c++) {
            const iw = ow * info.strideWidth - info.padInfo.left + c * info.dilationWidth;
            if (iw < 0 || iw >= info.inWidth) continue;
            fn(bi, oh, ow, ih, iw, r, c);
          }
        }
      }
    }
  }
}

const depthwiseBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as BackendWasm;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as DepthwiseAttrs & { inputShape: [number, number, number, number] };
  const info = tf.backend_util.computeConv2DInfo(a.inputShape, filter.shape as [number, number, number, number],
    a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
  const out = b.makeOutput(a.inputShape, 'float32');
  // Heap views are taken after the allocation, which may grow (and detach) the heap.
  const dx = b.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  const g = b.typedArrayFromHeap(dy) as Float32Array;
  const w = b.typedArrayFromHeap(filter) as Float32Array;
  const ci = info.inChannels, mul = info.outChannels / info.inChannels, co = info.outChannels;
  forEachDepthwiseTap(info, (bi, oh, ow, ih, iw, r, c) => {
    const xo = ((bi * info.inHeight + ih) * info.inWidth + iw) * ci;
    const yo = ((bi * info.outHeight + oh) * info.outWidth + ow) * co;
    const wo = (r * info.filterWidth + c) * ci * mul;
    for (let ch = 0; ch < ci; ch++) {
      let s = 0;
      for (let m = 0; m < mul; m++) s += g[yo + ch * mul + m] * w[wo + ch * mul + m];
      dx[xo + ch] += s;
    }
  });
  return out;
};

const depthwiseBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as BackendWasm;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as DepthwiseAttrs & { filterShape: [number, number, number, number] };
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape,
    a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
  const out = b.makeOutput(a.filterShape, 'float32');
  const dw = b.typedArrayFromHeap(out) as Float32Array;
  dw.fill(0);
  const xs = b.typedArrayFromHeap(x) as Float32Array;
  const g = b.typedArrayFromHeap(dy) as Float32Array;
  const ci = info.inChannels, mul = info.outChannels / info.inChannels, co = info.outChannels;
  forEachDepthwiseTap(info, (bi, oh, ow, ih, iw, r, c) => {
    const xo = ((bi * info.inHeight + ih) * info.inWidth + iw) * ci;
    const yo = ((bi * info.outHeight + oh) * info.outWidth + ow) * co;
    const wo = (r * info.filterWidth + c) * ci * mul;
    for (let ch = 0; ch < ci; ch++) {
      const xv = xs[xo + ch];
      for (let m = 0; m < mul; m++) dw[wo + ch * mul + m] += xv * g[yo + ch * mul + m];
    }
  });
  return out;
};

const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as BackendWasm;
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
  const idsRank = segmentIds.shape.length;
  const inner = x.shape.slice(idsRank).reduce((p, d) => p * d, 1);
  const rows = segmentIds.shape.reduce((p, d) => p * d, 1);
  const out = b.makeOutput([numSegments, ...x.shape.slice(idsRank)], x.dtype);
  const o = b.typedArrayFromHeap(out);
  o.fill(0);
  const xs = b.typedArrayFromHeap(x);
  const ids = b.typedArrayFromHeap(segmentIds);
  for (let r = 0; r < rows; r++) {
    const s = ids[r];
    if (s < 0 || s >= numSegments) continue; // TensorFlow drops out-of-range segment ids
    for (let i = 0; i < inner; i++) o[s * inner + i] += xs[r * inner + i];
  }
  return out;
};

/** Scatters each dy to the first (row-major) largest real input of its window, padding excluded. */
const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as BackendWasm;
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const a = attrs as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: Pad;
    dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], a.filterSize,
    a.strides, 1, a.pad, a.dimRoundingMode);
  const out = b.makeOutput(input.shape, 'float32');
  const dx = b.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  const xs = b.typedArrayFromHeap(input) as Float32Array;
  const g = b.typedArrayFromHeap(dy) as Float32Array;
  const C = info.inChannels, H = info.inHeight, W = info.inWidth;
  const best = new Float32Array(C), at = new Int32Array(C);
  for (let bi = 0; bi < info.batchSize; bi++) {
    for (let oh = 0; oh < info.outHeight; oh++) {
      const h0 = oh * info.strideHeight - info.padInfo.top;
      const r0 = Math.max(0, h0), r1 = Math.min(H, h0 + info.effectiveFilterHeight);
      for (let ow = 0; ow < info.outWidth; ow++) {
        const w0 = ow * info.strideWidth - info.padInfo.left;
        const c0 = Math.max(0, w0), c1 = Math.min(W, w0 + info.effectiveFilterWidth);
        best.fill(-Infinity);
        at.fill(-1);
        for (let r = r0; r < r1; r++) {
          for (let c = c0; c < c1; c++) {
            const base = ((bi * H + r) * W + c) * C;
            for (let ch = 0; ch < C; ch++) {
              const v = xs[base + ch];
              if (v > best[ch] || at[ch] < 0) { best[ch] = v; at[ch] = base + ch; }
            }
          }
        }
        const yo = ((bi * info.outHeight + oh) * info.outWidth + ow) * C;
        for (let ch = 0; ch < C; ch++) if (at[ch] >= 0) dx[at[ch]] += g[yo + ch];
      }
    }
  }
  return out;
};

/** Kernels of the wasm backend that this module replaces. */
export const WASM_REPLACED_KERNELS: readonly KernelConfig[] = [
  ...WASM_FAST_KERNELS,
  { kernelName: 'MaxPoolGrad', backendName: WASM, kernelFunc: maxPoolGrad },
];

/** The kernels this module adds to the wasm backend. */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: WASM, kernelFunc: conv2DBackpropFilter },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName: WASM, kernelFunc: depthwiseBackpropInput },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName: WASM, kernelFunc: depthwiseBackpropFilter },
  { kernelName: 'UnsortedSegmentSum', backendName: WASM, kernelFunc: unsortedSegmentSum },
];

/**
 * Registers {@link WASM_TRAINING_KERNELS} that the wasm backend lacks and
 * installs {@link WASM_REPLACED_KERNELS}; safe to call repeatedly.
 * Returns the kernel names it registered in this call.
 */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  for (const k of WASM_TRAINING_KERNELS) {
    if (tf.getKernel(k.kernelName, WASM) != null) continue;
    tf.registerKernel(k);
    added.push(k.kernelName);
  }
  for (const k of WASM_REPLACED_KERNELS) {
    const present = tf.getKernel(k.kernelName, WASM);
    if (present?.kernelFunc === k.kernelFunc) continue;
    if (present != null) tf.unregisterKernel(k.kernelName, WASM);
    tf.registerKernel(k);
    added.push(k.kernelName);
  }
  return added;
}
