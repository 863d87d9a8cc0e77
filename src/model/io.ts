/**
 * Weight files of a TwoStreamNet: `NAME.json` (tensor names, shapes, dtypes,
 * in TensorFlow.js weight-manifest form) beside `NAME.bin` (the raw values).
 * Used to keep MaNet and each fold's pretrained MiNet so reruns resume.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import type { TwoStreamNet } from './twostream.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';

interface WeightFile {
  format: 'mimanet-weights';
  version: 1;
  net: string;
  specs: tf.io.WeightsManifestEntry[];
}

function named(net: TwoStreamNet): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = {};
  for (const [prefix, model] of [['spatial', net.spatial], ['temporal', net.temporal], ['classifier', net.classifier]] as const) {
    for (const w of model.weights) out[`${prefix}/${w.originalName}`] = w.read();
  }
  return out;
}

/** Writes `base.bin` then `base.json`; the JSON appears last, so its presence means the pair is complete. */
export async function saveNetWeights(net: TwoStreamNet, base: string): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(named(net));
  writeFileAtomic(`${base}.bin`, new Uint8Array(data));
  const file: WeightFile = { format: 'mimanet-weights', version: 1, net: net.name, specs };
  writeJsonAtomic(`${base}.json`, file);
}

export function hasNetWeights(base: string): boolean {
  return existsSync(`${base}.json`) && existsSync(`${base}.bin`);
}

/** Loads weights written by saveNetWeights into a net of the same architecture. */
export function loadNetWeights(net: TwoStreamNet, base: string): void {
  let file: WeightFile;
  try {
    file = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as WeightFile;
  } catch (e) {
    throw new Error(`${base}.json: cannot read weight manifest (${(e as Error).message})`);
  }
  if (file.format !== 'mimanet-weights') throw new Error(`${base}.json: not a mimanet weight file (format ${JSON.stringify(file.format)})`);
  const buf = readFileSync(`${base}.bin`);
  const expectedBytes = file.specs.reduce((s, sp) => s + sp.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (buf.length !== expectedBytes) throw new Error(`${base}.bin: ${buf.length} bytes, the manifest describes ${expectedBytes}`);
  const tensors = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), file.specs);
  try {
    const current = named(net);
    for (const [name, t] of Object.entries(current)) {
      const src = tensors[name];
      if (!src) throw new Error(`${base}: no tensor "${name}" (was it saved from a net of another architecture?)`);
      if (src.shape.join('x') !== t.shape.join('x')) throw new Error(`${base}: tensor "${name}" has shape [${src.shape}], the net expects [${t.shape}]`);
    }
    for (const [prefix, model] of [['spatial', net.spatial], ['temporal', net.temporal], ['classifier', net.classifier]] as const) {
      for (const w of model.weights) w.write(tensors[`${prefix}/${w.originalName}`]);
    }
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
