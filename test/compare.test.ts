/** `mimanet compare A B`: paired differences across two results folders, on hand-computed cases. */
import { describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareFolders, renderComparisonMarkdown } from '../src/eval/compare.js';
import { runCli, tempDir } from './helpers.js';

const EXAMPLE = join(__dirname, '..', 'docs', 'results', 'quick-5seeds');
const HEADER = 'seed,variant,fold,clip,subject,source,label,pred,label_name,pred_name,p_negative,p_positive,p_surprise';
const NAMES = ['negative', 'positive', 'surprise'];

/** A results folder whose predictions are `rows`: [seed, variant, clip, label, pred]. */
function folder(rows: Array<[number, string, string, number, number]>): string {
  const dir = tempDir('compare');
  copyFileSync(join(EXAMPLE, 'summary.json'), join(dir, 'summary.json')); // classes negative, positive, surprise
  const lines = rows.map(([seed, variant, clip, label, pred]) => {
    const p = [0, 0, 0];
    p[pred] = 1;
    return [seed, variant, 's1', clip, 's1', 'synth', label, pred, NAMES[label], NAMES[pred], ...p].join(',');
  });
  writeFileSync(join(dir, 'predictions.csv'), [HEADER, ...lines].join('\n') + '\n');
  return dir;
}

const LABELS = [0, 0, 1, 1, 2, 2];
const rowsOf = (seed: number, variant: string, preds: number[]): Array<[number, string, string, number, number]> =>
  preds.map((p, i) => [seed, variant, `c${i}`, LABELS[i], p]);

describe('mimanet compare', () => {
  it('B minus A per seed and its mean, on a hand-computed case', () => {
    const right = [0, 0, 1, 1, 2, 2];
    const oneWrong = [0, 1, 1, 1, 2, 2]; // F1: 2/3, 0.8, 1 -> UF1 0.8222; recalls 0.5, 1, 1 -> UAR 0.8333
    const a = folder([...rowsOf(1, 'L_c', right), ...rowsOf(2, 'L_c', right), ...rowsOf(1, 'L_c + L_s', right)]);
    const b = folder([...rowsOf(2, 'L_c', right), ...rowsOf(1, 'L_c', oneWrong), ...rowsOf(3, 'L_c', right), ...rowsOf(1, 'L_c + L_con', right)]);
    const c = compareFolders(a, b);
    // only the row both hold, and only the seeds both hold
    expect(c.rows.map((r) => r.variant)).toEqual(['L_c']);
    const [r] = c.rows;
    expect(r.seeds).toEqual([1, 2]);
    expect(r.clips).toBe(6);
    expect(r.UF1.perSeed[0]).toBeCloseTo((2 / 3 + 0.8 + 1) / 3 - 1, 10);
    expect(r.UF1.perSeed[1]).toBe(0);
    expect(r.UF1.mean).toBeCloseTo(((2 / 3 + 0.8 + 1) / 3 - 1) / 2, 10);
    expect(r.UAR.perSeed[0]).toBeCloseTo(2.5 / 3 - 1, 10);
    expect(r.UF1.wins).toBe(0);
    expect(r.a.UF1).toBe(1);
    expect(r.b.UF1).toBeCloseTo(((2 / 3 + 0.8 + 1) / 3 + 1) / 2, 10);
    expect(r.UF1.design).toBe('crossed');
    // the interval holds the mean and no positive value (B is never better)
    expect(r.UF1.ci95[0]).toBeLessThanOrEqual(r.UF1.mean);
    expect(r.UF1.ci95[1]).toBeLessThanOrEqual(0);
    expect(renderComparisonMarkdown(c)).toContain('| L_c | 2 | 6 | 1.000 | 0.911 | -0.089 [');
  });

  it('refuses folders that did not score the same clips, naming the clip', () => {
    const a = folder(rowsOf(1, 'L_c', [0, 0, 1, 1, 2, 2]));
    const fewer = folder(rowsOf(1, 'L_c', [0, 0, 1, 1, 2, 2]).slice(1));
    expect(() => compareFolders(a, fewer)).toThrow(/seed 1: .* scored 6 clips, .* 5; a paired comparison needs the same clips/);
    const relabelled = folder(rowsOf(1, 'L_c', [0, 0, 1, 1, 2, 2]).map(([s, v, c, l, p]) => [s, v, c, c === 'c5' ? 1 : l, p] as [number, string, string, number, number]));
    expect(() => compareFolders(a, relabelled)).toThrow('clip c5 has label surprise in');
    const other = folder(rowsOf(1, 'L_c + L_s', [0, 0, 1, 1, 2, 2]));
    expect(() => compareFolders(a, other)).toThrow('share no row with a common seed');
  });

  it('the command prints the table, or JSON, and writes --out', async () => {
    const a = folder(rowsOf(1, 'L_c', [0, 0, 1, 1, 2, 2]));
    const b = folder(rowsOf(1, 'L_c', [0, 0, 1, 1, 2, 0]));
    const out = join(tempDir('compare-out'), 'cmp.md');
    const text = await runCli(['compare', a, b, '--out', out]);
    expect(text.out).toContain('| L_c | 1 | 6 |');
    expect(readFileSync(out, 'utf8')).toBe(text.out);
    const json = await runCli(['compare', a, b, '--json']);
    const parsed = JSON.parse(json.out.trim().split('\n').pop()!);
    expect(parsed.rows[0].UF1.perSeed).toHaveLength(1);
    expect(parsed.rows[0].UF1.perSeed[0]).toBeLessThan(0);
  });
});
