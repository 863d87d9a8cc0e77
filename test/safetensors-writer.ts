/**
 * A safetensors writer and torchvision-layout ResNet18 state dicts for tests:
 * files in the format that `--init imagenet:FILE` reads, made here so tests need no download.
 */
import { resnet18TorchLayers } from '../src/model/safetensors.js';
import { Rng } from '../src/util/rng.js';

export type Dtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64';
export interface TensorSpec {
  dtype: Dtype;
  shape: number[];
  /** Raw little-endian bytes. */
  bytes: Uint8Array;
}

/** A safetensors writer: header length, JSON header padded with spaces to 8 bytes, data. */
export function encodeSafetensors(tensors: Record<string, TensorSpec>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let o = 8 + head.length;
  for (const t of Object.values(tensors)) {
    out.set(t.bytes, o);
    o += t.bytes.length;
  }
  return out;
}

export function f32(values: number[] | Float32Array, shape: number[]): TensorSpec {
  return { dtype: 'F32', shape, bytes: new Uint8Array(Float32Array.from(values).buffer) };
}

export function u16(dtype: 'F16' | 'BF16', words: number[], shape: number[]): TensorSpec {
  const b = new Uint8Array(words.length * 2);
  const v = new DataView(b.buffer);
  words.forEach((w, i) => v.setUint16(2 * i, w, true));
  return { dtype, shape, bytes: b };
}

/** A torchvision-layout ResNet18 state dict of the given width with seeded random values (positive variances). */
export function randomResNet18(width: number, inChannels: number, seed: number): Record<string, TensorSpec> {
  const rng = new Rng(seed);
  const rand = (n: number, lo: number, hi: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.next();
    return a;
  };
  const out: Record<string, TensorSpec> = {};
  const chans: Record<string, [number, number, number]> = {}; // name -> out, in, kernel
  chans.conv1 = [width, inChannels, 7];
  let c = width;
  for (let stage = 1; stage <= 4; stage++) {
    const w = width * 2 ** (stage - 1);
    for (let block = 0; block < 2; block++) {
      const p = `layer${stage}.${block}`;
      chans[`${p}.conv1`] = [w, block === 0 ? c : w, 3];
      chans[`${p}.conv2`] = [w, w, 3];
      if (stage > 1 && block === 0) chans[`${p}.downsample.0`] = [w, c, 1];
    }
    c = w;
  }
  for (const { torch, kind } of resnet18TorchLayers()) {
    if (kind === 'conv') {
      const [o, i, k] = chans[torch];
      out[`${torch}.weight`] = f32(rand(o * i * k * k, -0.3, 0.3), [o, i, k, k]);
    } else {
      const convName = torch.replace(/bn(\d)$/, 'conv$1').replace(/downsample\.1$/, 'downsample.0');
      const n = chans[convName][0];
      out[`${torch}.weight`] = f32(rand(n, 0.5, 1.5), [n]);
      out[`${torch}.bias`] = f32(rand(n, -0.2, 0.2), [n]);
      out[`${torch}.running_mean`] = f32(rand(n, -0.1, 0.1), [n]);
      out[`${torch}.running_var`] = f32(rand(n, 0.5, 2), [n]);
      out[`${torch}.num_batches_tracked`] = { dtype: 'I64', shape: [], bytes: new Uint8Array(8) };
    }
  }
  out['fc.weight'] = f32(rand(10 * 8 * width, -0.1, 0.1), [10, 8 * width]);
  out['fc.bias'] = f32(rand(10, -0.1, 0.1), [10]);
  return out;
}

export function floats(t: TensorSpec): Float32Array {
  return new Float32Array(t.bytes.buffer.slice(t.bytes.byteOffset, t.bytes.byteOffset + t.bytes.byteLength));
}

