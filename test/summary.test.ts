import { describe, expect, it } from 'vitest';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pairedDifferences } from '../src/eval/paired.js';
import { readSummaryFile } from '../src/results/index.js';
import { runCli, tempDir } from './helpers.js';
import {
  parsePredictionsCsv,
  formatDifference,
  predictionsToCsv,
  TRANSFER_ROW,
  renderConsoleTable,
  renderSummaryMarkdown,
  summarize,
  type Prediction,
  type VariantSpec,
} from '../src/eval/summary.js';

const labels = ['neg', 'pos', 'sur'];
const variants: VariantSpec[] = [
  { name: 'L_c', losses: ['c'] },
  { name: 'L_c + L_s', losses: ['c', 's'] },
];

// Six clips, two sources, four subjects.
const clips = [
  { clipId: 'c1', source: 'smic', subject: 'smic/s1', label: 0 },
  { clipId: 'c2', source: 'smic', subject: 'smic/s1', label: 1 },
  { clipId: 'c3', source: 'smic', subject: 'smic/s2', label: 2 },
  { clipId: 'c4', source: 'casme2', subject: 'casme2/sub01', label: 0 },
  { clipId: 'c5', source: 'casme2', subject: 'casme2/sub01', label: 1 },
  { clipId: 'c6', source: 'casme2', subject: 'casme2/sub02', label: 2 },
];

function preds(seed: number, variant: string, pred: (label: number, i: number) => number): Prediction[] {
  return clips.map((c, i) => {
    const p = pred(c.label, i);
    const probs = [0.1, 0.1, 0.1];
    probs[p] = 0.8;
    return { seed, variant, fold: c.subject, ...c, pred: p, probs };
  });
}

// L_c, seed 1: c4 (neg) predicted pos, all else right. Pooled confusion [[1,1,0],[0,2,0],[0,0,2]]:
// F1 = 2/3, 4/5, 1 -> UF1 = 0.822222; recall = 1/2, 1, 1 -> UAR = 0.833333; accuracy 5/6.
// L_c, seed 2: all right -> 1, 1, 1.
// L_c + L_s: every clip predicted as the next class in both seeds -> 0.
const predictions = [
  ...preds(1, 'L_c', (l, i) => (i === 3 ? 1 : l)),
  ...preds(2, 'L_c', (l) => l),
  ...preds(1, 'L_c + L_s', (l) => (l + 1) % 3),
  ...preds(2, 'L_c + L_s', (l) => (l + 1) % 3),
];

