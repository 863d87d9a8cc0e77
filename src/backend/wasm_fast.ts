/**
 * Replacements for two wasm kernels that copy more than they need to.
 *
 * Identity: the engine clones every tensor it saves for the backward pass,
 * and the stock wasm kernel copies the buffer each time (hundreds of copies
 * per training step, and twice the activation memory). Tensors are immutable,
 * so an alias with one more reference is enough, as the cpu backend does.
 *
 * Slice: the stock kernel reads the whole input into a fresh JavaScript array
 * before taking its part; here the part is read from the heap in place.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type WasmTensorInfo = tf.TensorInfo;

function identity(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): WasmTensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const backend = args.backend as BackendWasm;
  if (x.dtype === 'string') {
    // strings live outside the heap; keep the stock behaviour of a real copy
    return tf.tensor(backend.readSync(x.dataId) as unknown as string[], x.shape, x.dtype) as unknown as WasmTensorInfo;
  }
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function slice(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): WasmTensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const backend = args.backend as BackendWasm;
  const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  if (x.dtype === 'string') throw new Error('Slice of string tensors is not supported by this kernel');
  const out = backend.makeOutput(s, x.dtype);
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (rank === 0 || dst.length === 0) return out;
  const strides = tf.util.computeStrides(x.shape);
  if (tf.slice_util.isSliceContinous(x.shape, b, s)) {
    const off = tf.slice_util.computeFlatOffset(b, strides);
    dst.set(src.subarray(off, off + dst.length));
    return out;
  }
  // copy the innermost runs, walking the outer indices like an odometer
  const inner = s[rank - 1];
  const outer = dst.length / inner;
  const idx = new Array<number>(rank - 1).fill(0);
  for (let o = 0; o < outer; o++) {
    let off = b[rank - 1];
    for (let d = 0; d < rank - 1; d++) off += (b[d] + idx[d]) * strides[d];
    dst.set(src.subarray(off, off + inner), o * inner);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d] < s[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

export const WASM_FAST_KERNELS: tf.KernelConfig[] = [
  { kernelName: 'Identity', backendName: 'wasm', kernelFunc: identity as unknown as tf.KernelFunc },
  { kernelName: 'Slice', backendName: 'wasm', kernelFunc: slice as unknown as tf.KernelFunc },
];
