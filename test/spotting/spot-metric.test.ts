/** The MEGC spotting metric on hand-computed cases: every edge case of the matching rules. */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { intervalIou, intervalKind, microMaxFrames, sharedFrames, unionFrames } from '../../src/motion/intervals.js';
import { type PredictedInterval, type TruthInterval, evaluateSpotting, matchPredictions, scoreSpotting, spotScores } from '../../src/motion/spot-metric.js';

const micro = (video: string, onset: number, offset: number, score?: number): PredictedInterval => ({ video, onset, offset, kind: 'micro', ...(score !== undefined ? { score } : {}) });
const macro = (video: string, onset: number, offset: number, score?: number): PredictedInterval => ({ ...micro(video, onset, offset, score), kind: 'macro' });
const counts = (s: { tp: number; fp: number; fn: number }) => [s.tp, s.fp, s.fn];

describe('frame intervals', () => {
  it('count inclusive frames: shared, union, IoU', () => {
    expect(sharedFrames({ onset: 0, offset: 9 }, { onset: 5, offset: 14 })).toBe(5);
    expect(unionFrames({ onset: 0, offset: 9 }, { onset: 5, offset: 14 })).toBe(15);
    expect(intervalIou({ onset: 0, offset: 9 }, { onset: 5, offset: 14 })).toBe(1 / 3);
    // touching at one frame: one shared frame of 19
    expect(sharedFrames({ onset: 0, offset: 9 }, { onset: 9, offset: 18 })).toBe(1);
    expect(intervalIou({ onset: 0, offset: 9 }, { onset: 9, offset: 18 })).toBe(1 / 19);
    // adjacent, not touching
    expect(sharedFrames({ onset: 0, offset: 9 }, { onset: 10, offset: 19 })).toBe(0);
    expect(intervalIou({ onset: 0, offset: 9 }, { onset: 10, offset: 19 })).toBe(0);
    // one frame against itself and against two frames
    expect(intervalIou({ onset: 5, offset: 5 }, { onset: 5, offset: 5 })).toBe(1);
    expect(intervalIou({ onset: 5, offset: 5 }, { onset: 5, offset: 6 })).toBe(0.5);
  });

  it('micro when at most 0.5 s, counting every frame', () => {
    expect(microMaxFrames(30)).toBe(15);
    expect(intervalKind({ onset: 100, offset: 114 }, 30)).toBe('micro'); // 15 frames = 0.5 s
    expect(intervalKind({ onset: 100, offset: 115 }, 30)).toBe('macro'); // 16 frames
    expect(intervalKind({ onset: 0, offset: 99 }, 200)).toBe('micro');
    expect(intervalKind({ onset: 0, offset: 100 }, 200)).toBe('macro');
    expect(microMaxFrames(25)).toBe(12);
  });
});

