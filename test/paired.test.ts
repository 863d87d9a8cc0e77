import { describe, it, expect } from 'vitest';
import { pairedDifference } from '../src/eval/paired.js';
import { summarize, renderSummaryMarkdown, renderConsoleTable, type Prediction } from '../src/eval/summary.js';

describe('paired differences with a bootstrap interval', () => {
  const labels = [0, 0, 1, 1];
  it('per-seed differences are hand-computable; the interval brackets the mean', () => {
    // row perfect (UF1 1); baseline: class 0 F1 = 2/(2+1) = 2/3, class 1 F1 = 4/(4+1) = 4/5, UF1 = 11/15
    const d = pairedDifference([{ seed: 1, labels, row: [0, 0, 1, 1], base: [0, 1, 1, 1] }], 2, 'UF1', { replicates: 500 });
    expect(d.perSeed[0]).toBeCloseTo(1 - 11 / 15, 12);
    expect(d.mean).toBeCloseTo(4 / 15, 12);
    expect(d.wins).toBe(1);
    expect(d.ci95[0]).toBeLessThanOrEqual(d.mean);
    expect(d.ci95[1]).toBeGreaterThanOrEqual(d.mean);
    // the row is never worse on any resample of these clips
    expect(d.ci95[0]).toBeGreaterThanOrEqual(0);
    // UAR: baseline recalls 1/2 and 1 -> 3/4
    expect(pairedDifference([{ seed: 1, labels, row: [0, 0, 1, 1], base: [0, 1, 1, 1] }], 2, 'UAR', { replicates: 10 }).mean).toBeCloseTo(0.25, 12);
  });

  it('identical rows differ by exactly 0 on every resample; the draw is reproducible', () => {
    const seeds = [1, 2, 3].map((seed) => ({ seed, labels, row: [0, 1, 1, 0], base: [0, 1, 1, 0] }));
    const d = pairedDifference(seeds, 2, 'UF1');
    expect(d).toEqual({ mean: 0, perSeed: [0, 0, 0], ci95: [0, 0], wins: 0 });
    const mixed = [
      { seed: 1, labels, row: [0, 0, 1, 1], base: [0, 1, 1, 1] },
      { seed: 2, labels, row: [1, 0, 1, 0], base: [0, 0, 1, 1] },
    ];
    expect(pairedDifference(mixed, 2, 'UF1', { seed: 7 })).toEqual(pairedDifference(mixed, 2, 'UF1', { seed: 7 }));
    const m = pairedDifference(mixed, 2, 'UF1');
    expect(m.wins).toBe(1);
    expect(m.ci95[0]).toBeLessThan(0);
    expect(m.ci95[1]).toBeGreaterThan(0);
  });

  it('refuses rows that do not score the same clips', () => {
    expect(() => pairedDifference([{ seed: 4, labels, row: [0, 1], base: [0, 1, 1, 1] }], 2, 'UF1')).toThrow(/seed 4 has 4 labels, 2 row and 4 baseline/);
    expect(() => pairedDifference([], 2, 'UF1')).toThrow(/no seeds/);
  });

  it('the summary compares each row with the L_c row of the same training share, and prints the interval', () => {
    const preds: Prediction[] = [];
    const clip = (seed: number, variant: string, i: number, pred: number): Prediction => ({ seed, variant, fold: `s${i}`, clipId: `c${i}`, subject: `s${i}`, source: 'x', label: i % 2, pred, probs: [0.5, 0.5] });
    for (const seed of [1, 2]) {
      for (let i = 0; i < 4; i++) {
        preds.push(clip(seed, 'L_c', i, 0));
        preds.push(clip(seed, 'L_c + L_s', i, i % 2));
        preds.push(clip(seed, 'L_c (50% subjects)', i, i % 2));
      }
    }
    const s = summarize({
      dataset: 'd',
      labels: ['a', 'b'],
      variants: [
        { name: 'L_c', losses: ['c'] },
        { name: 'L_c + L_s', losses: ['c', 's'] },
        { name: 'L_c (50% subjects)', losses: ['c'], share: 0.5 },
      ],
      predictions: preds,
    });
    expect(s.variants[0].vsBaseline).toBeUndefined();
    expect(s.variants[2].vsBaseline).toBeUndefined(); // the L_c row of share 0.5 is its own baseline
    const c = s.variants[1].vsBaseline!;
    expect(c.baseline).toBe('L_c');
    // L_c predicts all 'a': F1 a = 2/3, F1 b = 0 -> 1/3; L_c + L_s is perfect
    c.UF1.perSeed.forEach((d) => expect(d).toBeCloseTo(2 / 3, 12));
    expect(c.UAR.mean).toBeCloseTo(0.5, 12);
    expect(renderSummaryMarkdown(s)).toMatch(/Difference to L_c \(paired\)[\s\S]*L_c \+ L_s \| \+0\.667 \[\+0\.\d+, \+0\.\d+\] \| \+0\.500 \[/);
    expect(renderSummaryMarkdown(s)).toMatch(/Sample efficiency[\s\S]*\| L_c \| 0\.333 ± 0\.000 \| 1\.000 ± 0\.000 \|/);
    expect(renderConsoleTable(s)).toMatch(/ΔUF1 vs L_c/);
  });
});
