import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bestP, evaluateSpotting, predictionsAt, P_GRID, type EvalVideo } from '../src/motion/spot-eval.js';
import { scoreSpotting } from '../src/motion/spot-metric.js';
import type { SpotPass } from '../src/motion/spot.js';
import { spotEval } from '../src/cli/spot-eval.js';
import { runCli, tempDir } from './helpers.js';

/** A pass whose contrast has given peaks (frame -> height) on a flat floor; difference follows it. */
function pass(name: 'micro' | 'macro', k: number, n: number, peaks: Record<number, number>): SpotPass {
  const c = new Float64Array(n), d = new Float64Array(n);
  for (let i = k; i + k < n; i++) c[i] = d[i] = 0.01;
  for (const [f, h] of Object.entries(peaks)) {
    c[Number(f)] = h;
    d[Number(f)] = h;
  }
  return { name, k, contrast: c, difference: d };
}

function video(id: string, subject: string, peaks: Record<number, number>, truths: Array<[number, number]>): EvalVideo {
  return {
    id,
    subject,
    fps: 30,
    truths: truths.map(([onset, offset]) => ({ video: id, onset, offset, kind: 'micro' as const })),
    passes: [pass('micro', 5, 300, peaks), pass('macro', 15, 300, {})],
  };
}

describe('evaluateSpotting', () => {
  // three subjects; each video has a true movement (peak 1.0) and a weaker false one (0.4)
  const videos = [
    video('a', 'A', { 50: 1, 150: 0.4 }, [[45, 55]]),
    video('b', 'B', { 80: 1, 200: 0.4 }, [[75, 85]]),
    video('c', 'C', { 120: 1, 250: 0.4 }, [[115, 125]]),
  ];

  it('picks p for each held-out subject on the other subjects only, and applies it to the held-out videos', () => {
    const r = evaluateSpotting(videos);
    expect(r.threshold).toBe('loso');
    for (const fold of r.folds) {
      const others = videos.filter((v) => v.subject !== fold.subject);
      expect(fold.p).toBe(bestP(others).p);
      const held = videos.filter((v) => v.subject === fold.subject);
      const mine = r.predictions.filter((p) => held.some((v) => v.id === p.video));
      expect(mine).toEqual(predictionsAt(held, fold.p));
    }
    // a p high enough to drop the weak false peak, low enough to keep the true one: every video perfect
    expect(r.scores.micro).toMatchObject({ tp: 3, fp: 0, fn: 0, f1: 1 });
    expect(r.scores).toEqual(scoreSpotting(videos.flatMap((v) => v.truths), r.predictions));
  });

  it('bestP takes the first p of the grid with the best F1; a fixed p is used as given', () => {
    // at a low p both peaks pass (F1 2/3 per video); from the p where 0.4 falls below T, F1 = 1
    const b = bestP(videos);
    expect(b.f1).toBe(1);
    const firstPerfect = P_GRID.find((p) => scoreSpotting(videos.flatMap((v) => v.truths), predictionsAt(videos, p)).overall.f1 === 1);
    expect(b.p).toBe(firstPerfect);
    const fixed = evaluateSpotting(videos, { p: 0.02 });
    expect(fixed.threshold).toBe('fixed');
    expect(fixed.scores.micro).toMatchObject({ tp: 3, fp: 3, fn: 0 });
  });
});

describe('mimanet spot-eval and mimanet spot on the embedded long videos', () => {
  it('spot-eval prints the MEGC table with the p of each held-out subject and writes its files; spot finds the strongest expression of a video', async () => {
    const dir = tempDir('spot-eval');
    const gen = join(dir, 'gen.json');
    writeFileSync(gen, JSON.stringify({ size: 32, micro: { count: 1 }, macro: { count: 1 }, blinksPerMinute: 0, headMovesPerMinute: 0 }));
    const r = await runCli(['spot-eval', '--videos', '2', '--seconds', '8', '--generator', gen, '--out', join(dir, 'eval'), '--json', '--quiet']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/synthetic: 2 videos of 2 subjects, 4 expressions \(2 micro, 2 macro\)/);
    expect(r.out).toMatch(/threshold p chosen per held-out subject on the other subjects .*: synth-lv01 [\d.]+, synth-lv02 [\d.]+/);
    const scores = JSON.parse(r.out.trim().split('\n').pop()!) as Record<string, { tp: number; fp: number; fn: number; f1: number }>;
    for (const k of ['micro', 'macro', 'overall']) expect(scores[k].tp + scores[k].fn).toBe(k === 'overall' ? 4 : 2);
    expect(scores.overall.tp).toBe(scores.micro.tp + scores.macro.tp);
  }, 240_000);
});

describe('mimanet spot-eval --threads', () => {
  it('refuses a thread count that is not an integer from 1 to 256, quoting it', async () => {
    for (const [v, want] of [['0', 'expected an integer >= 1'], ['1.5', 'expected an integer >= 1'], ['300', 'expected an integer from 1 to 256']]) {
      const r = await runCli(['spot-eval', '--threads', v, '--quiet']);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`option --threads is "${v}": ${want}`);
    }
  });
});

describe('the calibrated difficulty of the embedded long videos', () => {
  // docs/spotting.md, "Calibration": the generator's defaults were set so that the baseline spotter's
  // overall F1 lands between 0.3 and 0.7 (room to improve and to get worse)
  it('mimanet spot-eval with no arguments (the generator defaults, p chosen leave-one-subject-out) scores an overall F1 between 0.3 and 0.7', async () => {
    const { result, text } = await spotEval({ threads: '2', quiet: true });
    expect(text).toMatch(/^synthetic: 4 videos of 4 subjects, 20 expressions \(12 micro, 8 macro\)/);
    const { micro, macro, overall } = result.scores;
    expect(micro.tp + micro.fn).toBe(12);
    expect(macro.tp + macro.fn).toBe(8);
    expect(overall.tp).toBe(micro.tp + macro.tp);
    expect(overall.f1, text).toBeGreaterThanOrEqual(0.3);
    expect(overall.f1, text).toBeLessThanOrEqual(0.7);
  }, 1_200_000);
});
