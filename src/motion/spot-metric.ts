/**
 * The MEGC spotting metric, counted as the most reused public scorer counts
 * it (the SoftNet-SpotME and MEAN spot-then-recognize code of the MEGC
 * 2021-2022 papers; docs/spotting.md compares it with the other scorers):
 *
 * - a prediction is compared only with the truths of its video and kind;
 * - predictions are taken in descending score order, ties in input order;
 * - each looks at the truth it overlaps most (highest IoU) and is a true
 *   positive when that IoU is at least 0.5 and that truth is still unmatched;
 *   otherwise it is a false positive. Truths left unmatched are false negatives;
 * - TP, FP and FN are summed over all videos before precision, recall and F1;
 *   overall adds the micro and the macro counts. A zero denominator gives 0.
 *
 * Browser-safe: no Node imports.
 */
import { type ExpressionKind, type FrameInterval, EXPRESSION_KINDS, intervalFrames, isExpressionKind, sharedFrames } from './intervals.js';

/** A ground-truth expression of one video. */
export interface TruthInterval extends FrameInterval {
  video: string;
  kind: ExpressionKind;
}

/** A spotted interval; `score` orders the matching (higher first). Give it to all predictions or to none. */
export interface PredictedInterval extends TruthInterval {
  score?: number;
}

export interface SpotCounts {
  tp: number;
  fp: number;
  fn: number;
}

export interface SpotScores extends SpotCounts {
  precision: number;
  recall: number;
  f1: number;
}

/** The MEGC table: each kind on its own, and overall from the summed counts. */
export interface MegcScores {
  micro: SpotScores;
  macro: SpotScores;
  overall: SpotScores;
}

/** What became of one prediction. */
export interface SpotMatch {
  /** Index of the truth it was matched to, or -1 (a false positive). */
  truth: number;
  /** IoU with the truth it looked at (the one it overlaps most), 0 when its video and kind have no truth. */
  iou: number;
}

export interface SpotEvaluation {
  scores: MegcScores;
  /** One per prediction, in the order given. */
  matches: SpotMatch[];
}

/** IoU a prediction needs with a truth to be a true positive (equality counts). */
export const MEGC_IOU_THRESHOLD = 0.5;

export interface SpotMetricOptions {
  /** IoU a true positive needs, in (0, 1]. Default MEGC_IOU_THRESHOLD (0.5). */
  iouThreshold?: number;
}

/** A bad interval handed to the metric: `what` names it (`prediction 3`), `field` the field. */
export class SpotIntervalError extends Error {
  constructor(
    readonly what: string,
    readonly field: string,
    readonly value: unknown,
    expected: string,
  ) {
    super(`${what}: ${field} must be ${expected}, got ${typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value))}`);
    this.name = 'SpotIntervalError';
  }
}

/** Checks one interval: frame indices whole and >= 0, offset not before onset, a known kind, a non-empty video. */
export function checkInterval(iv: PredictedInterval, what: string): void {
  if (typeof iv.video !== 'string' || iv.video === '') throw new SpotIntervalError(what, 'video', iv.video, 'a non-empty name');
  if (!Number.isSafeInteger(iv.onset) || iv.onset < 0) throw new SpotIntervalError(what, 'onset', iv.onset, 'a whole frame index >= 0');
  if (!Number.isSafeInteger(iv.offset) || iv.offset < iv.onset) throw new SpotIntervalError(what, 'offset', iv.offset, `a whole frame index >= onset (${iv.onset})`);
  if (!isExpressionKind(iv.kind)) throw new SpotIntervalError(what, 'kind', iv.kind, `one of ${EXPRESSION_KINDS.join(', ')}`);
  if (iv.score !== undefined && (typeof iv.score !== 'number' || !Number.isFinite(iv.score))) throw new SpotIntervalError(what, 'score', iv.score, 'a finite number');
}

/** Prediction indices in matching order: descending score, ties (and score-less predictions) in input order. */
export function matchingOrder(predictions: ReadonlyArray<{ score?: number }>): number[] {
  // Array.prototype.sort is stable, so equal scores keep their input order
  return predictions.map((_, i) => i).sort((a, b) => (predictions[b].score ?? 0) - (predictions[a].score ?? 0));
}

/**
 * One-to-one matching of the predictions of one video and kind to its truths.
 * The truth a prediction looks at is the one of highest IoU; among equal IoUs
 * the later truth in input order, as the public scorer's reversed argsort
 * picks. IoUs are compared as exact fractions (frame counts below 2^26).
 */
