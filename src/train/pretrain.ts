/**
 * Pretraining of MiNet and MaNet with L_c alone (Eq. 1, paper 2.2), and
 * prediction with a trained net.
 */
import * as tf from '@tensorflow/tfjs';
import type { ClipSet } from '../data/types.js';
import { makeBatch, type Normalization } from '../data/batches.js';
import { expressionLoss } from '../model/losses.js';
import type { TemporalMode, TwoStreamNet } from '../model/twostream.js';
import { Rng } from '../util/rng.js';
import { FlatAdam } from './optimizer.js';

/** Thrown when a loss term becomes NaN or infinite: says where, so the run can be fixed. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly where: string,
    readonly epoch: number,
    readonly term: string,
    readonly value: number,
  ) {
    super(`${where}: loss term ${term} became ${value} at epoch ${epoch + 1}; lower the learning rate, or check the input data and the weights training started from`);
    this.name = 'NonFiniteLossError';
  }
}

export interface StepInfo {
  epoch: number;
  step: number;
  /** Value of each loss term of this step (and `total`). */
  losses: Record<string, number>;
}

export interface ClassifierTrainOptions {
  epochs: number;
  /** Adam learning rate. Default 1e-3. */
  lr: number;
  /** Clips per batch. Default 16. */
  batchSize: number;
  seed: number;
  /** Random left-right mirroring. */
  flip: boolean;
  normalization?: Normalization;
  /** Names the run in errors, e.g. "fold 3 (s05) MiNet pretraining". */
  where: string;
  onStep?: (info: StepInfo) => void;
}

/** Number of optimiser steps a classifier pretraining takes. */
export function pretrainSteps(clips: number, epochs: number, batchSize: number): number {
  return epochs * Math.ceil(clips / batchSize);
}

/**
 * Trains a two-stream net with L_c on the given clips, v = mean over all frames.
 * Returns the mean loss of each epoch.
 */
export async function pretrainClassifier(net: TwoStreamNet, set: ClipSet, indices: number[], opts: ClassifierTrainOptions): Promise<number[]> {
  if (indices.length === 0) throw new Error(`${opts.where}: no training clips`);
  const rng = new Rng(opts.seed);
  const flipRng = rng.fork(1);
  const optimizer = new FlatAdam(net.trainableVariables, { lr: opts.lr });
  const epochLosses: number[] = [];
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const order = rng.shuffle(indices);
      let sum = 0;
      let steps = 0;
      for (let b = 0; b < order.length; b += opts.batchSize) {
        const idx = order.slice(b, b + opts.batchSize);
        // batch-norm needs more than one sample per batch in training mode
        if (idx.length < 2) continue;
        const batch = makeBatch(set, idx, { normalization: opts.normalization, flip: opts.flip ? flipRng : undefined, purpose: 'train' });
        let value: number;
        try {
          const cost = optimizer.minimize(() => {
            const r = net.forward(batch.apex, batch.frames, { training: true, temporal: 'mean' });
            return expressionLoss(r.logits, batch.labels);
          });
          value = (await cost.data())[0];
          cost.dispose();
        } finally {
          tf.dispose([batch.apex, batch.frames]);
        }
        if (!Number.isFinite(value)) throw new NonFiniteLossError(opts.where, epoch, 'L_c', value);
        sum += value;
        steps++;
        opts.onStep?.({ epoch, step: steps, losses: { c: value, total: value } });
      }
      epochLosses.push(steps > 0 ? sum / steps : NaN);
    }
  } finally {
    optimizer.dispose();
  }
  return epochLosses;
}

export interface Prediction {
  pred: number;
  probs: number[];
}

/** Fused features z of a net on the given clips (batch-norm in inference mode). */
export async function embedClips(
  net: TwoStreamNet,
  set: ClipSet,
  indices: number[],
  temporal: TemporalMode,
  opts: { batchSize?: number; normalization?: Normalization } = {},
): Promise<number[][]> {
  const bs = opts.batchSize ?? 16;
  const out: number[][] = [];
  for (let b = 0; b < indices.length; b += bs) {
    const batch = makeBatch(set, indices.slice(b, b + bs), { normalization: opts.normalization });
    const z = tf.tidy(() => net.forward(batch.apex, batch.frames, { training: false, temporal }).z);
    out.push(...((await z.array()) as number[][]));
    tf.dispose([z, batch.apex, batch.frames]);
  }
  return out;
}

/** Class probabilities of a net on the given clips (batch-norm in inference mode). */
export async function predictClips(
  net: TwoStreamNet,
  set: ClipSet,
  indices: number[],
  temporal: TemporalMode,
  opts: { batchSize?: number; normalization?: Normalization } = {},
): Promise<Prediction[]> {
  const bs = opts.batchSize ?? 16;
  const out: Prediction[] = [];
  for (let b = 0; b < indices.length; b += bs) {
    const idx = indices.slice(b, b + bs);
    const batch = makeBatch(set, idx, { normalization: opts.normalization });
    const probs = tf.tidy(() => tf.softmax(net.forward(batch.apex, batch.frames, { training: false, temporal }).logits));
    const values = (await probs.array()) as number[][];
    tf.dispose([probs, batch.apex, batch.frames]);
    for (const p of values) out.push({ pred: p.indexOf(Math.max(...p)), probs: p });
  }
  return out;
}
