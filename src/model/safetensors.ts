/**
 * Reading `.safetensors` files and loading ImageNet ResNet18 weights into the
 * trunks of MiNet and MaNet (`model.init: imagenet:FILE`).
 *
 * File layout: 8 bytes little-endian header length N, N bytes of JSON
 * (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`,
 * offsets relative to the first byte after the header), then the raw tensor
 * data, little-endian, row-major.
 *
 * torchvision's and timm's ResNet18 use the same parameter names (`conv1.weight`,
 * `bn1.running_mean`, `layer2.0.downsample.0.weight`, ...), and the trunks of
 * src/model/resnet.ts name their layers after them with `.` -> `_`, so the
 * mapping is by name. Convolution kernels go from torch's OIHW to TF's HWIO.
 */
import * as tf from '@tensorflow/tfjs';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Element types this reader decodes to float32. */
export const SAFETENSORS_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, U16: 2, U32: 4, U64: 8 };

/** Largest JSON header accepted (the format's own limit is 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  /** [begin, end) in bytes, relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** A parsed file: the tensor table, read lazily from `bytes`. */
export interface SafetensorsFile {
  file: string;
  metadata: Record<string, string>;
  entries: Map<string, SafetensorsEntry>;
  /** The data section (everything after the header). */
  data: Uint8Array;
}

function fail(file: string, what: string): never {
  throw new Error(`${file}: ${what}`);
}

/** Parses a safetensors buffer; `file` names it in errors. Tensor data is checked for bounds, not decoded. */
export function parseSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  if (bytes.length < 8) fail(file, `truncated: ${bytes.length} bytes, a safetensors file starts with an 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(file, `header length ${n} is implausible (limit ${MAX_HEADER_BYTES}); not a safetensors file?`);
  const headerLen = Number(n);
  if (8 + headerLen > bytes.length) fail(file, `truncated: header of ${headerLen} bytes announced, the file has ${bytes.length - 8} after the length`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(file, 'header is not a JSON object');
  const data = bytes.subarray(8 + headerLen);
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const r = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof r?.dtype !== 'string') fail(file, `tensor "${name}": no dtype`);
    if (!Array.isArray(r.shape) || !r.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(file, `tensor "${name}": shape ${JSON.stringify(r.shape)} is not a list of sizes`);
    const off = r.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isInteger(o) && o >= 0) || off[1] < off[0]) {
      fail(file, `tensor "${name}": data_offsets ${JSON.stringify(off)} is not [begin, end]`);
    }
    const [begin, end] = off as [number, number];
    if (end > data.length) fail(file, `truncated: tensor "${name}" ends at data byte ${end}, the data section has ${data.length} bytes`);
    const size = DTYPE_BYTES[r.dtype];
    const count = (r.shape as number[]).reduce((a, b) => a * b, 1);
    if (size !== undefined && end - begin !== count * size) {
      fail(file, `tensor "${name}": ${end - begin} bytes for shape [${(r.shape as number[]).join(', ')}] of ${r.dtype} (${count * size} expected)`);
    }
    entries.set(name, { dtype: r.dtype, shape: r.shape as number[], dataOffsets: [begin, end] });
  }
  return { file, metadata, entries, data };
}

/** Reads and parses a safetensors file. */
export function readSafetensors(file: string): SafetensorsFile {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new Error(`${file}: cannot open (${(e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    const bytes = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, bytes, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return parseSafetensors(bytes.subarray(0, got), file);
  } finally {
    closeSync(fd);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE half -> float. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decodes one tensor to float32 values (row-major) and its shape. */
export function tensorValues(st: SafetensorsFile, name: string): { values: Float32Array; shape: number[] } {
  const e = st.entries.get(name);
  if (!e) fail(st.file, `no tensor "${name}"`);
  const [begin, end] = e.dataOffsets;
  const raw = st.data.subarray(begin, end);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const count = e.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  switch (e.dtype) {
    case 'F32':
      if (LITTLE_ENDIAN) out.set(new Float32Array(raw.slice().buffer));
      else for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      break;
    case 'BF16': {
      const f = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        f.setUint32(0, view.getUint16(2 * i, true) << 16);
        out[i] = f.getFloat32(0);
      }
      break;
    }
    default:
      fail(st.file, `tensor "${name}" has dtype ${e.dtype}; supported: ${SAFETENSORS_DTYPES.join(', ')}`);
  }
  return { values: out, shape: e.shape };
}

/** torch OIHW -> TF HWIO; with `sumInputs` the input channels are summed (RGB kernels for a grey input). */
export function oihwToHwio(values: Float32Array, shape: number[], sumInputs: boolean): { values: Float32Array; shape: number[] } {
  const [O, I, H, W] = shape as [number, number, number, number];
  const inOut = sumInputs ? 1 : I;
  const out = new Float32Array(H * W * inOut * O);
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < I; i++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          const ii = sumInputs ? 0 : i;
          out[((h * W + w) * inOut + ii) * O + o] += values[((o * I + i) * H + h) * W + w];
        }
      }
    }
  }
  return { values: out, shape: [H, W, inOut, O] };
}