export function matchPredictions(truths: readonly FrameInterval[], predictions: ReadonlyArray<FrameInterval & { score?: number }>, iouThreshold = MEGC_IOU_THRESHOLD): SpotMatch[] {
  const matches: SpotMatch[] = predictions.map(() => ({ truth: -1, iou: 0 }));
  const taken = new Array<boolean>(truths.length).fill(false);
  for (const p of matchingOrder(predictions)) {
    const pred = predictions[p];
    let best = -1;
    let bestShared = 0;
    let bestUnion = 1;
    truths.forEach((truth, t) => {
      const shared = sharedFrames(pred, truth);
      const union = intervalFrames(pred) + intervalFrames(truth) - shared;
      // shared / union >= bestShared / bestUnion, without rounding
      if (shared * bestUnion >= bestShared * union) {
        best = t;
        bestShared = shared;
        bestUnion = union;
      }
    });
    if (best < 0) continue;
    const iou = bestShared / bestUnion;
    matches[p] = { truth: iou >= iouThreshold && !taken[best] ? best : -1, iou };
    if (matches[p].truth >= 0) taken[best] = true;
  }
  return matches;
}

/** Precision, recall and F1 of summed counts, as the public scorers compute them; a zero denominator gives 0. */
export function spotScores(c: SpotCounts): SpotScores {
  const precision = c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : 0;
  const recall = c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { tp: c.tp, fp: c.fp, fn: c.fn, precision, recall, f1 };
}

/**
 * Scores predictions against ground truth with the MEGC spotting metric.
 * Every interval is checked first (SpotIntervalError names `truth i` or
 * `prediction i` and the field). Predictions in a video without truths of
 * their kind are false positives.
 */
export function evaluateSpotting(truths: readonly TruthInterval[], predictions: readonly PredictedInterval[], options: SpotMetricOptions = {}): SpotEvaluation {
  const threshold = options.iouThreshold ?? MEGC_IOU_THRESHOLD;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1)) throw new SpotIntervalError('options', 'iouThreshold', threshold, 'a number in (0, 1]');
  truths.forEach((t, i) => checkInterval(t, `truth ${i}`));
  predictions.forEach((p, i) => checkInterval(p, `prediction ${i}`));
  const scored = predictions.filter((p) => p.score !== undefined).length;
  if (scored > 0 && scored < predictions.length) {
    const i = predictions.findIndex((p) => p.score === undefined);
    throw new SpotIntervalError(`prediction ${i}`, 'score', undefined, `a finite number (${scored} of ${predictions.length} predictions have a score: give it to all or to none)`);
  }

  // truth and prediction indices by video and kind, in input order
  const groups = new Map<string, { truths: number[]; predictions: number[] }>();
  const group = (iv: TruthInterval) => {
    const key = `${iv.kind}\u0000${iv.video}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { truths: [], predictions: [] }));
    return g;
  };
  truths.forEach((t, i) => group(t).truths.push(i));
  predictions.forEach((p, i) => group(p).predictions.push(i));

  const matches: SpotMatch[] = predictions.map(() => ({ truth: -1, iou: 0 }));
  const counts: Record<ExpressionKind, SpotCounts> = { micro: { tp: 0, fp: 0, fn: 0 }, macro: { tp: 0, fp: 0, fn: 0 } };
  for (const g of groups.values()) {
    const kind = (g.truths.length > 0 ? truths[g.truths[0]] : predictions[g.predictions[0]]).kind;
    const local = matchPredictions(
      g.truths.map((i) => truths[i]),
      g.predictions.map((i) => predictions[i]),
      threshold,
    );
    let tp = 0;
    local.forEach((m, k) => {
      matches[g.predictions[k]] = { truth: m.truth >= 0 ? g.truths[m.truth] : -1, iou: m.iou };
      if (m.truth >= 0) tp++;
    });
    counts[kind].tp += tp;
    counts[kind].fp += g.predictions.length - tp;
    counts[kind].fn += g.truths.length - tp;
  }
  const { micro, macro } = counts;
  const overall = { tp: micro.tp + macro.tp, fp: micro.fp + macro.fp, fn: micro.fn + macro.fn };
  return { scores: { micro: spotScores(micro), macro: spotScores(macro), overall: spotScores(overall) }, matches };
}

/** The MEGC table of {@link evaluateSpotting}. */
export function scoreSpotting(truths: readonly TruthInterval[], predictions: readonly PredictedInterval[], options?: SpotMetricOptions): MegcScores {
  return evaluateSpotting(truths, predictions, options).scores;
}
