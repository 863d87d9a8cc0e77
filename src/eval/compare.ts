/**
 * Paired comparison of two results folders: the same ablation rows, seeds and clips, run under two
 * settings (an input mode, a backbone, a data change), B minus A. It is the summary's comparison
 * with the L_c row (`pairedDifferences`, the same bootstrap) applied across folders instead of
 * across rows, so a setting is judged by the clips and seeds both runs share.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSummaryFile } from '../results/folder.js';
import { PREDICTIONS_CSV } from '../results/layout.js';
import { parsePredictionsCsv, type Prediction } from './summary.js';
import { computeMetrics } from './metrics.js';
import { pairedDifferences, type PairedDifference, type PairedSeed } from './paired.js';

export interface ComparedRow {
  variant: string;
  seeds: number[];
  /** Clips each seed scored (the same in both folders). */
  clips: number;
  /** Mean over seeds of each folder's UF1 and UAR. */
  a: { UF1: number; UAR: number };
  b: { UF1: number; UAR: number };
  /** B - A, paired by seed and clip. */
  UF1: PairedDifference;
  UAR: PairedDifference;
}

export interface FolderComparison {
  a: string;
  b: string;
  dataset: string;
  labels: string[];
  rows: ComparedRow[];
}

function readPredictions(dir: string): { dataset: string; labels: string[]; predictions: Prediction[] } {
  const summary = readSummaryFile(dir);
  const csv = join(dir, PREDICTIONS_CSV);
  if (!existsSync(csv)) throw new Error(`${dir}: no ${PREDICTIONS_CSV}; a comparison needs each clip's prediction`);
  return { dataset: summary.dataset, labels: [...summary.labels], predictions: parsePredictionsCsv(readFileSync(csv, 'utf8'), summary.labels, csv) };
}

function groupBy<T, K>(xs: readonly T[], key: (x: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * Rows (by variant name) and seeds that both folders hold; within a seed both must have scored the
 * same clips with the same labels, or the difference would not be paired and the comparison stops.
 */
export function compareFolders(dirA: string, dirB: string): FolderComparison {
  const A = readPredictions(dirA);
  const B = readPredictions(dirB);
  if (A.labels.join('\u0000') !== B.labels.join('\u0000')) {
    throw new Error(`${dirB}: classes ${JSON.stringify(B.labels)} differ from ${dirA}'s ${JSON.stringify(A.labels)}; only runs of the same task compare`);
  }
  const byVariantA = groupBy(A.predictions, (p) => p.variant);
  const byVariantB = groupBy(B.predictions, (p) => p.variant);
  const rows: ComparedRow[] = [];
  for (const [variant, predsA] of byVariantA) {
    const predsB = byVariantB.get(variant);
    if (!predsB) continue;
    const seedsA = groupBy(predsA, (p) => p.seed);
    const seedsB = groupBy(predsB, (p) => p.seed);
    const shared = [...seedsA.keys()].filter((s) => seedsB.has(s)).sort((x, y) => x - y);
    if (shared.length === 0) continue;
    const paired: PairedSeed[] = [];
    const scoresA: Array<{ UF1: number; UAR: number }> = [];
    const scoresB: Array<{ UF1: number; UAR: number }> = [];
    for (const seed of shared) {
      const a = seedsA.get(seed)!;
      const b = new Map(seedsB.get(seed)!.map((p) => [p.clipId, p]));
      if (a.length !== b.size) {
        throw new Error(`row "${variant}", seed ${seed}: ${dirA} scored ${a.length} clips, ${dirB} ${b.size}; a paired comparison needs the same clips`);
      }
      const bs = a.map((p) => {
        const q = b.get(p.clipId);
        if (!q) throw new Error(`row "${variant}", seed ${seed}: clip ${p.clipId} of ${dirA} is not in ${dirB}; a paired comparison needs the same clips`);
        if (q.label !== p.label) throw new Error(`row "${variant}", seed ${seed}: clip ${p.clipId} has label ${A.labels[p.label]} in ${dirA} and ${B.labels[q.label]} in ${dirB}`);
        return q;
      });
      const labels = a.map((p) => p.label);
      paired.push({ seed, clips: a.map((p) => p.clipId), labels, row: bs.map((q) => q.pred), base: a.map((p) => p.pred) });
      const ma = computeMetrics(labels, a.map((p) => p.pred), A.labels.length);
      const mb = computeMetrics(labels, bs.map((q) => q.pred), A.labels.length);
      scoresA.push({ UF1: ma.UF1, UAR: ma.UAR });
      scoresB.push({ UF1: mb.UF1, UAR: mb.UAR });
    }
    const d = pairedDifferences(paired, A.labels.length);
    rows.push({
      variant,
      seeds: shared,
      clips: paired[0].labels.length,
      a: { UF1: mean(scoresA.map((s) => s.UF1)), UAR: mean(scoresA.map((s) => s.UAR)) },
      b: { UF1: mean(scoresB.map((s) => s.UF1)), UAR: mean(scoresB.map((s) => s.UAR)) },
      UF1: d.UF1,
      UAR: d.UAR,
    });
  }
  if (rows.length === 0) throw new Error(`${dirA} and ${dirB} share no row with a common seed (rows are matched by name, e.g. "L_c")`);
  return { a: dirA, b: dirB, dataset: A.dataset, labels: A.labels, rows };
}

const signed = (x: number): string => (x >= 0 ? '+' : '') + x.toFixed(3);

/** The comparison as a Markdown table. */
export function renderComparisonMarkdown(c: FolderComparison): string {
  const design = c.rows[0].UF1.design;
  return [
    `# Paired comparison: B minus A (${c.dataset})`,
    '',
    `A: \`${c.a}\`  `,
    `B: \`${c.b}\``,
    '',
    `Each row of B minus the same row of A on the same seeds and clips: the mean over seeds, a 95% interval from a paired bootstrap (${design}: ${design === 'crossed' ? 'each replicate draws seeds, then one draw of clips shared by all drawn seeds' : 'clips drawn within each seed'}), and the seeds on which B scored higher. An interval that contains 0 does not show a difference.`,
    '',
    '| Variant | seeds | clips | UF1 A | UF1 B | ΔUF1 [95% CI] | ΔUAR [95% CI] | seeds better (UF1) | ΔUF1 per seed |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...c.rows.map((r) =>
      `| ${r.variant} | ${r.seeds.length} | ${r.clips} | ${r.a.UF1.toFixed(3)} | ${r.b.UF1.toFixed(3)} | ${signed(r.UF1.mean)} [${signed(r.UF1.ci95[0])}, ${signed(r.UF1.ci95[1])}] | ${signed(r.UAR.mean)} [${signed(r.UAR.ci95[0])}, ${signed(r.UAR.ci95[1])}] | ${r.UF1.wins}/${r.seeds.length} | ${r.UF1.perSeed.map((x) => x.toFixed(3)).join(', ')} |`),
    '',
  ].join('\n');
}