describe('summarize', () => {
  const s = summarize({ dataset: 'toy', labels, variants, predictions });

  it('pools folds per seed and averages over seeds', () => {
    expect(s.seeds).toEqual([1, 2]);
    const a = s.variants[0];
    expect(a.name).toBe('L_c');
    expect(a.losses).toEqual(['c']);
    expect(a.perSeed.map((p) => p.seed)).toEqual([1, 2]);
    const uf1Seed1 = (2 / 3 + 0.8 + 1) / 3;
    expect(a.perSeed[0].UF1).toBeCloseTo(uf1Seed1, 12);
    expect(a.perSeed[0].UAR).toBeCloseTo(2.5 / 3, 12);
    expect(a.perSeed[0].accuracy).toBeCloseTo(5 / 6, 12);
    expect(a.perSeed[0].confusion).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [0, 0, 2],
    ]);
    expect(a.perSeed[1].UF1).toBe(1);
    expect(a.UF1).toBeCloseTo((uf1Seed1 + 1) / 2, 12);
    expect(a.UF1_std).toBeCloseTo((1 - uf1Seed1) / Math.SQRT2, 12);
    expect(a.UAR).toBeCloseTo((2.5 / 3 + 1) / 2, 12);
    expect(a.UAR_std).toBeCloseTo((1 - 2.5 / 3) / Math.SQRT2, 12);
    expect(a.accuracy).toBeCloseTo(11 / 12, 12);
    expect(a.accuracy_std).toBeCloseTo(1 / 6 / Math.SQRT2, 12);
    expect(a.f1).toBeCloseTo(a.UF1, 12);
    expect(a.f1_std).toBeCloseTo(a.UF1_std, 12);
    const b = s.variants[1];
    expect([b.UF1, b.UF1_std, b.UAR, b.accuracy]).toEqual([0, 0, 0, 0]);
  });

  it('splits by source', () => {
    const a = s.variants[0];
    expect(Object.keys(a.perSource)).toEqual(['casme2', 'smic']);
    expect(a.perSource.smic).toMatchObject({ UF1: 1, UF1_std: 0, UAR: 1, count: 3 });
    // casme2 seed 1: confusion [[0,1,0],[0,1,0],[0,0,1]] -> F1 = 0, 2/3, 1 (UF1 5/9), recall 0, 1, 1 (UAR 2/3).
    const c = a.perSource.casme2;
    expect(c.count).toBe(3);
    expect(c.UF1).toBeCloseTo((5 / 9 + 1) / 2, 12);
    expect(c.UF1_std).toBeCloseTo(4 / 9 / Math.SQRT2, 12);
    expect(c.UAR).toBeCloseTo((2 / 3 + 1) / 2, 12);
    expect(c.UAR_std).toBeCloseTo(1 / 3 / Math.SQRT2, 12);
    expect(c.accuracy).toBeCloseTo((2 / 3 + 1) / 2, 12);
  });

  it('rejects inconsistent predictions', () => {
    const one = preds(1, 'L_c', (l) => l);
    expect(() => summarize({ dataset: 'toy', labels, variants: variants.slice(0, 1), predictions: predictions })).toThrow(
      /variant "L_c \+ L_s", clip "c1"\): variant is not among the listed variants/,
    );
    expect(() => summarize({ dataset: 'toy', labels, variants, predictions: one })).toThrow(
      /variant "L_c \+ L_s" has no predictions/,
    );
    expect(() =>
      summarize({ dataset: 'toy', labels, variants: variants.slice(0, 1), predictions: [...one, one[2]] }),
    ).toThrow(/prediction 6 .*duplicate/);
    expect(() =>
      summarize({ dataset: 'toy', labels, variants: variants.slice(0, 1), predictions: [{ ...one[0], pred: 3 }] }),
    ).toThrow(/pred = 3 is not a class index/);
    expect(() =>
      summarize({ dataset: 'toy', labels, variants: [{ name: 'x', losses: ['c', 'q'] }], predictions: [] }),
    ).toThrow(/unknown loss "q"/);
  });
});

describe('renderSummaryMarkdown', () => {
  const s = summarize({ dataset: 'toy', labels, variants, predictions });
  const md = renderSummaryMarkdown(s);

  it('has Table 3, Table 2 and per-source rows with mean ± std', () => {
    expect(md).toContain('| Variant | UF1 | UAR |');
    expect(md).toContain('| L_c | 0.911 ± 0.126 | 0.917 ± 0.118 |');
    expect(md).toContain('| L_c + L_s | 0.000 ± 0.000 | 0.000 ± 0.000 |');
    expect(md).toContain('| Variant | Accuracy | F1 |');
    expect(md).toContain('| L_c | 0.917 ± 0.118 | 0.911 ± 0.126 |');
    expect(md).toContain('| Variant | Composite UF1 | Composite UAR | casme2 UF1 | casme2 UAR | smic UF1 | smic UAR |');
    expect(md).toContain(
      '| L_c | 0.911 ± 0.126 | 0.917 ± 0.118 | 0.778 ± 0.314 | 0.833 ± 0.236 | 1.000 ± 0.000 | 1.000 ± 0.000 |',
    );
  });

  it('prints seed-summed confusion matrices with class names', () => {
    expect(md).toContain('### L_c\n');
    expect(md).toContain('| true \\ predicted | neg | pos | sur | recall |');
    expect(md).toContain('| neg | 3 | 1 | 0 | 0.750 |');
    expect(md).toContain('| pos | 0 | 4 | 0 | 1.000 |');
    // L_c + L_s: every class predicted as the next one.
    expect(md).toContain('| neg | 0 | 4 | 0 | 0.000 |');
    expect(md).toContain('| sur | 4 | 0 | 0 | 0.000 |');
  });

  it('omits the per-source table for one source and the spread for one seed', () => {
    const smicOnly = predictions.filter((p) => p.source === 'smic' && p.seed === 1 && p.variant === 'L_c');
    const md1 = renderSummaryMarkdown(
      summarize({ dataset: 'smic', labels, variants: variants.slice(0, 1), predictions: smicOnly }),
    );
    expect(md1).not.toContain('Composite UF1');
    expect(md1).toContain('| L_c | 1.000 | 1.000 |');
    expect(md1).not.toContain('±');
  });
});

