/**
 * The paper's protocol end to end: leave-one-subject-out over the micro data,
 * for each seed and each ablation row (a set of loss terms).
 *
 *   per seed:   MaNet pretrained once on the macro data (it sees no micro data)
 *   per fold:   MiNet pretrained on the fold's training subjects only (L_c),
 *               shared by every ablation row of that fold
 *   per row:    a copy of that MiNet fine-tuned with the row's loss terms,
 *               then evaluated on the held-out subject after the last epoch
 *               (nothing is chosen on the held-out subject)
 *
 * Every finished unit is written to the results folder (src/results/) at once,
 * atomically; a rerun with the same config skips what exists, so an
 * interrupted run resumes. The summary and the report are made from the folder
 * by the command, afterwards.
 */
import { mkdirSync } from 'node:fs';
import type { MimanetConfig } from '../config.js';
import { loadExperimentData, type ExperimentData } from '../data/load.js';
import { TwoStreamNet, type TwoStreamConfig } from '../model/twostream.js';
import { withInitSeed } from '../model/resnet.js';
import { hasNetWeights, loadNetWeights, saveNetWeights } from '../model/io.js';
import { variantName, type LossTerm } from '../model/losses.js';
import { losoFolds, checkFoldClasses, shareOfTraining, type Fold } from './folds.js';
import { pretrainClassifier, predictClips, pretrainSteps, embedClips } from './pretrain.js';
import { saveCheckpoint } from '../model/checkpoint.js';
import { initTwoStreamFromImagenet, parseImagenetInit, type ImagenetLoadResult } from '../model/safetensors.js';
import { normalizationFor, type Normalization } from '../data/batches.js';
import { Rng, deriveSeed } from '../util/rng.js';
import { guidedFinetune, finetuneSteps, type FinetuneOptions } from './finetune.js';
import {
  configFingerprint,
  foldCheckpointDir,
  foldDir,
  hasFoldResult,
  hasTransfer,
  lockRunFolder,
  manetPath,
  minetPretrainedPath,
  prepareRunFolder,
  readCurve,
  rowName,
  seedsOf,
  variantKey,
  writeCurve,
  writeEmbeddings,
  writeFoldResult,
  writeTransfer,
  type EmbeddingPoint,
  type FoldVariantResult,
  type RunInfo,
  type Settings,
  type TransferRecord,
} from '../results/index.js';

export function netConfig(cfg: MimanetConfig, classes: number): TwoStreamConfig {
  const m = cfg.model;
  // with the flow input the streams see three channels (u, v, strain) whatever the frames' channels
  return { classes, size: m.size, channels: m.input === 'flow' ? 3 : m.channels, frames: m.frames, width: m.width, sc: m.sc, K: m.K };
}

/** Progress events of the long loops, for a progress bar. */
export interface ExperimentEvents {
  log?: (message: string) => void;
  /** `steps` optimiser steps done; `info` carries the latest loss values. */
  tick?: (steps: number, info: Record<string, string | number>) => void;
  /** Total steps planned (after resume accounting). */
  plan?: (totalSteps: number) => void;
}

/** One fold's work, for a worker: which seed, which fold, which rows remain. */
export interface FoldJob {
  seed: number;
  fold: number;
  /** Share of the fold's micro training subjects. */
  share: number;
  variants: LossTerm[][];
  needsPretrain: boolean;
  /** What each record of the job keeps: the settings (backend included) and an accepted backend change. */
  record?: RecordStamp;
}

/** Kept with every record a run writes, so a folder is never resumed under other settings. */
export interface RecordStamp {
  settings: Settings;
  backendChange?: { backend: string; earlier: string[] };
}

/** Everything a fold job needs that can be rebuilt in a worker from the config. */
export interface ExperimentContext {
  cfg: MimanetConfig;
  data: ExperimentData;
  folds: Fold[];
  manets: Map<number, TwoStreamNet>;
}

/** Eq. 8 fine-tuning settings of a config for one loss set. */
export function finetuneOptions(cfg: MimanetConfig, data: ExperimentData, losses: LossTerm[], run: Pick<FinetuneOptions, 'seed' | 'where' | 'onStep'>): FinetuneOptions {
  return {
    ...cfg.finetune,
    losses,
    normalization: normalizationOf(cfg),
    headWidths: cfg.model.headWidths,
    macroToMicro: data.macroToMicro,
    flip: cfg.flip,
    ...run,
  };
}

