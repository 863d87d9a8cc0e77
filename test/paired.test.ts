import { describe, it, expect } from 'vitest';
import { bootstrapDesign, pairedDifference, pairedDifferences, type PairedSeed } from '../src/eval/paired.js';
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
    expect(d).toEqual({ mean: 0, perSeed: [0, 0, 0], ci95: [0, 0], wins: 0, design: 'nested' });
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
    expect(renderSummaryMarkdown(s)).toMatch(/Difference to L_c \(paired\)[\s\S]*The bootstrap is crossed \(every seed scored the same clips[\s\S]*L_c \+ L_s \| \+0\.667 \[(?:\+\d\.\d+|0\.000), \+\d\.\d+\] \| \+0\.500 \[/); // a bound of exactly 0 prints unsigned
    expect(renderSummaryMarkdown(s)).toMatch(/Sample efficiency[\s\S]*\| L_c \| 0\.333 ± 0\.000 \| 1\.000 ± 0\.000 \|/);
    expect(renderConsoleTable(s)).toMatch(/ΔUF1 vs L_c[\s\S]*\n95% CI: paired bootstrap, crossed design over seeds and clips\n$/);
    expect(c.UF1.design).toBe('crossed');
    expect(c.UAR.design).toBe('crossed');
  });

  // With every label 0, UAR is the accuracy and a seed's difference is the mean over clips of
  // (row right) - (baseline right): a bootstrap of means, whose distribution is known exactly.
  const allZero = (n: number) => new Array<number>(n).fill(0);
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`);

  it('crossed: a clip effect shared by all seeds keeps its full width (not shrunk by 1/S)', () => {
    const N = 400;
    const S = 5;
    // the row is right on every clip, the baseline on every other one, identically for every seed
    const base = Array.from({ length: N }, (_, i) => (i % 2 === 0 ? 0 : 1));
    const seeds: PairedSeed[] = Array.from({ length: S }, (_, k) => ({ seed: k + 1, clips: ids(N), labels: allZero(N), row: allZero(N), base }));
    const d = pairedDifference(seeds, 2, 'UAR');
    expect(d.design).toBe('crossed');
    expect(d.mean).toBeCloseTo(0.5, 12);
    // every drawn seed sees the same clips: the replicate is Binomial(N, 1/2) / N
    const sd = 0.5 / Math.sqrt(N);
    const [lo, hi] = binomialQuantiles(N, 0.5, [0.025, 0.975]).map((k) => k / N);
    expect(Math.abs(d.ci95[0] - lo)).toBeLessThan(0.15 * sd);
    expect(Math.abs(d.ci95[1] - hi)).toBeLessThan(0.15 * sd);
    const width = d.ci95[1] - d.ci95[0];
    expect(width / (hi - lo)).toBeGreaterThan(0.9);
    expect(width / (hi - lo)).toBeLessThan(1.1);
    // without clip ids the same numbers are treated as nested: S independent clip draws average the
    // clip effect down by 1/sqrt(S) in spread, which is what crossing prevents
    const nested = pairedDifference(seeds.map(({ clips: _c, ...s }) => s), 2, 'UAR');
    expect(nested.design).toBe('nested');
    const ratio = (nested.ci95[1] - nested.ci95[0]) / width;
    expect(ratio).toBeGreaterThan(0.85 / Math.sqrt(S));
    expect(ratio).toBeLessThan(1.15 / Math.sqrt(S));
  });

  it('crossed: a seed effect gives the exact interval of the bootstrap over seeds', () => {
    const N = 60;
    // one seed of five where the baseline misses every clip: differences 0, 0, 0, 0, 1 with no clip effect at all;
    // the mean of five seeds drawn with replacement is j/5 with j ~ Binomial(5, 1/5): 2.5% and 97.5% points 0 and 3/5
    const seeds: PairedSeed[] = [0, 0, 0, 0, 1].map((miss, k) => ({ seed: k + 1, clips: ids(N), labels: allZero(N), row: allZero(N), base: new Array<number>(N).fill(miss) }));
    const [lo, hi] = binomialQuantiles(5, 0.2, [0.025, 0.975]).map((j) => j / 5);
    expect([lo, hi]).toEqual([0, 0.6]);
    for (const m of ['UAR', 'UF1'] as const) {
      const d = pairedDifference(seeds, 2, m);
      expect(d.design).toBe('crossed');
      expect(d.mean).toBeCloseTo(0.2, 12);
      expect(d.perSeed).toEqual([0, 0, 0, 0, 1]);
      expect(d.ci95[0]).toBeCloseTo(lo, 12);
      expect(d.ci95[1]).toBeCloseTo(hi, 12);
    }
  });

  it('the design is crossed only when every seed scored the same clip ids with the same labels', () => {
    const N = 40;
    const mk = (seed: number, clips: string[], labels: number[]): PairedSeed => ({ seed, clips, labels, row: labels.map((y, i) => (i % 3 === 0 ? 1 - y : y)), base: labels.map((y, i) => (i % 2 === 0 ? 1 - y : y)) });
    const labels = Array.from({ length: N }, (_, i) => (i * 7) % 2);
    const a = mk(1, ids(N), labels);
    const b = mk(2, ids(N), labels);
    expect(bootstrapDesign([a, b])).toBe('crossed');
    // the same clips listed in another order are still the same clips, and give the same interval
    const perm = Array.from({ length: N }, (_, i) => (i * 17) % N);
    const bShuffled: PairedSeed = { seed: 2, clips: perm.map((i) => b.clips![i]), labels: perm.map((i) => b.labels[i]), row: perm.map((i) => b.row[i]), base: perm.map((i) => b.base[i]) };
    expect(bootstrapDesign([a, bShuffled])).toBe('crossed');
    expect(pairedDifferences([a, bShuffled], 2)).toEqual(pairedDifferences([a, b], 2));
    // other clips, another label on one clip, a clip missing, a clip id twice, no ids: nested
    expect(bootstrapDesign([a, mk(2, ids(N).map((c) => `x${c}`), labels)])).toBe('nested');
    expect(bootstrapDesign([a, mk(2, ids(N), labels.map((y, i) => (i === 5 ? 1 - y : y)))])).toBe('nested');
    expect(bootstrapDesign([a, mk(2, ids(N - 1), labels.slice(1))])).toBe('nested');
    expect(bootstrapDesign([a, mk(2, [...ids(N - 1), 'c0'], labels)])).toBe('nested');
    expect(bootstrapDesign([a, { ...b, clips: undefined }])).toBe('nested');
    expect(pairedDifference([a, mk(2, ids(N).map((c) => `x${c}`), labels)], 2, 'UF1').design).toBe('nested');
    expect(() => pairedDifference([{ ...a, clips: ids(3) }], 2, 'UF1')).toThrow(/seed 1 has 3 clip ids for 40 labels/);
  });
});

/** The smallest k with P(Binomial(n, p) <= k) >= q, for each q. */
function binomialQuantiles(n: number, p: number, qs: number[]): number[] {
  const pmf: number[] = [];
  let c = 1;
  for (let k = 0; k <= n; k++) {
    pmf.push(c * p ** k * (1 - p) ** (n - k));
    c = (c * (n - k)) / (k + 1);
  }
  return qs.map((q) => {
    let acc = 0;
    for (let k = 0; k <= n; k++) if ((acc += pmf[k]) >= q) return k;
    return n;
  });
}
