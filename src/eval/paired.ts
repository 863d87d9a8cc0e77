/**
 * Paired comparison of two ablation rows over the same seeds and test clips:
 * the per-seed difference of a score, and a 95% interval from a two-level
 * bootstrap over training seeds and test clips. Both rows get the same draw
 * (that is what "paired" buys: clip difficulty and seed luck cancel out of
 * the difference).
 *
 * Seeds and clips are crossed when every seed scored the same clips (the
 * synthetic data seed is fixed, so each training seed meets the same 240
 * clips): a replicate then draws seeds, and one draw of clips shared by all
 * drawn seeds. Drawing clips afresh within each seed would average a clip
 * effect that all seeds share over S independent draws and shrink it by about
 * 1/S. Where the seeds scored different clips (other splits, a varying data
 * seed) they are nested, and each drawn seed gets its own draw of its clips.
 */
import { computeMetrics } from './metrics.js';
import { Rng } from '../util/rng.js';

/** Replicates of the bootstrap. Default 2000. */
export const DEFAULT_BOOTSTRAP_REPLICATES = 2000;
/** Seed of the bootstrap's draws, so a summary is reproducible to the digit. */
export const DEFAULT_BOOTSTRAP_SEED = 20210819;

/** One seed's predictions of both rows on the same clips, in the same order. */
export interface PairedSeed {
  seed: number;
  labels: number[];
  /** Predictions of the row being compared. */
  row: number[];
  /** Predictions of the baseline row. */
  base: number[];
  /** Clip ids, in the order of `labels`. Without them seeds cannot be matched clip for clip, and the design is nested. */
  clips?: string[];
}

/** How the bootstrap combines seeds and clips (see the module comment). */
export type BootstrapDesign = 'crossed' | 'nested';

export interface PairedDifference {
  /** Score of the row minus score of the baseline, mean over seeds. */
  mean: number;
  /** The difference for each seed, in seed order. */
  perSeed: number[];
  /** 2.5% and 97.5% percentiles of the bootstrap distribution of the mean difference. */
  ci95: [number, number];
  /** Seeds on which the row scored higher than the baseline. */
  wins: number;
  /** Design of the bootstrap behind `ci95`. */
  design: BootstrapDesign;
}

export type PairedMetric = 'UF1' | 'UAR';

export interface PairedOptions {
  replicates?: number;
  seed?: number;
}

/** UF1 and UAR of the clips at `idx` (a resample), from one confusion matrix. */
function scores(labels: number[], preds: number[], idx: Int32Array, classes: number): Record<PairedMetric, number> {
  const y = new Array<number>(idx.length);
  const p = new Array<number>(idx.length);
  for (let i = 0; i < idx.length; i++) {
    y[i] = labels[idx[i]];
    p[i] = preds[idx[i]];
  }
  const m = computeMetrics(y, p, classes);
  return { UF1: m.UF1, UAR: m.UAR };
}

function percentile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * `crossed` when every seed scored the same clip ids with the same labels, so
 * one draw of clips means the same clips for each seed; `nested` otherwise.
 */
export function bootstrapDesign(seeds: readonly PairedSeed[]): BootstrapDesign {
  const first = seeds[0];
  if (!first?.clips) return 'nested';
  const label = new Map(first.clips.map((c, i) => [c, first.labels[i]]));
  if (label.size !== first.clips.length) return 'nested';
  for (const s of seeds) {
    if (!s.clips || s.clips.length !== label.size || new Set(s.clips).size !== s.clips.length) return 'nested';
    if (s.clips.some((c, i) => label.get(c) !== s.labels[i])) return 'nested';
  }
  return 'crossed';
}

/** `s` with its clips in the order of `clips` (which holds the same ids). */
function inClipOrder(s: PairedSeed, clips: readonly string[]): PairedSeed {
  const at = new Map(s.clips!.map((c, i) => [c, i]));
  const idx = clips.map((c) => at.get(c)!);
  return { ...s, clips: [...clips], labels: idx.map((i) => s.labels[i]), row: idx.map((i) => s.row[i]), base: idx.map((i) => s.base[i]) };
}

/**
 * Differences row - baseline of UF1 and UAR (each seed's predictions pooled
 * over its folds, as everywhere else), with percentile intervals of one
 * two-level paired bootstrap, crossed or nested as `bootstrapDesign` finds:
 * both metrics are read off the same resamples.
 */
export function pairedDifferences(seeds: PairedSeed[], classes: number, opts: PairedOptions = {}): Record<PairedMetric, PairedDifference> {
  if (seeds.length === 0) throw new Error('pairedDifference: no seeds to compare');
  for (const s of seeds) {
    if (s.row.length !== s.labels.length || s.base.length !== s.labels.length || s.labels.length === 0) {
      throw new Error(`pairedDifference: seed ${s.seed} has ${s.labels.length} labels, ${s.row.length} row and ${s.base.length} baseline predictions; both rows must score the same clips`);
    }
    if (s.clips && s.clips.length !== s.labels.length) {
      throw new Error(`pairedDifference: seed ${s.seed} has ${s.clips.length} clip ids for ${s.labels.length} labels`);
    }
  }
  const design = bootstrapDesign(seeds);
  if (design === 'crossed') seeds = seeds.map((s) => inClipOrder(s, seeds[0].clips!));
  const metrics: PairedMetric[] = ['UF1', 'UAR'];
  const diff = (s: PairedSeed, idx: Int32Array): Record<PairedMetric, number> => {
    const r = scores(s.labels, s.row, idx, classes);
    const b = scores(s.labels, s.base, idx, classes);
    return { UF1: r.UF1 - b.UF1, UAR: r.UAR - b.UAR };
  };
  const perSeed = seeds.map((s) => diff(s, Int32Array.from(s.labels, (_, i) => i)));
  const rng = new Rng(opts.seed ?? DEFAULT_BOOTSTRAP_SEED);
  const B = opts.replicates ?? DEFAULT_BOOTSTRAP_REPLICATES;
  const reps: Record<PairedMetric, number[]> = { UF1: [], UAR: [] };
  const drawClips = (n: number): Int32Array => {
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    return idx;
  };
  for (let b = 0; b < B; b++) {
    const sum = { UF1: 0, UAR: 0 };
    const add = (x: Record<PairedMetric, number>): void => {
      for (const m of metrics) sum[m] += x[m];
    };
    if (design === 'crossed') {
      const drawn = seeds.map(() => seeds[rng.int(seeds.length)]);
      const clips = drawClips(seeds[0].labels.length);
      for (const s of drawn) add(diff(s, clips));
    } else {
      for (let d = 0; d < seeds.length; d++) {
        const s = seeds[rng.int(seeds.length)];
        add(diff(s, drawClips(s.labels.length)));
      }
    }
    for (const m of metrics) reps[m].push(sum[m] / seeds.length);
  }
  const out = {} as Record<PairedMetric, PairedDifference>;
  for (const m of metrics) {
    const per = perSeed.map((x) => x[m]);
    const sorted = reps[m].sort((a, b) => a - b);
    out[m] = { mean: per.reduce((a, b) => a + b, 0) / per.length, perSeed: per, ci95: [percentile(sorted, 0.025), percentile(sorted, 0.975)], wins: per.filter((d) => d > 0).length, design };
  }
  return out;
}

/** One metric of `pairedDifferences`. */
export function pairedDifference(seeds: PairedSeed[], classes: number, metric: PairedMetric, opts: PairedOptions = {}): PairedDifference {
  return pairedDifferences(seeds, classes, opts)[metric];
}