/** The input normalisation of a config: ImageNet statistics with ImageNet weights, and the input mode. */
export function normalizationOf(cfg: MimanetConfig): Normalization {
  return normalizationFor(cfg.model.init, cfg.model.channels, cfg.model.input, cfg.model.flow);
}

/** Starts both streams from ImageNet weights when `model.init` says so (before pretraining); returns what was loaded. */
export function initFromConfig(cfg: MimanetConfig, net: TwoStreamNet): ImagenetLoadResult | undefined {
  return cfg.model.init === 'scratch' ? undefined : initTwoStreamFromImagenet(net, parseImagenetInit(cfg.model.init));
}

/** Which MiNet pretraining: its weights' folder, the clips, its seed, and names for errors and the progress bar. */
export interface MinetPretraining {
  /** Base path of the weights; when they exist they are loaded instead. */
  base: string;
  /** Indices of the micro clips it trains on. */
  train: number[];
  seed: number;
  where: string;
  stage: string;
  /** Kept in the weight file (the settings they were trained under). */
  meta?: Record<string, unknown>;
}

/**
 * Pretrains MiNet on micro clips with L_c alone (or loads it from `p.base`),
 * starting from ImageNet weights when `model.init` says so. Shared by the LOSO
 * folds and the deployable model of `mimanet train`. Returns the per-epoch
 * mean L_c (empty when loaded) and what ImageNet initialisation loaded.
 */
export async function obtainMinet(
  cfg: MimanetConfig,
  data: ExperimentData,
  minet: TwoStreamNet,
  p: MinetPretraining,
  events: ExperimentEvents = {},
): Promise<{ curve: number[]; init?: ImagenetLoadResult }> {
  if (hasNetWeights(p.base)) {
    loadNetWeights(minet, p.base);
    return { curve: readCurve(p.base)?.epochs ?? [] };
  }
  const init = initFromConfig(cfg, minet);
  const curve = await pretrainClassifier(minet, data.micro, p.train, {
    epochs: cfg.pretrain.minetEpochs,
    lr: cfg.pretrain.lr,
    batchSize: cfg.pretrain.batchSize,
    seed: p.seed,
    flip: cfg.flip,
    normalization: normalizationOf(cfg),
    where: p.where,
    onStep: (s) => events.tick?.(1, { stage: p.stage, L_c: s.losses.c }),
  });
  writeCurve(p.base, { epochs: curve });
  await saveNetWeights(minet, p.base, p.meta);
  return { curve, init };
}

/** Pretrains (or loads) MaNet for one seed. */
export async function obtainManet(cfg: MimanetConfig, data: ExperimentData, seed: number, events: ExperimentEvents = {}, meta?: Record<string, unknown>): Promise<TwoStreamNet> {
  const base = manetPath(cfg.out, seed);
  const manet = withInitSeed(deriveSeed(seed, 'manet'), () => new TwoStreamNet(netConfig(cfg, data.macro.labels.length), 'MaNet'));
  if (hasNetWeights(base)) {
    loadNetWeights(manet, base);
    return manet;
  }
  try {
    initFromConfig(cfg, manet);
    const all = data.macro.clips.map((_, i) => i);
    const curve = await pretrainClassifier(manet, data.macro, all, {
      epochs: cfg.pretrain.manetEpochs,
      lr: cfg.pretrain.lr,
      batchSize: cfg.pretrain.batchSize,
      seed: deriveSeed(seed, 'manet-train'),
      flip: cfg.flip,
      normalization: normalizationOf(cfg),
      where: `seed ${seed}, MaNet pretraining`,
      onStep: (s) => events.tick?.(1, { stage: 'MaNet', L_c: s.losses.c }),
    });
    const train = await predictClips(manet, data.macro, all, 'mean', { normalization: normalizationOf(cfg) });
    const acc = train.filter((p, i) => p.pred === data.macro.clips[i].label).length / all.length;
    writeCurve(base, { epochs: curve, trainAccuracy: acc });
    events.log?.(`seed ${seed}: MaNet pretrained on ${all.length} macro clips, training accuracy ${acc.toFixed(3)}`);
    await saveNetWeights(manet, base, meta);
    return manet;
  } catch (e) {
    manet.dispose();
    throw e;
  }
}