describe('the bootstrap design in summary.md', () => {
  it('is crossed when every seed scored the same clips, nested when a seed lacks one, and named per row when both occur', () => {
    const s = summarize({ dataset: 'toy', labels, variants, predictions });
    expect(s.variants[1].vsBaseline!.UF1.design).toBe('crossed');
    expect(renderSummaryMarkdown(s)).toContain('The bootstrap is crossed (every seed scored the same clips: each replicate draws seeds, then one draw of clips shared by all drawn seeds).');
    // seed 2 of the compared row lacks clip c6: the seeds no longer scored the same clips
    const fewer = summarize({ dataset: 'toy', labels, variants, predictions: predictions.filter((p) => !(p.seed === 2 && p.variant === 'L_c + L_s' && p.clipId === 'c6')) });
    expect(fewer.variants[1].vsBaseline!.UF1.design).toBe('nested');
    expect(renderSummaryMarkdown(fewer)).toContain('The bootstrap is nested (the seeds scored different clips: each replicate draws seeds, then clips within each drawn seed).');
    const both = { ...s, variants: [...s.variants, { ...fewer.variants[1], name: 'other' }] };
    const md = renderSummaryMarkdown(both);
    expect(md).toContain('as the column design says.');
    expect(md).toMatch(/\| Variant \| ΔUF1 \[95% CI\] \| ΔUAR \[95% CI\] \| seeds better \(UF1\) \| ΔUF1 per seed \| design \|/);
    expect(md).toMatch(/\| L_c \+ L_s \| [^\n]* \| crossed \|\n\| other \| [^\n]* \| nested \|/);
  });
});

describe('renderConsoleTable', () => {
  it('aligns the columns', () => {
    const s = summarize({ dataset: 'toy', labels, variants, predictions });
    const lines = renderConsoleTable(s).trimEnd().split('\n');
    expect(lines[0]).toBe('toy: 2 seeds (1, 2)');
    expect(lines).toHaveLength(6);
    expect(lines[5]).toBe('95% CI: paired bootstrap, crossed design over seeds and clips');
    const widths = new Set(lines.slice(1, 5).map((l) => l.length));
    expect(widths.size).toBe(1);
    expect(lines[3]).toMatch(/^L_c\s+0\.911 ± 0\.126\s+0\.917 ± 0\.118\s+0\.917 ± 0\.118\s+0\.911 ± 0\.126\s+baseline\s+baseline$/);
    expect(lines[1].indexOf('UF1') + 3).toBe(lines[3].indexOf('0.126') + 5);
  });

  it('shows the paired intervals (one seed too) and the transfer diagnostic, as the report does', () => {
    const one = predictions.filter((p) => p.seed === 1);
    // MaNet alone on seed 1: every clip right but c1 -> F1 2/3, 4/5, 1 as L_c's seed 1 (c4 there, c1 here)
    const transfer = preds(1, TRANSFER_ROW, (l, i) => (i === 0 ? 1 : l));
    const s = summarize({ dataset: 'toy', labels, variants, predictions: one, transfer });
    const lines = renderConsoleTable(s).trimEnd().split('\n');
    expect(lines[0]).toBe('toy: 1 seed (1)');
    expect(lines[1]).toMatch(/^variant\s+UF1\s+UAR\s+accuracy\s+F1\s+ΔUF1 vs L_c \[95% CI\]\s+ΔUAR vs L_c \[95% CI\]$/);
    const d = s.variants[1].vsBaseline!;
    expect(lines[4]).toContain(`${formatDifference(d.UF1)}  ${formatDifference(d.UAR)}`);
    // L_c + L_s is wrong on every clip: -UF1 and -UAR of L_c's seed 1
    expect(d.UF1.mean).toBeCloseTo(-(2 / 3 + 0.8 + 1) / 3, 12);
    expect(lines[5]).toBe(`${TRANSFER_ROW}: UF1 0.822, UAR 0.833, accuracy 0.833`);
  });

  it('prints an interval bound that is not 0 with the digits that show its sign, and 0 as 0', () => {
    const d = (mean: number, lo: number, hi: number) => formatDifference({ mean, ci95: [lo, hi], perSeed: [mean], wins: 0 });
    expect(d(0.0123, -0.0004, 0.0301)).toBe('+0.012 [-0.0004, +0.030]');
    expect(d(0.0002, 0.00004, 0.0004)).toBe('+0.0002 [+0.00004, +0.0004]');
    expect(d(-0.021, -0.045, 0)).toBe('-0.021 [-0.045, 0.000]');
    expect(d(0.5, 0.0005, 0.9)).toBe('+0.500 [+0.001, +0.900]');
  });
});

