/**
 * Weight files of a TwoStreamNet: `NAME.json` (tensor names, shapes, dtypes,
 * in TensorFlow.js weight-manifest form) beside `NAME.bin` (the raw values).
 * Used to keep MaNet and each fold's pretrained MiNet so reruns resume.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import type { TwoStreamNet } from './twostream.js';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { z } from '../util/schema.js';
import { checkFiniteWeights, sha256, WeightSpec } from './integrity.js';

const WeightFile = z.object({
  format: z.literal('mimanet-weights'),
  version: z.literal(1),
  net: z.string(),
  specs: z.array(WeightSpec),
  /** sha256 of the .bin file (absent in older files). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** What the caller keeps with the weights (the results folder: the settings they were trained under). */
  meta: z.record(z.unknown()).optional(),
});
type WeightFile = z.infer<typeof WeightFile>;

function named(net: TwoStreamNet): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = {};
  for (const [prefix, model] of [['spatial', net.spatial], ['temporal', net.temporal], ['classifier', net.classifier]] as const) {
    for (const w of model.weights) out[`${prefix}/${w.originalName}`] = w.read();
  }
  return out;
}

/** Writes `base.bin` then `base.json`; the JSON appears last, so its presence means the pair is complete. */
export async function saveNetWeights(net: TwoStreamNet, base: string, meta?: Record<string, unknown>): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(named(net));
  const bytes = new Uint8Array(data);
  writeFileAtomic(`${base}.bin`, bytes);
  const file: WeightFile = { format: 'mimanet-weights', version: 1, net: net.name, specs: specs as WeightFile['specs'], sha256: sha256(bytes), ...(meta ? { meta } : {}) };
  writeJsonAtomic(`${base}.json`, file);
}

export function hasNetWeights(base: string): boolean {
  return existsSync(`${base}.json`) && existsSync(`${base}.bin`);
}

/**
 * Loads weights written by saveNetWeights into a net of the same architecture.
 * The .bin must match the checksum in the .json and hold finite values only,
 * so damaged weights are refused here rather than turning into NaN losses later.
 */
export function loadNetWeights(net: TwoStreamNet, base: string): void {
  const file = readJsonFile(`${base}.json`, WeightFile);
  const buf = readFileSync(`${base}.bin`);
  const expectedBytes = file.specs.reduce((s, sp) => s + sp.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (buf.length !== expectedBytes) throw new Error(`${base}.bin: ${buf.length} bytes, the manifest describes ${expectedBytes}`);
  if (file.sha256 && sha256(buf) !== file.sha256) throw new Error(`${base}.bin: checksum mismatch (sha256 ${sha256(buf).slice(0, 12)}..., ${base}.json records ${file.sha256.slice(0, 12)}...): the file is damaged; delete both to recompute them`);
  checkFiniteWeights(buf, file.specs, `${base}.bin`);
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
