/**
 * Deployable MiNet checkpoints in the TensorFlow.js layers format: a folder
 * with `model.json` and `weights.bin` that `tf.loadLayersModel` reads
 * unchanged in Node and in a browser, plus `mimanet.json` with the labels and
 * the preprocessing the model expects.
 *
 * The saved graph is the inference path of the two-stream net:
 *   inputs  apex [H, W, C] and frames [T, H, W, C] (normalised pixels)
 *   output  class probabilities [L]
 * built from the trained layers themselves, so no weights are copied.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TemporalMode, TwoStreamNet } from './twostream.js';
import { TemporalAggregate } from './custom-layers.js';
import { AGGREGATION_VERSION, CHECKPOINT_FORMAT, META_FILE, WEIGHT_PATH, parseCheckpointMeta, type CheckpointMeta } from './checkpoint-meta.js';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { z } from '../util/schema.js';
import { checkFiniteWeights, sha256, WeightSpec } from './integrity.js';

/** `model.json` as far as loading relies on it. */
const ModelJson = z
  .object({
    modelTopology: z.record(z.unknown()),
    weightsManifest: z.array(z.object({ paths: z.array(WEIGHT_PATH).min(1), weights: z.array(WeightSpec) })).min(1),
  })
  .passthrough();

export { CUSTOM_LAYERS, TemporalAggregate, GradientReversal, type TemporalAggregateArgs } from './custom-layers.js';
export { AGGREGATION_VERSION, parseCheckpointMeta, type CheckpointMeta, type ParsedMeta } from './checkpoint-meta.js';

/** The inference graph of a trained net (shares its layers and weights). */
export function buildInferenceModel(net: TwoStreamNet, temporal: TemporalMode): tf.LayersModel {
  const { size, channels, frames } = net.config;
  const apex = tf.input({ shape: [size, size, channels], name: 'apex' });
  const clip = tf.input({ shape: [frames, size, size, channels], name: 'frames' });
  const map = net.spatial.apply(apex) as tf.SymbolicTensor;
  const fA = tf.layers.globalAveragePooling2d({ name: 'f_A' }).apply(map) as tf.SymbolicTensor;
  const perFrame = tf.layers.timeDistributed({ layer: net.temporal, name: 'frame_features' }).apply(clip) as tf.SymbolicTensor;
  const v = new TemporalAggregate({ mode: temporal, frames, sc: net.config.sc, samples: net.config.K, name: 'v' }).apply(perFrame) as tf.SymbolicTensor;
  const z = tf.layers.concatenate({ name: 'z', axis: -1 }).apply([fA, v]) as tf.SymbolicTensor;
  const logits = net.classifier.apply(z) as tf.SymbolicTensor;
  const probs = tf.layers.activation({ activation: 'softmax', name: 'probabilities' }).apply(logits) as tf.SymbolicTensor;
  return tf.model({ inputs: [apex, clip], outputs: probs, name: 'MiNet' });
}

/** Writes model.json, weights.bin and mimanet.json into `dir`. */
export async function saveCheckpoint(net: TwoStreamNet, dir: string, meta: Omit<CheckpointMeta, 'format' | 'version' | 'net' | 'aggregationVersion'>): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const model = buildInferenceModel(net, meta.temporal);
  let savedSha = '';
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData ? new Uint8Array(tf.io.concatenateArrayBuffers(Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData])) : new Uint8Array();
      writeFileAtomic(join(dir, 'weights.bin'), weightData);
      savedSha = sha256(weightData);
      writeJsonAtomic(join(dir, 'model.json'), {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const full: CheckpointMeta = { format: CHECKPOINT_FORMAT, version: 1, net: net.config, aggregationVersion: AGGREGATION_VERSION, ...meta, weightsSha256: savedSha };
  writeJsonAtomic(join(dir, META_FILE), full);
}

export interface LoadedCheckpoint {
  model: tf.LayersModel;
  meta: CheckpointMeta;
}

/** `model.json` as far as its weight files go. */
const WeightsManifest = z.object({ weightsManifest: z.array(z.object({ paths: z.array(WEIGHT_PATH).min(1) }).passthrough()).min(1) }).passthrough();

/** The weight files the `model.json` of `dir` names, in order, each checked to stay inside `dir`. */
export function weightFiles(dir: string): string[] {
  return readJsonFile(join(dir, 'model.json'), WeightsManifest).weightsManifest.flatMap((g) => g.paths);
}

/** Reads a checkpoint folder in Node (no tfjs-node needed): the weights are the files model.json names, as a browser reads them. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  for (const f of ['model.json', META_FILE]) if (!existsSync(join(dir, f))) throw new Error(`${dir}: not a mimanet checkpoint (missing ${f})`);
  const modelJson = readJsonFile(join(dir, 'model.json'), ModelJson);
  const paths = modelJson.weightsManifest.flatMap((g) => g.paths);
  for (const f of paths) if (!existsSync(join(dir, f))) throw new Error(`${dir}: not a mimanet checkpoint (missing ${f}, named in model.json)`);
  const metaFile = join(dir, META_FILE);
  const meta = readJsonFile(metaFile, z.unknown());
  parseCheckpointMeta(meta, metaFile);
  const specs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const where = paths.length === 1 ? join(dir, paths[0]) : `${dir}/{${paths.join(',')}}`;
  const buf = paths.length === 1 ? readFileSync(join(dir, paths[0])) : Buffer.concat(paths.map((f) => readFileSync(join(dir, f))));
  const expected = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (buf.length !== expected) throw new Error(`${where}: ${buf.length} bytes, model.json describes ${expected}`);
  const recorded = (meta as CheckpointMeta).weightsSha256;
  if (recorded && sha256(buf) !== recorded) {
    throw new Error(`${where}: checksum mismatch (sha256 ${sha256(buf).slice(0, 12)}..., ${META_FILE} records ${recorded.slice(0, 12)}...): the weights are damaged or were replaced`);
  }
  checkFiniteWeights(buf, specs, where);
  const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs as tf.io.WeightsManifestEntry[], weightData }));
  return { model, meta: meta as CheckpointMeta };
}