/**
 * The transfer diagnostic: MaNet alone (trained on macro clips only, never on
 * micro data) scores every micro clip; each micro class gets the summed
 * probability of the macro classes that map to it (macro classes without a
 * micro counterpart are dropped). Every micro clip is a test clip of some fold,
 * and MaNet is the same for all folds, so all clips are scored once.
 */
export async function scoreTransfer(cfg: MimanetConfig, data: ExperimentData, manet: TwoStreamNet, seed: number): Promise<TransferRecord> {
  const all = data.micro.clips.map((_, i) => i);
  const preds = await predictClips(manet, data.micro, all, 'mean', { normalization: normalizationOf(cfg) });
  const L = data.micro.labels.length;
  return {
    seed,
    predictions: all.map((ci, k) => {
      const c = data.micro.clips[ci];
      const probs = new Array<number>(L).fill(0);
      preds[k].probs.forEach((p, m) => {
        const to = data.macroToMicro[m];
        if (to >= 0) probs[to] += p;
      });
      const total = probs.reduce((a, b) => a + b, 0) || 1;
      const norm = probs.map((p) => p / total);
      return { clipId: c.id, subject: c.subject, source: c.source, label: c.label, pred: norm.indexOf(Math.max(...norm)), probs: norm };
    }),
  };
}

/** Runs the remaining rows of one fold; writes each row's result as soon as it is done. */
export async function runFoldJob(ctx: ExperimentContext, job: FoldJob, events: ExperimentEvents = {}): Promise<void> {
  const { cfg, data } = ctx;
  const fold = ctx.folds[job.fold];
  const manet = ctx.manets.get(job.seed);
  if (!manet) throw new Error(`no MaNet for seed ${job.seed}`);
  mkdirSync(foldDir(cfg.out, job.seed, fold), { recursive: true });
  let where = `seed ${job.seed}, fold ${fold.index + 1}/${ctx.folds.length} (held-out subject ${fold.subject})`;
  const make = (salt: string): TwoStreamNet =>
    withInitSeed(deriveSeed(job.seed, salt, fold.subject), () => new TwoStreamNet(netConfig(cfg, data.micro.labels.length), 'MiNet'));
  const train = foldTraining(cfg, data, fold, job.seed, job.share);
  if (job.share !== 1) where += `, ${Math.round(job.share * 1000) / 10}% of training subjects (${train.length} clips)`;
  const minet = make('minet');
  try {
    const { curve: pretrainCurve } = await obtainMinet(
      cfg,
      data,
      minet,
      {
        base: minetPretrainedPath(cfg.out, job.seed, fold, job.share),
        train,
        seed: deriveSeed(job.seed, 'minet-train', fold.subject, ...shareSalt(job.share)),
        where: `${where}, MiNet pretraining`,
        stage: `fold ${fold.index + 1} MiNet`,
        meta: job.record && { settings: job.record.settings },
      },
      events,
    );
    for (const losses of job.variants) {
      const t0 = Date.now();
      const name = rowName(losses, job.share);
      const tuned = make('copy');
      try {
        tuned.copyFrom(minet);
        const curves = await guidedFinetune(
          tuned,
          manet,
          data.micro,
          train,
          data.macro,
          finetuneOptions(cfg, data, losses, {
            seed: deriveSeed(job.seed, 'finetune', fold.subject, variantKey(losses), ...shareSalt(job.share)),
            where: `${where}, ${name}`,
            onStep: (s) => events.tick?.(1, { stage: `fold ${fold.index + 1} ${variantKey(losses)}`, L: s.losses.total }),
          }),
        );
        const preds = await predictClips(tuned, data.micro, fold.test, 'intervals', { normalization: normalizationOf(cfg) });
        const result: FoldVariantResult = {
          seed: job.seed,
          fold: fold.index,
          subject: fold.subject,
          variant: name,
          losses,
          share: job.share,
          trainClips: train.length,
          predictions: fold.test.map((ci, i) => {
            const c = data.micro.clips[ci];
            return { clipId: c.id, subject: c.subject, source: c.source, label: c.label, pred: preds[i].pred, probs: preds[i].probs };
          }),
          curves,
          pretrainCurve,
          seconds: (Date.now() - t0) / 1000,
          ...job.record,
        };
        const isLast = variantKey(losses) === variantKey(cfg.variants[cfg.variants.length - 1]) && job.share === 1;
        if (cfg.foldCheckpoints === 'all' || (cfg.foldCheckpoints === 'last' && isLast)) {
          await saveCheckpoint(tuned, foldCheckpointDir(cfg.out, job.seed, fold, losses), {
            labels: data.micro.labels,
            temporal: 'intervals',
            normalization: normalizationOf(cfg),
            preprocessing: data.preprocessing,
            provenance: {
              dataset: data.micro.name,
              macro: data.macro.name,
              seed: job.seed,
              heldOutSubject: fold.subject,
              variant: name,
              fingerprint: configFingerprint(cfg),
            },
          });
        }
        if (cfg.embeddings && isLast && fold.index === 0) await saveEmbeddings(ctx, job.seed, fold, minet, tuned, manet);
        writeFoldResult(cfg.out, fold, result);
      } finally {
        tuned.dispose();
      }
    }
  } finally {
    minet.dispose();
  }
}