describe('MEGC spotting metric', () => {
  it('IoU exactly 0.5 is a true positive, just below is not', () => {
    const truth = [micro('v', 0, 9)];
    // 5 shared frames of 10: 0.5
    expect(counts(scoreSpotting(truth, [micro('v', 0, 4)]).micro)).toEqual([1, 0, 0]);
    // 4 of 10
    expect(counts(scoreSpotting(truth, [micro('v', 0, 3)]).micro)).toEqual([0, 1, 1]);
    // overlapping on one side: frames 2..5 shared, 0..7 in the union: 4 / 8
    expect(counts(scoreSpotting([micro('v', 0, 5)], [micro('v', 2, 7)]).micro)).toEqual([1, 0, 0]);
    // 5 of 11
    expect(counts(scoreSpotting([micro('v', 0, 5)], [micro('v', 1, 10)]).micro)).toEqual([0, 1, 1]);
  });

  it('two predictions over one truth: the higher score is the TP, the other an FP; ties go in input order', () => {
    const truth = [micro('v', 10, 19)];
    const whole = micro('v', 10, 19, 0.3); // IoU 1
    const most = micro('v', 11, 19, 0.9); // IoU 0.9
    const e = evaluateSpotting(truth, [whole, most]);
    expect(counts(e.scores.micro)).toEqual([1, 1, 0]);
    expect(e.matches).toEqual([
      { truth: -1, iou: 1 },
      { truth: 0, iou: 0.9 },
    ]);
    // without scores (or with equal ones) the first given is matched
    const plain = evaluateSpotting(truth, [micro('v', 10, 19), micro('v', 11, 19)]);
    expect(plain.matches.map((m) => m.truth)).toEqual([0, -1]);
    const tied = evaluateSpotting(truth, [micro('v', 11, 19, 0.5), micro('v', 10, 19, 0.5)]);
    expect(tied.matches.map((m) => m.truth)).toEqual([0, -1]);
    expect(counts(tied.scores.micro)).toEqual([1, 1, 0]);
  });

  it('one prediction over two truths: it looks at the one it overlaps most and matches only that one', () => {
    // IoU 10/12 with the first, 4/31 with the second
    const e = evaluateSpotting([micro('v', 0, 9), micro('v', 8, 30)], [micro('v', 0, 11)]);
    expect(e.matches).toEqual([{ truth: 0, iou: 10 / 12 }]);
    expect(counts(e.scores.micro)).toEqual([1, 0, 1]);
    // IoU 0.5 with both: equal IoUs go to the later truth, as the public scorer's reversed argsort picks
    const tie = evaluateSpotting([micro('v', 0, 9), micro('v', 10, 19)], [micro('v', 0, 19)]);
    expect(tie.matches).toEqual([{ truth: 1, iou: 0.5 }]);
    expect(counts(tie.scores.micro)).toEqual([1, 0, 1]);
  });

  it('a prediction whose best truth is taken is an FP, even when another truth would have it', () => {
    // the first takes truth 1; the second overlaps both truths by 0.5, looks at truth 1 (the later), finds it taken
    const e = evaluateSpotting([micro('v', 0, 9), micro('v', 10, 19)], [micro('v', 10, 19, 0.9), micro('v', 0, 19, 0.5)]);
    expect(e.matches).toEqual([
      { truth: 1, iou: 1 },
      { truth: -1, iou: 0.5 },
    ]);
    expect(counts(e.scores.micro)).toEqual([1, 1, 1]);
    // the other way round, the wide one comes first and takes truth 1; the exact one then finds its truth taken
    const swapped = evaluateSpotting([micro('v', 0, 9), micro('v', 10, 19)], [micro('v', 10, 19, 0.5), micro('v', 0, 19, 0.9)]);
    expect(swapped.matches.map((m) => m.truth)).toEqual([-1, 1]);
  });

  it('intervals touching at one frame do not match; a one-frame interval matches itself and a two-frame one', () => {
    expect(counts(scoreSpotting([micro('v', 0, 9)], [micro('v', 9, 18)]).micro)).toEqual([0, 1, 1]);
    expect(counts(scoreSpotting([micro('v', 5, 5)], [micro('v', 5, 5)]).micro)).toEqual([1, 0, 0]);
    expect(counts(scoreSpotting([micro('v', 5, 5)], [micro('v', 5, 6)]).micro)).toEqual([1, 0, 0]); // 1 of 2
    expect(counts(scoreSpotting([micro('v', 5, 5)], [micro('v', 4, 6)]).micro)).toEqual([0, 1, 1]); // 1 of 3
    expect(counts(scoreSpotting([micro('v', 5, 5)], [micro('v', 6, 6)]).micro)).toEqual([0, 1, 1]);
  });

  it('no predictions: every truth a false negative, zero denominators give 0', () => {
    const s = scoreSpotting([micro('v', 0, 9), macro('v', 20, 60), macro('w', 3, 40)], []);
    expect(s.micro).toEqual({ tp: 0, fp: 0, fn: 1, precision: 0, recall: 0, f1: 0 });
    expect(s.macro).toEqual({ tp: 0, fp: 0, fn: 2, precision: 0, recall: 0, f1: 0 });
    expect(s.overall).toEqual({ tp: 0, fp: 0, fn: 3, precision: 0, recall: 0, f1: 0 });
    expect(scoreSpotting([], []).overall).toEqual({ tp: 0, fp: 0, fn: 0, precision: 0, recall: 0, f1: 0 });
  });

  it('predictions in a video with no truth, or of the other kind, are false positives', () => {
    const truth: TruthInterval[] = [micro('v1', 10, 19)];
    // the same frames in another video, and as a macro in the same video
    const s = scoreSpotting(truth, [micro('v1', 10, 19), micro('v2', 10, 19), macro('v1', 10, 19)]);
    expect(counts(s.micro)).toEqual([1, 1, 0]);
    expect(counts(s.macro)).toEqual([0, 1, 0]);
    expect(s.macro.precision).toBe(0);
    expect(s.macro.recall).toBe(0); // no macro truth: 0, not NaN
    expect(counts(s.overall)).toEqual([1, 2, 0]);
  });

  it('sums counts over videos before P, R, F1, and overall adds micro and macro counts', () => {
    // v1: TP 1; v2: FP 3, FN 1 -> P = 1/4, R = 1/2, F1 = 1/3 (the mean of per-video F1s would be 1/2)
    const s = scoreSpotting(
      [micro('v1', 0, 9), micro('v2', 0, 9)],
      [micro('v1', 0, 9), micro('v2', 30, 39), micro('v2', 50, 59), micro('v2', 70, 79)],
    );
    expect(s.micro).toEqual({ tp: 1, fp: 3, fn: 1, precision: 0.25, recall: 0.5, f1: (2 * 0.25 * 0.5) / 0.75 });
    // micro TP 1 FP 0 FN 0 (F1 1), macro TP 1 FP 3 FN 3 (F1 0.25): overall from TP 2 FP 3 FN 3, not the mean 0.625
    const o = scoreSpotting(
      [micro('a', 0, 5), macro('a', 20, 60), macro('a', 100, 140), macro('b', 0, 40), macro('b', 50, 90)],
      [micro('a', 0, 5), macro('a', 20, 60), macro('a', 200, 240), macro('b', 300, 340), macro('c', 0, 40)],
    );
    expect(counts(o.micro)).toEqual([1, 0, 0]);
    expect(counts(o.macro)).toEqual([1, 3, 3]);
    expect(o.overall).toEqual({ tp: 2, fp: 3, fn: 3, precision: 0.4, recall: 0.4, f1: (2 * 0.4 * 0.4) / 0.8 });
  });

  it('matchPredictions works on one video and kind, and the threshold is an option', () => {
    expect(matchPredictions([], [{ onset: 0, offset: 3 }])).toEqual([{ truth: -1, iou: 0 }]);
    const m = matchPredictions([{ onset: 0, offset: 9 }], [{ onset: 0, offset: 3 }], 0.4);
    expect(m).toEqual([{ truth: 0, iou: 0.4 }]);
    expect(scoreSpotting([micro('v', 0, 9)], [micro('v', 0, 3)], { iouThreshold: 0.4 }).micro.tp).toBe(1);
    expect(spotScores({ tp: 3, fp: 1, fn: 2 })).toEqual({ tp: 3, fp: 1, fn: 2, precision: 0.75, recall: 0.6, f1: (2 * 0.75 * 0.6) / 1.35 });
  });

  it('refuses bad intervals, naming the interval and the field and quoting the value', () => {
    expect(() => scoreSpotting([micro('v', 5, 4)], [])).toThrow('truth 0: offset must be a whole frame index >= onset (5), got 4');
    expect(() => scoreSpotting([], [micro('v', -1, 4)])).toThrow('prediction 0: onset must be a whole frame index >= 0, got -1');
    expect(() => scoreSpotting([], [micro('v', 1.5, 4)])).toThrow('prediction 0: onset must be a whole frame index >= 0, got 1.5');
    expect(() => scoreSpotting([{ video: 'v', onset: 0, offset: 1, kind: 'Micro' as never }], [])).toThrow('truth 0: kind must be one of micro, macro, got "Micro"');
    expect(() => scoreSpotting([], [micro('', 0, 1)])).toThrow('prediction 0: video must be a non-empty name, got ""');
    expect(() => scoreSpotting([], [micro('v', 0, 1, NaN)])).toThrow('prediction 0: score must be a finite number, got NaN');
    expect(() => scoreSpotting([], [micro('v', 0, 1, 0.5), micro('v', 0, 1)])).toThrow('prediction 1: score must be a finite number (1 of 2 predictions have a score: give it to all or to none), got undefined');
    expect(() => scoreSpotting([], [], { iouThreshold: 0 })).toThrow('options: iouThreshold must be a number in (0, 1], got 0');
  });
});

describe('browser safety', () => {
  it('src/browser.ts, which exports the metric to pages, reaches no Node module', () => {
    const NODE = /^(node:|fs$|path$|os$|child_process$|worker_threads$|crypto$|url$|module$|sharp$)/;
    const seen = new Set<string>();
    const bad: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)) {
        const spec = m[1];
        if (NODE.test(spec)) bad.push(`${file}: ${spec}`);
        else if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
    };
    visit(join(import.meta.dirname, '..', '..', 'src', 'browser.ts'));
    expect([...seen].some((f) => f.endsWith('spot-metric.ts'))).toBe(true);
    expect([...seen].some((f) => f.endsWith('spot-csv.ts'))).toBe(true);
    expect(bad).toEqual([]);
  });
});
