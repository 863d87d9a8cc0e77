/**
 * Seeded random interval tables for cross-checking the MEGC metric: few
 * videos and frames, so that truths overlap each other, predictions overlap
 * several truths, IoUs land exactly on 0.5, scores tie, and some predictions
 * fall in videos without truth.
 */
import { EXPRESSION_KINDS, type ExpressionKind } from '../../src/motion/intervals.js';
import type { PredictedInterval, TruthInterval } from '../../src/motion/spot-metric.js';
import { formatSpotCsv } from '../../src/motion/spot-csv.js';
import { Rng } from '../../src/util/rng.js';

export interface RandomSet {
  truths: TruthInterval[];
  predictions: PredictedInterval[];
  /** Whether the predictions carry a score column. */
  scored: boolean;
}

export function randomSet(seed: number): RandomSet {
  const r = new Rng(seed);
  const nVideos = 1 + r.int(4);
  const span = 20 + r.int(60);
  const truths: TruthInterval[] = [];
  for (let v = 0; v < nVideos; v++) {
    for (const kind of EXPRESSION_KINDS) {
      const n = r.int(kind === 'micro' ? 4 : 3);
      for (let i = 0; i < n; i++) {
        const len = 1 + r.int(kind === 'micro' ? 10 : 24);
        const onset = r.int(span);
        truths.push({ video: `v${v}`, onset, offset: onset + len - 1, kind });
        // now and then the same interval twice
        if (r.next() < 0.05) truths.push({ ...truths[truths.length - 1] });
      }
    }
  }
  // scores: none, a few values (many ties) or fine-grained
  const scoreMode = r.int(3);
  const score = () => (scoreMode === 1 ? [0.1, 0.5, 0.5, 0.9][r.int(4)] : Math.round(r.next() * 1000) / 1000);
  const predictions: PredictedInterval[] = [];
  const nPred = r.int(14);
  for (let i = 0; i < nPred; i++) {
    let p: PredictedInterval;
    if (truths.length > 0 && r.next() < 0.65) {
      // near a truth: its length halved, doubled or shifted, which puts IoU around 0.5
      const t = r.pick(truths);
      const len = t.offset - t.onset + 1;
      const shape = r.int(4);
      const onset = Math.max(0, shape === 0 ? t.onset : shape === 1 ? t.onset - Math.floor(len / 2) : t.onset + r.int(len) - r.int(4));
      const plen = shape === 0 ? Math.max(1, Math.ceil(len / 2) + r.int(2) - 1) : shape === 1 ? 2 * len : Math.max(1, len + r.int(5) - 2);
      const kind: ExpressionKind = r.next() < 0.9 ? t.kind : t.kind === 'micro' ? 'macro' : 'micro';
      p = { video: r.next() < 0.95 ? t.video : `v${nVideos}`, onset, offset: onset + plen - 1, kind };
    } else {
      const onset = r.int(span);
      p = { video: `v${r.int(nVideos + 1)}`, onset, offset: onset + r.int(20), kind: r.pick(EXPRESSION_KINDS) };
    }
    if (scoreMode > 0) p.score = score();
    predictions.push(p);
  }
  return { truths, predictions, scored: scoreMode > 0 };
}

export function setCsv(s: RandomSet): { truth: string; pred: string } {
  return {
    truth: formatSpotCsv(s.truths),
    pred: formatSpotCsv(s.predictions, s.scored ? ['score'] : []),
  };
}