/** Most macro clips put into the embedding picture. */
const EMBEDDING_MACRO_CLIPS = 150;

/**
 * Features z of MiNet (on the fold's micro training clips) and MaNet (on macro
 * clips), before and after guided fine-tuning: what the report's embedding
 * plots show. MaNet's macro labels are mapped to micro class names.
 */
async function saveEmbeddings(ctx: ExperimentContext, seed: number, fold: Fold, before: TwoStreamNet, after: TwoStreamNet, manet: TwoStreamNet): Promise<void> {
  const { data } = ctx;
  const macroIdx = new Rng(deriveSeed(seed, 'embedding-macro')).shuffle(data.macro.clips.map((_, i) => i)).slice(0, EMBEDDING_MACRO_CLIPS);
  const macroLabel = (i: number): string => {
    const m = data.macroToMicro[data.macro.clips[i].label];
    return m >= 0 ? data.micro.labels[m] : 'other';
  };
  const points: EmbeddingPoint[] = [];
  const round = (z: number[]): number[] => z.map((x) => Math.round(x * 1e4) / 1e4);
  for (const [stage, net, temporal] of [['before', before, 'mean'], ['after', after, 'intervals']] as const) {
    const zMicro = await embedClips(net, data.micro, fold.train, temporal, { normalization: normalizationOf(ctx.cfg) });
    fold.train.forEach((ci, k) => points.push({ stage, net: 'MiNet', domain: 'micro', label: data.micro.labels[data.micro.clips[ci].label], clip: data.micro.clips[ci].id, z: round(zMicro[k]) }));
    const zMacro = await embedClips(manet, data.macro, macroIdx, 'intervals', { normalization: normalizationOf(ctx.cfg) });
    macroIdx.forEach((ci, k) => points.push({ stage, net: 'MaNet', domain: 'macro', label: macroLabel(ci), clip: data.macro.clips[ci].id, z: round(zMacro[k]) }));
  }
  writeEmbeddings(ctx.cfg.out, seed, { fold: fold.subject, labels: data.micro.labels, points });
}

/** Rows of a fold and training share that have no result file yet. */
export function remainingVariants(cfg: MimanetConfig, seed: number, fold: Fold, share = 1): LossTerm[][] {
  return cfg.variants.filter((v) => !hasFoldResult(cfg.out, seed, fold, v, share));
}

/** Salt of seeds that depend on the training share; empty for share 1, so full-share runs keep their seeds. */
function shareSalt(share: number): string[] {
  return share === 1 ? [] : [`share${share}`];
}

/** The micro training clips of a fold for a training share (all of `fold.train` at share 1). */
export function foldTraining(cfg: MimanetConfig, data: ExperimentData, fold: Fold, seed: number, share: number): number[] {
  const rng = new Rng(deriveSeed(seed, 'train-share', fold.subject, share));
  return shareOfTraining(fold, data.micro.clips, data.micro.labels.length, share, rng, cfg.finetune.n);
}

export type { RunInfo } from '../results/index.js';

export interface ExperimentResult {
  out: string;
  /** The micro dataset's name and class names (what the summary is about). */
  dataset: string;
  labels: string[];
  /** The LOSO folds of the micro dataset. */
  folds: Fold[];
  /** Fold-rows whose results were already on disk. */
  resumedUnits: number;
  computedUnits: number;
}

