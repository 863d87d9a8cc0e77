/**
 * Paired comparison of two ablation rows over the same seeds and test clips:
 * the per-seed difference of a score, and a 95% interval from a two-level
 * bootstrap. Training seeds and test clips both vary between runs, so each
 * replicate draws seeds with replacement and, within each drawn seed, clips
 * with replacement; both rows get the same draw (that is what "paired" buys:
 * clip difficulty and seed luck cancel out of the difference).
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
}

export interface PairedDifference {
  /** Score of the row minus score of the baseline, mean over seeds. */
  mean: number;
  /** The difference for each seed, in seed order. */
  perSeed: number[];
  /** 2.5% and 97.5% percentiles of the bootstrap distribution of the mean difference. */
  ci95: [number, number];
  /** Seeds on which the row scored higher than the baseline. */
  wins: number;
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
 * Differences row - baseline of UF1 and UAR (each seed's predictions pooled
 * over its folds, as everywhere else), with percentile intervals of one
 * two-level paired bootstrap (seeds, then clips within a seed): both metrics
 * are read off the same resamples.
 */
export function pairedDifferences(seeds: PairedSeed[], classes: number, opts: PairedOptions = {}): Record<PairedMetric, PairedDifference> {
  if (seeds.length === 0) throw new Error('pairedDifference: no seeds to compare');
  for (const s of seeds) {
    if (s.row.length !== s.labels.length || s.base.length !== s.labels.length || s.labels.length === 0) {
      throw new Error(`pairedDifference: seed ${s.seed} has ${s.labels.length} labels, ${s.row.length} row and ${s.base.length} baseline predictions; both rows must score the same clips`);
    }
  }
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
  for (let b = 0; b < B; b++) {
    const sum = { UF1: 0, UAR: 0 };
    for (let d = 0; d < seeds.length; d++) {
      const s = seeds[rng.int(seeds.length)];
      const idx = new Int32Array(s.labels.length);
      for (let i = 0; i < idx.length; i++) idx[i] = rng.int(idx.length);
      const x = diff(s, idx);
      for (const m of metrics) sum[m] += x[m];
    }
    for (const m of metrics) reps[m].push(sum[m] / seeds.length);
  }
  const out = {} as Record<PairedMetric, PairedDifference>;
  for (const m of metrics) {
    const per = perSeed.map((x) => x[m]);
    const sorted = reps[m].sort((a, b) => a - b);
    out[m] = { mean: per.reduce((a, b) => a + b, 0) / per.length, perSeed: per, ci95: [percentile(sorted, 0.025), percentile(sorted, 0.975)], wins: per.filter((d) => d > 0).length };
  }
  return out;
}

/** One metric of `pairedDifferences`. */
export function pairedDifference(seeds: PairedSeed[], classes: number, metric: PairedMetric, opts: PairedOptions = {}): PairedDifference {
  return pairedDifferences(seeds, classes, opts)[metric];
}
