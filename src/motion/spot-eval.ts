/**
 * Spotting evaluated as MEGC does: every video spotted, the intervals scored
 * with the MEGC metric (./spot-metric.ts). The one setting learned from data,
 * the threshold's p, is chosen leave-one-subject-out: for each subject, the p
 * of the grid that gives the best overall F1 on the other subjects' videos is
 * applied to that subject's videos, so no video is spotted with a threshold
 * chosen on itself.
 */
import { scoreSpotting, type MegcScores, type PredictedInterval, type TruthInterval } from './spot-metric.js';
import { spotFromPasses, type SpotOptions, type SpotPass } from './spot.js';

/** A video ready to be thresholded: its passes (flow done) and its truth. */
export interface EvalVideo {
  id: string;
  subject: string;
  fps: number;
  /** Ground truth, `video` = id, frames as the passes index them. */
  truths: TruthInterval[];
  passes: SpotPass[];
}

/** The p values tried for the threshold T = mean + p (max - mean). */
export const P_GRID: readonly number[] = [0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Every video's intervals at threshold p, as the metric reads them. */
export function predictionsAt(videos: readonly EvalVideo[], p: number, options: Partial<SpotOptions> = {}): PredictedInterval[] {
  const out: PredictedInterval[] = [];
  for (const v of videos) {
    for (const i of spotFromPasses(v.passes, { ...options, fps: v.fps, p }).intervals) out.push({ video: v.id, onset: i.onset, offset: i.offset, kind: i.kind, score: i.score });
  }
  return out;
}

/** The p of the grid with the best overall F1 on `videos` (the first such p in grid order). */
export function bestP(videos: readonly EvalVideo[], grid: readonly number[] = P_GRID, options: Partial<SpotOptions> = {}): { p: number; f1: number } {
  const truths = videos.flatMap((v) => v.truths);
  let best = { p: grid[0]!, f1: -1 };
  for (const p of grid) {
    const f1 = scoreSpotting(truths, predictionsAt(videos, p, options)).overall.f1;
    if (f1 > best.f1) best = { p, f1 };
  }
  return best;
}

export interface SpotEvalResult {
  scores: MegcScores;
  /** Per held-out subject: the p chosen on the others, and their F1 at it. */
  folds: Array<{ subject: string; p: number; trainF1: number; videos: number }>;
  predictions: PredictedInterval[];
  /** `loso`, or `fixed` when p was given (or there is one subject only). */
  threshold: 'loso' | 'fixed';
}

/**
 * Scores spotting over `videos`: with `p` fixed, that p everywhere; otherwise p chosen per held-out
 * subject on the other subjects (needs two subjects or more).
 */
export function evaluateSpotting(videos: readonly EvalVideo[], opts: { p?: number; grid?: readonly number[]; options?: Partial<SpotOptions> } = {}): SpotEvalResult {
  const truths = videos.flatMap((v) => v.truths);
  const subjects = [...new Set(videos.map((v) => v.subject))];
  if (opts.p !== undefined || subjects.length < 2) {
    const p = opts.p ?? opts.options?.p ?? 0.3;
    const predictions = predictionsAt(videos, p, opts.options);
    return { scores: scoreSpotting(truths, predictions), folds: subjects.map((s) => ({ subject: s, p, trainF1: NaN, videos: videos.filter((v) => v.subject === s).length })), predictions, threshold: 'fixed' };
  }
  const predictions: PredictedInterval[] = [];
  const folds: SpotEvalResult['folds'] = [];
  for (const s of subjects) {
    const held = videos.filter((v) => v.subject === s);
    const { p, f1 } = bestP(videos.filter((v) => v.subject !== s), opts.grid, opts.options);
    folds.push({ subject: s, p, trainF1: f1, videos: held.length });
    predictions.push(...predictionsAt(held, p, opts.options));
  }
  return { scores: scoreSpotting(truths, predictions), folds, predictions, threshold: 'loso' };
}