/** Lists the fold jobs still to do, and their optimiser steps (for the progress bar). */
export function planJobs(cfg: MimanetConfig, data: ExperimentData, folds: Fold[]): { jobs: FoldJob[]; steps: number; done: number } {
  const jobs: FoldJob[] = [];
  let steps = 0;
  let done = 0;
  for (const seed of seedsOf(cfg)) {
    if (!hasNetWeights(manetPath(cfg.out, seed))) steps += pretrainSteps(data.macro.clips.length, cfg.pretrain.manetEpochs, cfg.pretrain.batchSize);
    for (const share of cfg.microTrainShares) {
      for (const fold of folds) {
        const variants = remainingVariants(cfg, seed, fold, share);
        done += cfg.variants.length - variants.length;
        if (variants.length === 0) continue;
        const train = foldTraining(cfg, data, fold, seed, share).length;
        const needsPretrain = !hasNetWeights(minetPretrainedPath(cfg.out, seed, fold, share));
        if (needsPretrain) steps += pretrainSteps(train, cfg.pretrain.minetEpochs, cfg.pretrain.batchSize);
        steps += variants.length * finetuneSteps(train, cfg.finetune.epochs, cfg.finetune.n);
        jobs.push({ seed, fold: fold.index, share, variants, needsPretrain });
      }
    }
  }
  return { jobs, steps, done };
}

export interface RunOptions {
  /** Parallel fold workers (threads, each with its own backend). 1 runs in this thread. */
  workers: number;
  info: RunInfo;
  events?: ExperimentEvents;
  /** Resume a folder whose pieces were made on another backend (each new row records it). */
  allowBackendChange?: boolean;
  /** Runs fold jobs on workers; supplied by the worker pool so this module stays free of thread code. */
  runJobsInWorkers?: (cfg: MimanetConfig, jobs: FoldJob[], workers: number, events: ExperimentEvents) => Promise<void>;
}

/** A run checked and planned: its data, LOSO folds, the fold jobs still to do (see {@link planJobs}) and the stamp of its records. */
export interface PreparedExperiment {
  data: ExperimentData;
  folds: Fold[];
  jobs: FoldJob[];
  /** Optimiser steps still to run (MaNet pretraining of seeds without weights included). */
  steps: number;
  /** Fold-rows already on disk. */
  done: number;
  /** What every record of the run keeps (set on each of `jobs`). */
  record: RecordStamp;
}

/**
 * Loads the data, checks the folds, records the run in its folder (refusing a
 * folder of other settings) and plans what remains: the part of a run shared
 * by the local runner below and the queue coordinator (src/queue).
 */
export async function prepareExperiment(
  cfg: MimanetConfig,
  info: RunInfo,
  events: ExperimentEvents = {},
  opts: Pick<RunOptions, 'allowBackendChange'> = {},
): Promise<PreparedExperiment> {
  const data = await loadExperimentData(cfg, { log: events.log ?? (() => {}) });
  const folds = losoFolds(data.micro.clips);
  for (const fold of folds) checkFoldClasses(fold, data.micro.clips, data.micro.labels);
  for (const fold of folds) {
    if (fold.train.length < cfg.finetune.n) {
      throw new Error(`fold ${fold.index + 1} (held-out subject ${fold.subject}): ${fold.train.length} training clips, fewer than finetune.n=${cfg.finetune.n}`);
    }
  }
  const leftOut = data.leftOut ?? [];
  const folder = prepareRunFolder(cfg, { ...info, leftOut }, { allowBackendChange: opts.allowBackendChange });
  for (const n of folder.notes) events.log?.(n);
  if (folder.backendChange) events.log?.(`continuing a folder begun on backend ${folder.backendChange.earlier.join(', ')} on ${folder.backendChange.backend} (--allow-backend-change); each new row records it`);
  if (leftOut.length > 0) events.log?.(`${leftOut.length} clip(s) left out of this run, listed in run.json and summary.md`);
  const record: RecordStamp = { settings: folder.settings, ...(folder.backendChange ? { backendChange: folder.backendChange } : {}) };
  const { jobs, steps, done } = planJobs(cfg, data, folds);
  for (const j of jobs) j.record = record;
  events.log?.(
    `${data.micro.name}: ${data.micro.clips.length} micro clips, ${folds.length} subjects (LOSO folds); ${data.macro.name}: ${data.macro.clips.length} macro clips; ` +
      `${cfg.variants.length} rows x ${cfg.microTrainShares.length} training share(s) x ${cfg.seeds} seed(s); ${done} fold-rows already done, ${jobs.reduce((s, j) => s + j.variants.length, 0)} to run`,
  );
  return { data, folds, jobs, steps, done, record };
}