describe('predictionsToCsv', () => {
  it('writes the header, class names and escapes fields', () => {
    const p: Prediction = {
      seed: 3,
      variant: 'L_c + L_s',
      fold: 'casme2/sub01',
      clipId: 'clip,"odd"',
      subject: 'casme2/sub01',
      source: 'casme2',
      label: 2,
      pred: 0,
      probs: [0.1234567, 0.5, 0.3765433],
    };
    const csv = predictionsToCsv([p], ['neg', 'pos', 'sur,prise']);
    const lines = csv.split('\n');
    expect(lines[0]).toBe('seed,variant,fold,clip,subject,source,label,pred,label_name,pred_name,p_neg,p_pos,"p_sur,prise"');
    expect(lines[1]).toBe(
      '3,L_c + L_s,casme2/sub01,"clip,""odd""",casme2/sub01,casme2,2,0,"sur,prise",neg,0.123457,0.5,0.376543',
    );
    expect(lines[2]).toBe('');
    expect(lines).toHaveLength(3);
  });

  it('rejects a wrong number of probabilities', () => {
    const p = preds(1, 'L_c', (l) => l)[0];
    expect(() => predictionsToCsv([{ ...p, probs: [1] }], labels)).toThrow(/clip "c1"\) has 1 probabilities for 3 classes/);
  });
});

describe('parsePredictionsCsv', () => {
  it('reads back what predictionsToCsv wrote, odd clip names included', () => {
    const odd = predictions.map((p, i) => (i === 0 ? { ...p, clipId: 'clip,"odd"', probs: [0.1234567, 0.5, 0.3765433] } : p));
    const back = parsePredictionsCsv(predictionsToCsv(odd, labels), labels);
    expect(back).toHaveLength(odd.length);
    back.forEach((b, i) => {
      const { probs, ...rest } = odd[i];
      expect({ ...b, probs: undefined }).toEqual({ ...rest, probs: undefined });
      b.probs.forEach((x, j) => expect(x).toBeCloseTo(probs[j], 6));
    });
  });

  it('names the file, row and column of a bad value, and the columns it expected', () => {
    const csv = predictionsToCsv(predictions.slice(0, 2), labels);
    const lines = csv.trimEnd().split('\n');
    const bad = [lines[0], lines[1].replace(/^1,/, 'x,'), lines[2]].join('\n');
    expect(() => parsePredictionsCsv(bad, labels, 'p.csv')).toThrow('p.csv: row 2, column seed: "x" is not a non-negative integer');
    const label9 = lines[1].split(',');
    label9[6] = '9';
    expect(() => parsePredictionsCsv([lines[0], label9.join(',')].join('\n'), labels, 'p.csv')).toThrow('p.csv: row 2, column label: "9" is not a class index in [0, 2]');
    expect(() => parsePredictionsCsv(csv, ['neg', 'sur', 'pos'], 'p.csv')).toThrow(/p\.csv: probability columns \["p_neg","p_pos","p_sur"\], expected \["p_neg","p_sur","p_pos"\]/);
    expect(() => parsePredictionsCsv(csv.replace('variant', 'row'), labels, 'p.csv')).toThrow(/p\.csv: no column "variant"/);
    expect(() => parsePredictionsCsv('', labels, 'p.csv')).toThrow('p.csv: empty');
  });
});

