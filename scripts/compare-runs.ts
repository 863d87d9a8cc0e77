/**
 * Two results folders of the same rows, seeds and clips (e.g. one input mode against another):
 * per row, UF1 and UAR of each (mean over seeds) and the paired difference B - A with the summary's
 * two-level bootstrap interval (src/eval/paired.ts), paired by seed and clip.
 *
 *   npx tsx scripts/compare-runs.ts runs/onset-diff-5seeds runs/flow-5seeds
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from '../src/results/csv.js';
import { pairedDifferences } from '../src/eval/paired.js';
import { computeMetrics } from '../src/eval/metrics.js';

interface Row { seed: number; variant: string; clip: string; label: number; pred: number }

function readPredictions(dir: string): { rows: Row[]; classes: number } {
  const [head, ...lines] = parseCsv(readFileSync(join(dir, 'predictions.csv'), 'utf8'));
  const col = (name: string): number => {
    const i = head.indexOf(name);
    if (i < 0) throw new Error(`${dir}/predictions.csv: no column "${name}"`);
    return i;
  };
  const [s, v, c, l, p] = ['seed', 'variant', 'clip', 'label', 'pred'].map(col);
  const classes = head.filter((h) => h.startsWith('p_')).length;
  return { rows: lines.filter((r) => r.length > 1).map((r) => ({ seed: Number(r[s]), variant: r[v], clip: r[c], label: Number(r[l]), pred: Number(r[p]) })), classes };
}

const [dirA, dirB] = process.argv.slice(2);
if (!dirA || !dirB) throw new Error('usage: npx tsx scripts/compare-runs.ts RESULTS_A RESULTS_B');
const a = readPredictions(dirA);
const b = readPredictions(dirB);
const key = (r: Row): string => `${r.seed}\t${r.variant}\t${r.clip}`;
const inB = new Map(b.rows.map((r) => [key(r), r]));
const variants = [...new Set(a.rows.map((r) => r.variant))].filter((v) => b.rows.some((r) => r.variant === v));
const fmt = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
console.log(`| row | UF1 ${dirA} | UF1 ${dirB} | ΔUF1 [95% CI] | UAR ${dirA} | UAR ${dirB} | ΔUAR [95% CI] | seeds better (UF1) |`);
console.log('|---|---|---|---|---|---|---|---|');
for (const variant of variants) {
  const seeds = [...new Set(a.rows.filter((r) => r.variant === variant).map((r) => r.seed))].sort((x, y) => x - y);
  const paired = seeds.map((seed) => {
    const ra = a.rows.filter((r) => r.variant === variant && r.seed === seed).sort((x, y) => x.clip.localeCompare(y.clip));
    const rb = ra.map((r) => {
      const m = inB.get(key(r));
      if (!m || m.label !== r.label) throw new Error(`seed ${seed}, ${variant}, clip ${r.clip}: not in ${dirB} with the same label`);
      return m;
    });
    return { seed, labels: ra.map((r) => r.label), row: rb.map((r) => r.pred), base: ra.map((r) => r.pred) };
  });
  const d = pairedDifferences(paired, a.classes);
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const score = (preds: (p: (typeof paired)[number]) => number[], k: 'UF1' | 'UAR'): number => mean(paired.map((p) => computeMetrics(p.labels, preds(p), a.classes)[k]));
  console.log(
    `| ${variant} | ${score((p) => p.base, 'UF1').toFixed(3)} | ${score((p) => p.row, 'UF1').toFixed(3)} | ${fmt(d.UF1.mean)} [${fmt(d.UF1.ci95[0])}, ${fmt(d.UF1.ci95[1])}] | ` +
      `${score((p) => p.base, 'UAR').toFixed(3)} | ${score((p) => p.row, 'UAR').toFixed(3)} | ${fmt(d.UAR.mean)} [${fmt(d.UAR.ci95[0])}, ${fmt(d.UAR.ci95[1])}] | ${d.UF1.wins}/${seeds.length} |`,
  );
}
