/**
 * Guided fine-tuning of MiNet by a frozen MaNet (paper 2.3-2.6), Eq. 8:
 *   L = L_c + l1 L_s + l2 L_sam + l3 L_t + l4 L_con
 * Each minibatch pairs n micro clips with n macro clips drawn at random.
 * MiNet, D_s, D_t and C_s are updated by one Adam optimiser; MaNet is not.
 */
import * as tf from '@tensorflow/tfjs';
import type { ClipSet } from '../data/types.js';
import { makeBatch, type Batch, type Normalization } from '../data/batches.js';
import {
  contrastiveLoss,
  domainLoss,
  expressionLoss,
  samplingLoss,
  type ContrastiveReduction,
  type ContrastiveDenominator,
  type LossTerm,
  type LossWeights,
} from '../model/losses.js';
import { gradientReversal, dannLambda, type GrlSchedule } from '../model/grl.js';
import { buildRelationClassifier, buildSpatialDiscriminator, buildTemporalDiscriminator } from '../model/heads.js';
import { disposeForward, sampleIntervalStarts, type ForwardResult, type TwoStreamNet } from '../model/twostream.js';
import { withInitSeed } from '../model/resnet.js';
import { Rng } from '../util/rng.js';
import { NonFiniteLossError, type StepInfo } from './pretrain.js';
import { FlatAdam } from './optimizer.js';

/** Channels of the three conv layers of D_s, D_t and C_s. Paper: unspecified; quick [32, 32, 32], paper [256, 128, 64]. */
export type HeadWidths = [number, number, number];

export interface FinetuneOptions {
  /** Loss terms of Eq. 8 that are on; "c" always is. */
  losses: LossTerm[];
  /** Epochs of guided fine-tuning (one epoch = one pass over the micro training clips). Quick 4, paper 20. */
  epochs: number;
  /** Adam learning rate of MiNet and the heads. Quick 3e-4, paper 1e-4. */
  lr: number;
  /** Micro clips per minibatch n; each is paired with n macro clips (paper 2.5). Default 8. */
  n: number;
  /** Eq. 8 weights lambda_1..lambda_4. Default s = con = 0.1, sam = t = 0.2 (paper 3.1). */
  weights: LossWeights;
  /** Temperature tau of L_con. Paper: unspecified; default 0.1 (Khosla et al.'s value). */
  tau: number;
  /** 'mean' (default: scale independent of n) or 'sum' (Eq. 5 as written). */
  conReduction: ContrastiveReduction;
  /** D^j of Eq. 7: 'eq7' (u = j kept, as written; default) or 'supcon' (u = j left out). */
  conDenominator: ContrastiveDenominator;
  /** The gradient reversal coefficient over fine-tuning. */
  grl: GrlSchedule;
  headWidths: HeadWidths;
  /** Macro class index -> micro class index, -1 where the macro class has no micro counterpart (negatives only in L_con). */
  macroToMicro: number[];
  seed: number;
  flip: boolean;
  normalization?: Normalization;
  /** Names the run in errors, e.g. "seed 1, fold 3 (s05), L_c + L_s". */
  where: string;
  onStep?: (info: StepInfo) => void;
}

/** The guidance heads a loss set needs. */
export interface GuidanceHeads {
  Ds?: tf.LayersModel;
  Dt?: tf.LayersModel;
  Cs?: tf.LayersModel;
}

export function buildHeads(net: TwoStreamNet, losses: LossTerm[], widths: [number, number, number], seed: number): GuidanceHeads {
  const { K, sc } = net.config;
  const F = net.features;
  return withInitSeed(seed, () => ({
    Ds: losses.includes('s') ? buildSpatialDiscriminator(net.mapSize, F, { widths }) : undefined,
    Dt: losses.includes('t') ? buildTemporalDiscriminator(K, F, { widths }) : undefined,
    Cs: losses.includes('sam') ? buildRelationClassifier(K, F, sc, { widths }) : undefined,
  }));
}