describe('mimanet summarize', () => {
  /** The nested intervals the stored 5-seed run was first published with (ΔUF1, ΔUAR; three decimals). */
  const PUBLISHED_NESTED: Record<string, [[number, number], [number, number]]> = {
    'L_c + L_s': [[-0.006, 0.068], [-0.009, 0.068]],
    'L_c + L_sam + L_t': [[-0.021, 0.043], [-0.026, 0.037]],
    'L_c + L_s + L_sam + L_t': [[-0.01, 0.081], [-0.013, 0.078]],
    'L_c + L_con': [[-0.032, 0.043], [-0.036, 0.04]],
    'L_c + L_s + L_sam + L_t + L_con': [[-0.016, 0.062], [-0.02, 0.057]],
  };

  it('the stored sample-efficiency summary is what its predictions give, crossed at every share', async () => {
    const src = 'docs/results/quick-sample-efficiency';
    const stored = readSummaryFile(src);
    const dir = tempDir('resummarize');
    cpSync(join(src, 'predictions.csv'), join(dir, 'predictions.csv'));
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ ...stored, variants: stored.variants.map(({ vsBaseline: _d, ...v }) => v) }));
    expect((await runCli(['summarize', dir])).code).toBe(0);
    const after = readSummaryFile(dir);
    expect(after.variants).toEqual(stored.variants);
    expect(after.variants.map((v) => v.share)).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25]);
    expect(after.variants.filter((v) => v.vsBaseline).map((v) => [v.vsBaseline!.baseline, v.vsBaseline!.UF1.design])).toEqual([
      ['L_c', 'crossed'],
      ['L_c (50% subjects)', 'crossed'],
      ['L_c (25% subjects)', 'crossed'],
    ]);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toBe(readFileSync(join(src, 'summary.md'), 'utf8'));
  }, 60_000);

  it('recomputes the stored 5-seed summary from its predictions: the same scores and crossed intervals; nested, the intervals first published', async () => {
    const stored = readSummaryFile('docs/results/quick-5seeds');
    const dir = tempDir('resummarize');
    for (const f of ['predictions.csv', 'config.json']) cpSync(join('docs/results/quick-5seeds', f), join(dir, f));
    // the intervals are recomputed, not copied
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ ...stored, variants: stored.variants.map(({ vsBaseline: _d, ...v }) => v) }));
    const r = await runCli(['summarize', dir]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/95% CI: paired bootstrap, crossed design over seeds and clips/);
    const after = readSummaryFile(dir);
    expect(after.transfer).toEqual(stored.transfer);
    expect(after.config).toEqual(stored.config);
    expect(after.fingerprint).toBe(stored.fingerprint);
    expect(after.variants).toEqual(stored.variants);
    const csv = parsePredictionsCsv(readFileSync(join(dir, 'predictions.csv'), 'utf8'), after.labels);
    expect(csv).toHaveLength(5 * 6 * 240);
    for (const v of after.variants) {
      if (v.name === 'L_c') {
        expect(v.vsBaseline).toBeUndefined();
        continue;
      }
      const c = v.vsBaseline!;
      expect([c.UF1.design, c.UAR.design]).toEqual(['crossed', 'crossed']);
      // the same pairs without clip ids are nested, and the nested draw gives the intervals first published
      const pairs = after.seeds.map((seed) => {
        const row = csv.filter((p) => p.seed === seed && p.variant === v.name);
        const base = new Map(csv.filter((p) => p.seed === seed && p.variant === c.baseline).map((p) => [p.clipId, p.pred]));
        return { seed, labels: row.map((p) => p.label), row: row.map((p) => p.pred), base: row.map((p) => base.get(p.clipId)!) };
      });
      const nested = pairedDifferences(pairs, after.labels.length);
      expect(nested.UF1.design).toBe('nested');
      const round = (x: [number, number]) => x.map((e) => Math.round(e * 1000) / 1000);
      expect([round(nested.UF1.ci95), round(nested.UAR.ci95)]).toEqual(PUBLISHED_NESTED[v.name]);
      // crossing keeps the clip effect the seeds share: every crossed interval is wider than the nested one
      for (const m of ['UF1', 'UAR'] as const) expect(c[m].ci95[1] - c[m].ci95[0]).toBeGreaterThan(nested[m].ci95[1] - nested[m].ci95[0]);
    }
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toBe(readFileSync('docs/results/quick-5seeds/summary.md', 'utf8'));
    const missing = tempDir('resummarize');
    cpSync(join(dir, 'summary.json'), join(missing, 'summary.json'));
    const r2 = await runCli(['summarize', missing]);
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/no predictions\.csv, so its summary cannot be recomputed/);
  }, 60_000);
});