/** The convolution and batch-norm layers of a ResNet18 in torch names, conv1 and bn1 first. */
export function resnet18TorchLayers(): Array<{ torch: string; kind: 'conv' | 'bn' }> {
  const out: Array<{ torch: string; kind: 'conv' | 'bn' }> = [
    { torch: 'conv1', kind: 'conv' },
    { torch: 'bn1', kind: 'bn' },
  ];
  for (let stage = 1; stage <= 4; stage++) {
    for (let block = 0; block < 2; block++) {
      const p = `layer${stage}.${block}`;
      out.push({ torch: `${p}.conv1`, kind: 'conv' }, { torch: `${p}.bn1`, kind: 'bn' }, { torch: `${p}.conv2`, kind: 'conv' }, { torch: `${p}.bn2`, kind: 'bn' });
      if (stage > 1 && block === 0) out.push({ torch: `${p}.downsample.0`, kind: 'conv' }, { torch: `${p}.downsample.1`, kind: 'bn' });
    }
  }
  return out;
}

/** Batch-norm tensors in the order tfjs keeps a batchNormalization layer's weights: gamma, beta, moving mean, moving variance. */
const BN_PARTS = ['weight', 'bias', 'running_mean', 'running_var'] as const;

export interface ImagenetLoadResult {
  /** Tensor names of the file that were loaded. */
  loaded: string[];
  /** Tensor names of the file that were not used (fc.*, num_batches_tracked, anything else). */
  skipped: string[];
}

/**
 * Loads torchvision / timm ResNet18 weights from a safetensors file into a
 * trunk built by buildResNet18 whose layers carry `prefix` (`spatial`,
 * `temporal`, or '' for a bare trunk). All shapes are checked before any
 * weight is written, so a failed load leaves the trunk as it was.
 */
export function loadTorchvisionResNet18(trunk: tf.LayersModel, file: string, prefix: string): ImagenetLoadResult {
  return loadResNet18From(trunk, readSafetensors(file), prefix);
}

/** loadTorchvisionResNet18 on a parsed file. */
export function loadResNet18From(trunk: tf.LayersModel, st: SafetensorsFile, prefix: string): ImagenetLoadResult {
  const file = st.file;
  const p = prefix ? `${prefix}_` : '';
  const layerName = (torch: string): string => p + torch.replace(/\./g, '_');
  const conv1 = trunk.getLayer(layerName('conv1'));
  const kernelShape = conv1.weights[0].shape; // [7, 7, C, width]
  const channels = kernelShape[2];
  const width = kernelShape[3];
  const source = st.entries.get('conv1.weight');
  if (!source) fail(file, 'no tensor "conv1.weight": not a torchvision/timm ResNet18 state dict');
  if (source.shape.length !== 4 || source.shape[0] !== width) {
    fail(file, `tensor "conv1.weight" has shape [${source.shape.join(', ')}], the trunk has width ${width} (${width} filters); ImageNet ResNet18 weights need model.width 64`);
  }
  const plan: Array<{ layer: tf.layers.Layer; values: tf.Tensor[] }> = [];
  const loaded: string[] = [];
  try {
    for (const { torch, kind } of resnet18TorchLayers()) {
      const layer = trunk.getLayer(layerName(torch));
      const current = layer.weights.map((w) => w.shape);
      if (kind === 'conv') {
        const name = `${torch}.weight`;
        const { values, shape } = tensorValues(st, name);
        const want = current[0]; // HWIO
        const grey = torch === 'conv1' && channels === 1 && shape[1] === 3;
        const expect = [want[3], grey ? 3 : want[2], want[0], want[1]];
        if (shape.join('x') !== expect.join('x')) fail(file, `tensor "${name}" has shape [${shape.join(', ')}], layer ${layer.name} needs [${expect.join(', ')}] (OIHW)`);
        const hwio = oihwToHwio(values, shape, grey);
        plan.push({ layer, values: [tf.tensor(hwio.values, hwio.shape)] });
        loaded.push(name);
      } else {
        const parts = BN_PARTS.map((part, k) => {
          const name = `${torch}.${part}`;
          const { values, shape } = tensorValues(st, name);
          const want = current[k];
          if (shape.join('x') !== want.join('x')) fail(file, `tensor "${name}" has shape [${shape.join(', ')}], layer ${layer.name} needs [${want.join(', ')}]`);
          return { name, values, shape };
        });
        loaded.push(...parts.map((x) => x.name));
        plan.push({ layer, values: parts.map((x) => tf.tensor(x.values, x.shape)) });
      }
    }
    for (const { layer, values } of plan) layer.setWeights(values);
  } finally {
    for (const { values } of plan) tf.dispose(values);
  }
  const used = new Set(loaded);
  const skipped = [...st.entries.keys()].filter((k) => !used.has(k)).sort();
  return { loaded, skipped };
}

/** Parses a `model.init` value: `imagenet:FILE` -> FILE. */
export function parseImagenetInit(init: string): string {
  const m = /^imagenet:(.+)$/.exec(init);
  if (!m) throw new Error(`init ${JSON.stringify(init)}: expected imagenet:FILE, with FILE a torchvision or timm ResNet18 .safetensors file`);
  return m[1];
}

/** Loads ImageNet ResNet18 weights into both trunks of a two-stream net (spatial and temporal). */
export function initTwoStreamFromImagenet(net: { spatial: tf.LayersModel; temporal: tf.LayersModel }, file: string): ImagenetLoadResult {
  const st = readSafetensors(file);
  const a = loadResNet18From(net.spatial, st, 'spatial');
  loadResNet18From(net.temporal, st, 'temporal');
  return a;
}