function headVariables(heads: GuidanceHeads): tf.Variable[] {
  return [heads.Ds, heads.Dt, heads.Cs]
    .filter((h): h is tf.LayersModel => h !== undefined)
    .flatMap((h) => h.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
}

export function finetuneSteps(clips: number, epochs: number, n: number): number {
  return epochs * Math.floor(clips / n);
}

/** One minibatch of guided fine-tuning, already drawn. */
export interface FinetuneBatch {
  micro: Batch;
  macro: Batch;
  /** Start frame of each v(s) window, shared by MiNet and MaNet. */
  starts: number[];
  /** Gradient reversal coefficient of this step. */
  lambda: number;
}

/**
 * The Eq. 8 update of MiNet and the heads for one minibatch, with its own
 * optimiser and heads. `guidedFinetune` drives it over epochs; the benchmark
 * times it alone.
 */
export class GuidedStep {
  readonly heads: GuidanceHeads;
  private readonly optimizer: FlatAdam;
  private readonly domains: number[];

  constructor(
    readonly minet: TwoStreamNet,
    readonly manet: TwoStreamNet,
    readonly opts: Pick<FinetuneOptions, 'losses' | 'lr' | 'n' | 'weights' | 'tau' | 'conReduction' | 'conDenominator' | 'headWidths' | 'macroToMicro' | 'seed'>,
  ) {
    this.heads = buildHeads(minet, opts.losses, opts.headWidths, opts.seed);
    this.optimizer = new FlatAdam([...minet.trainableVariables, ...headVariables(this.heads)], { lr: opts.lr });
    this.domains = [...new Array<number>(opts.n).fill(0), ...new Array<number>(opts.n).fill(1)]; // d = 1: macro
  }

  /**
   * The Eq. 8 objective of one minibatch, as the update differentiates it:
   * each term unweighted (`terms`) and the weighted sum (`total`). `teacher`
   * is MaNet's forward pass on the macro clips, a constant of the step. Must
   * run inside a gradient tape or `tf.tidy`; tests call it to check gradients.
   */
  objective(batch: FinetuneBatch, teacher: ForwardResult): { terms: Partial<Record<LossTerm, tf.Scalar>>; total: tf.Scalar } {
    const { minet, heads, opts, domains } = this;
    const { micro: mi, macro: ma, starts, lambda } = batch;
    const sc = minet.config.sc;
    const macroAsMicro = ma.labels.map((l) => opts.macroToMicro[l]);
    const r = minet.forward(mi.apex, mi.frames, { training: true, temporal: 'intervals', starts });
    const terms: Partial<Record<LossTerm, tf.Scalar>> = {};
    const parts: tf.Scalar[] = [];
    const add = (name: LossTerm, value: tf.Scalar, weight: number): void => {
      terms[name] = value;
      parts.push(weight === 1 ? value : (tf.mul(value, weight) as tf.Scalar));
    };
    add('c', expressionLoss(r.logits, mi.labels), 1); // Eq. 1
    if (heads.Ds) {
      // the reversal layer sits between MiNet and D_s: D_s learns to tell the domains apart, MiNet to confuse it
      const maps = tf.concat([gradientReversal(r.apexMap, lambda), teacher.apexMap], 0);
      add('s', domainLoss(heads.Ds.apply(maps, { training: true }) as tf.Tensor, domains), opts.weights.s); // Eq. 2
    }
    if (heads.Cs) {
      const Cs = heads.Cs;
      const logits = r.vs.map((v, k) => Cs.apply(tf.concat([v, teacher.vs[k]], 0), { training: true }) as tf.Tensor2D);
      add('sam', samplingLoss(logits), opts.weights.sam); // Eq. 3
    }
    if (heads.Dt) {
      const Dt = heads.Dt;
      const perS = r.vs.map((v, k) => domainLoss(Dt.apply(tf.concat([gradientReversal(v, lambda), teacher.vs[k]], 0), { training: true }) as tf.Tensor, domains));
      add('t', tf.div(tf.addN(perS), sc) as tf.Scalar, opts.weights.t); // Eq. 4, averaged over s
    }
    if (opts.losses.includes('con')) {
      add('con', contrastiveLoss(r.z, mi.labels, teacher.z, macroAsMicro, opts.tau, opts.conReduction, opts.conDenominator), opts.weights.con); // Eq. 5-7
    }
    return { terms, total: tf.addN(parts) as tf.Scalar }; // Eq. 8
  }

  /** MaNet's features of the macro clips: it is frozen, so they are computed outside the gradient tape. */
  teacher(batch: FinetuneBatch): ForwardResult {
    return this.manet.forward(batch.macro.apex, batch.macro.frames, { training: false, temporal: 'intervals', starts: batch.starts });
  }

  /** Runs one update; returns the value of each loss term and `total` (Eq. 8). */
  async run(batch: FinetuneBatch): Promise<Record<string, number>> {
    const teacher = this.teacher(batch);
    const kept: Record<string, tf.Scalar> = {};
    let cost: tf.Scalar | null = null;
    try {
      cost = this.optimizer.minimize(() => {
        const { terms, total } = this.objective(batch, teacher);
        for (const [name, t] of Object.entries(terms)) kept[name] = tf.keep(t.clone());
        return total;
      });
      const values: Record<string, number> = {};
      for (const [name, t] of Object.entries(kept)) values[name] = (await t.data())[0];
      values.total = (await cost!.data())[0];
      return values;
    } finally {
      if (cost) cost.dispose();
      tf.dispose(Object.values(kept));
      disposeForward(teacher);
    }
  }

  dispose(): void {
    this.optimizer.dispose();
    for (const h of [this.heads.Ds, this.heads.Dt, this.heads.Cs]) h?.dispose();
  }
}

/**
 * Fine-tunes `minet` in place under the guidance of the frozen `manet`.
 * Returns the per-epoch mean of each loss term (training curves).
 */
export async function guidedFinetune(
  minet: TwoStreamNet,
  manet: TwoStreamNet,
  micro: ClipSet,
  microIdx: number[],
  macro: ClipSet,
  opts: FinetuneOptions,
): Promise<Array<Record<string, number>>> {
  const { n } = opts;
  if (minet.features !== manet.features || minet.config.frames !== manet.config.frames || minet.config.sc !== manet.config.sc) {
    throw new Error(`${opts.where}: MiNet and MaNet must share width, T and s_c to be aligned`);
  }
  if (microIdx.length < n) throw new Error(`${opts.where}: ${microIdx.length} micro training clips, fewer than the minibatch size n=${n}`);
  if (macro.clips.length === 0) throw new Error(`${opts.where}: the macro dataset is empty`);
  if (opts.macroToMicro.length !== macro.labels.length) {
    throw new Error(`${opts.where}: label map has ${opts.macroToMicro.length} entries for ${macro.labels.length} macro classes`);
  }
  const rng = new Rng(opts.seed);
  const flipRng = rng.fork(1);
  const macroRng = rng.fork(2);
  const startRng = rng.fork(3);
  const step = new GuidedStep(minet, manet, opts);
  const stepsPerEpoch = Math.floor(microIdx.length / n);
  const totalSteps = Math.max(1, stepsPerEpoch * opts.epochs);
  const curves: Array<Record<string, number>> = [];
  let globalStep = 0;
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const order = rng.shuffle(microIdx);
      const sums: Record<string, number> = {};
      for (let i = 0; i < stepsPerEpoch; i++) {
        const microBatchIdx = order.slice(i * n, (i + 1) * n);
        const macroBatchIdx = Array.from({ length: n }, () => macroRng.int(macro.clips.length));
        const starts = sampleIntervalStarts(minet.config, startRng);
        const lambda = opts.grl.schedule === 'dann' ? opts.grl.lambda * dannLambda(globalStep / totalSteps) : opts.grl.lambda;
        const mi = makeBatch(micro, microBatchIdx, { normalization: opts.normalization, flip: opts.flip ? flipRng : undefined, purpose: 'train' });
        const ma = makeBatch(macro, macroBatchIdx, { normalization: opts.normalization, flip: opts.flip ? flipRng : undefined, purpose: 'train' });
        let values: Record<string, number>;
        try {
          values = await step.run({ micro: mi, macro: ma, starts, lambda });
        } finally {
          tf.dispose([mi.apex, mi.frames, ma.apex, ma.frames]);
        }
        for (const [name, v] of Object.entries(values)) {
          if (!Number.isFinite(v)) throw new NonFiniteLossError(opts.where, epoch, name === 'total' ? 'L (Eq. 8)' : `L_${name}`, v);
          sums[name] = (sums[name] ?? 0) + v;
        }
        values.lambda = lambda;
        globalStep++;
        opts.onStep?.({ epoch, step: i + 1, losses: values });
      }
      const mean: Record<string, number> = { epoch: epoch + 1 };
      for (const [k, v] of Object.entries(sums)) mean[k] = v / Math.max(1, stepsPerEpoch);
      curves.push(mean);
    }
  } finally {
    step.dispose();
  }
  return curves;
}
