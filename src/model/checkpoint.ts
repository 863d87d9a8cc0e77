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
import { centredStarts, intervalIndices, type TemporalMode, type TwoStreamConfig, type TwoStreamNet } from './twostream.js';
import type { Normalization } from '../data/batches.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { GradientReversal } from './grl.js';

export interface TemporalAggregateArgs {
  /** 'mean' over all frames, or 'intervals': mean over s of the mean of v(s) on centred windows. */
  mode: TemporalMode;
  /** Frames T. */
  frames: number;
  /** s_c. */
  sc: number;
  /** K, frame features per v(s) (a lower-case key: layer configs are stored snake_case, and `K` would not survive). */
  samples: number;
  name?: string;
}

/**
 * Frame features [batch, T, F] -> video feature v [batch, F], as MiNet forms v
 * at evaluation: the plain mean before guidance, the aggregate of the v(s)
 * (centred windows) after it.
 */
export class TemporalAggregate extends tf.layers.Layer {
  static readonly className = 'TemporalAggregate';
  readonly mode: TemporalMode;
  readonly frames: number;
  readonly sc: number;
  readonly samples: number;

  constructor(args: TemporalAggregateArgs) {
    super(args);
    this.mode = args.mode;
    this.frames = args.frames;
    this.sc = args.sc;
    this.samples = args.samples;
  }

  /** Per-frame weights that give the same v as the chosen aggregation: v = sum_t w_t f^t. */
  frameWeights(): number[] {
    const w = new Array<number>(this.frames).fill(0);
    if (this.mode === 'mean') return w.map(() => 1 / this.frames);
    const starts = centredStarts({ sc: this.sc, K: this.samples, frames: this.frames });
    for (let k = 0; k < this.sc; k++) {
      for (const t of intervalIndices(starts[k], 2 ** k, this.samples, this.frames)) w[t] += 1 / (this.samples * this.sc);
    }
    return w;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [s[0], s[2]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => {
      const w = tf.tensor3d(this.frameWeights(), [1, this.frames, 1]);
      return tf.sum(tf.mul(x, w), 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode, frames: this.frames, sc: this.sc, samples: this.samples };
  }
}
tf.serialization.registerClass(TemporalAggregate);

/** Keeps the custom layers referenced so bundlers do not drop their registration. */
export const CUSTOM_LAYERS = [TemporalAggregate, GradientReversal];

/** What a checkpoint's `mimanet.json` says about the model. */
export interface CheckpointMeta {
  format: 'mimanet-checkpoint';
  version: 1;
  /** Class names, index = output position. */
  labels: string[];
  net: TwoStreamConfig;
  temporal: TemporalMode;
  normalization: Normalization;
  /** Free-form provenance: dataset, config fingerprint, fold, date. */
  provenance?: Record<string, unknown>;
}

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
export async function saveCheckpoint(net: TwoStreamNet, dir: string, meta: Omit<CheckpointMeta, 'format' | 'version' | 'net'>): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const model = buildInferenceModel(net, meta.temporal);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData ? new Uint8Array(tf.io.concatenateArrayBuffers(Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData])) : new Uint8Array();
      writeFileAtomic(join(dir, 'weights.bin'), weightData);
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
  const full: CheckpointMeta = { format: 'mimanet-checkpoint', version: 1, net: net.config, ...meta };
  writeJsonAtomic(join(dir, 'mimanet.json'), full);
}

export interface LoadedCheckpoint {
  model: tf.LayersModel;
  meta: CheckpointMeta;
}

/** Reads a checkpoint folder in Node (no tfjs-node needed). */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const need = ['model.json', 'weights.bin', 'mimanet.json'];
  for (const f of need) if (!existsSync(join(dir, f))) throw new Error(`${dir}: not a mimanet checkpoint (missing ${f})`);
  let modelJson: { modelTopology: object; weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
  let meta: CheckpointMeta;
  try {
    modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  } catch (e) {
    throw new Error(`${join(dir, 'model.json')}: cannot parse (${(e as Error).message})`);
  }
  try {
    meta = JSON.parse(readFileSync(join(dir, 'mimanet.json'), 'utf8'));
  } catch (e) {
    throw new Error(`${join(dir, 'mimanet.json')}: cannot parse (${(e as Error).message})`);
  }
  if (meta.format !== 'mimanet-checkpoint') throw new Error(`${join(dir, 'mimanet.json')}: format is ${JSON.stringify(meta.format)}, expected "mimanet-checkpoint"`);
  const specs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const buf = readFileSync(join(dir, 'weights.bin'));
  const expected = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (buf.length !== expected) throw new Error(`${join(dir, 'weights.bin')}: ${buf.length} bytes, model.json describes ${expected}`);
  const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData }));
  return { model, meta };
}