/** What a finished run reports, from its plan. */
export function experimentResult(cfg: MimanetConfig, p: PreparedExperiment): ExperimentResult {
  return {
    out: cfg.out,
    dataset: p.data.micro.name,
    labels: [...p.data.micro.labels],
    folds: p.folds,
    resumedUnits: p.done,
    computedUnits: p.jobs.reduce((s, j) => s + j.variants.length, 0),
  };
}

/** Seeds whose MaNet is needed: some fold job of theirs remains, or their transfer diagnostic is missing. */
export function seedsNeedingManet(cfg: MimanetConfig, jobs: readonly FoldJob[]): number[] {
  return seedsOf(cfg).filter((seed) => jobs.some((j) => j.seed === seed) || !hasTransfer(cfg.out, seed));
}

/**
 * The unit every fold job of a seed waits for: MaNet pretrained (or loaded),
 * and the transfer diagnostic written when it is missing. Returns MaNet.
 */
export async function runManetJob(cfg: MimanetConfig, data: ExperimentData, seed: number, record: RecordStamp, events: ExperimentEvents = {}): Promise<TwoStreamNet> {
  const manet = await obtainManet(cfg, data, seed, events, { settings: record.settings });
  try {
    if (!hasTransfer(cfg.out, seed)) writeTransfer(cfg.out, { ...(await scoreTransfer(cfg, data, manet, seed)), settings: record.settings });
    return manet;
  } catch (e) {
    manet.dispose();
    throw e;
  }
}

/**
 * Runs (or resumes) the whole protocol and writes each fold-row's result into
 * the results folder. The summary and the report are made from the folder
 * afterwards (src/eval/run-summary.ts, src/eval/report-html.ts).
 */
export async function runExperiment(cfg: MimanetConfig, opts: RunOptions): Promise<ExperimentResult> {
  const events = opts.events ?? {};
  const lock = lockRunFolder(cfg.out);
  try {
    if (lock.note) events.log?.(lock.note);
    return await runLocked(cfg, opts, events);
  } finally {
    lock.release();
  }
}

async function runLocked(cfg: MimanetConfig, opts: RunOptions, events: ExperimentEvents): Promise<ExperimentResult> {
  const prepared = await prepareExperiment(cfg, opts.info, events, opts);
  const { data, folds, jobs, steps, record } = prepared;
  events.plan?.(steps);
  const manets = new Map<number, TwoStreamNet>();
  try {
    for (const seed of seedsNeedingManet(cfg, jobs)) manets.set(seed, await runManetJob(cfg, data, seed, record, events));
    if (opts.workers > 1 && jobs.length > 1 && opts.runJobsInWorkers) {
      // workers load MaNet from disk; free this thread's copies first
      for (const m of manets.values()) m.dispose();
      manets.clear();
      await opts.runJobsInWorkers(cfg, jobs, opts.workers, events);
    } else {
      const ctx: ExperimentContext = { cfg, data, folds, manets };
      for (const job of jobs) await runFoldJob(ctx, job, events);
    }
  } finally {
    for (const m of manets.values()) m.dispose();
  }
  return experimentResult(cfg, prepared);
}

/** Rebuilds a fold-job context in a worker: same data, folds and MaNet weights as the main thread. */
export async function workerContext(cfg: MimanetConfig, seeds: number[]): Promise<ExperimentContext> {
  const data = await loadExperimentData(cfg, { log: () => {} });
  const folds = losoFolds(data.micro.clips);
  const manets = new Map<number, TwoStreamNet>();
  for (const seed of seeds) {
    const m = withInitSeed(deriveSeed(seed, 'manet'), () => new TwoStreamNet(netConfig(cfg, data.macro.labels.length), 'MaNet'));
    loadNetWeights(m, manetPath(cfg.out, seed));
    manets.set(seed, m);
  }
  return { cfg, data, folds, manets };
}
