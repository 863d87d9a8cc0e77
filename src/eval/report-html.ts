/**
 * The HTML report of a results folder: one self-contained file that opens
 * offline. Tables in the paper's layouts (Table 3 UF1/UAR, Table 2
 * accuracy/F1, Table 5 per source), confusion matrices, training curves per
 * loss term, and t-SNE maps of MiNet's and MaNet's features before and after
 * guided fine-tuning. Charts are Vega-Lite specs drawn by Vega, Vega-Lite and
 * vega-embed, whose builds are read from node_modules and inlined.
 *
 * Reads a results folder through src/results/:
 *   summary.json                        scores per variant (src/eval/summary.ts)
 *   folds.csv                           per-fold accuracy
 *   seed-S/folds/F/<losses>.json        per-fold results with training curves
 *   seed-S/manet-curve.json             MaNet pretraining curve
 *   seed-S/embeddings.json              features for the t-SNE maps (optional)
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Summary, VariantSummary } from './summary.js';
import { comparisonDesigns, DEFAULT_DECIMALS, designSentence, differenceDesign, formatDifference, TRANSFER_ROW } from './summary.js';
import { tsne } from './tsne.js';
import { LOSS_TERMS } from '../model/losses.js';
import { Rng } from '../util/rng.js';
import { writeFileAtomic } from '../util/fs.js';
import {
  FOLDS_CSV,
  REPORT_FILE,
  manetPath,
  readCurve,
  readEmbeddings,
  readFoldsCsv,
  readSummaryFile,
  scanFoldResults,
  seedDirs,
  type CurveFile,
  type EmbeddingPoint,
  type EmbeddingsFile,
  type FoldRow,
  type FoldVariantResult,
  type SummaryFile,
} from '../results/index.js';

export { REPORT_FILE };

/** The fields of a row result the report reads. */
type FoldResultFile = Pick<FoldVariantResult, 'seed' | 'subject' | 'variant' | 'curves' | 'pretrainCurve'> & { losses: string[] };

export interface ReportOptions {
  /** Most points per stage in a t-SNE map (a seeded sample above it). Default {@link DEFAULT_TSNE_POINTS}. */
  tsnePoints?: number;
  /** t-SNE iterations. Default 500. */
  tsneIterations?: number;
  /** Seed of the sampling and of t-SNE's initial layout. Default 1. */
  seed?: number;
}

export const DEFAULT_TSNE_POINTS = 600;

const TERM_TITLES: Record<string, string> = {
  c: 'L_c (Eq. 1)',
  s: 'L_s (Eq. 2)',
  sam: 'L_sam (Eq. 3)',
  t: 'L_t (Eq. 4)',
  con: 'L_con (Eq. 5-7)',
  total: 'L (Eq. 8, weighted sum)',
};

// ---------------------------------------------------------------- reading

export interface ReportData {
  dir: string;
  summary: SummaryFile;
  folds: FoldRow[];
  results: FoldResultFile[];
  manetCurves: Array<{ seed: number } & CurveFile>;
  embeddings: Array<{ seed: number; file: string; data: EmbeddingsFile }>;
}

/** Reads everything the report shows from a results folder. */
export function readReportData(dir: string): ReportData {
  const summary = readSummaryFile(dir);
  const manetCurves: ReportData['manetCurves'] = [];
  for (const { seed } of seedDirs(dir)) {
    const curve = readCurve(manetPath(dir, seed));
    if (curve) manetCurves.push({ seed, ...curve });
  }
  return { dir, summary, folds: readFoldsCsv(join(dir, FOLDS_CSV)), results: scanFoldResults(dir), manetCurves, embeddings: readEmbeddings(dir) };
}

// ---------------------------------------------------------------- charts

type Spec = Record<string, unknown>;

function confusionSpec(v: VariantSummary, labels: string[]): Spec {
  const n = labels.length;
  const m = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (const s of v.perSeed) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i][j] += s.confusion?.[i]?.[j] ?? 0;
  const values = m.flatMap((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, j) => ({ true: labels[i], predicted: labels[j], count, share: total > 0 ? count / total : 0 }));
  });
  const cell = Math.max(28, Math.min(60, Math.floor(300 / n)));
  return {
    title: { text: v.name, fontSize: 12 },
    data: { values },
    width: cell * n,
    height: cell * n,
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: labels, title: 'predicted', axis: { labelAngle: -40 } },
      y: { field: 'true', type: 'nominal', sort: labels, title: 'true' },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: { field: 'share', type: 'quantitative', scale: { domain: [0, 1], scheme: 'blues' }, title: 'share of row' },
          tooltip: [{ field: 'true' }, { field: 'predicted' }, { field: 'count' }, { field: 'share', format: '.2f' }],
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.share > 0.55', value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

interface CurvePoint {
  variant: string;
  term: string;
  epoch: number;
  mean: number;
  lo: number;
  hi: number;
  runs: number;
}

function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

/** Per variant, term and epoch: mean and spread over every fold (and seed) of the fine-tuning curves. */
export function averageCurves(results: FoldResultFile[], variantOrder: string[]): CurvePoint[] {
  const groups = new Map<string, number[]>();
  for (const r of results) {
    r.curves.forEach((row, e) => {
      const epoch = typeof row.epoch === 'number' ? row.epoch : e + 1;
      for (const term of [...LOSS_TERMS, 'total']) {
        const v = row[term];
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        const key = JSON.stringify([r.variant, term, epoch]);
        const list = groups.get(key) ?? [];
        list.push(v);
        groups.set(key, list);
      }
    });
  }
  const out: CurvePoint[] = [];
  for (const [key, xs] of groups) {
    const [variant, term, epoch] = JSON.parse(key) as [string, string, number];
    const { mean, std } = meanStd(xs);
    out.push({ variant, term: TERM_TITLES[term] ?? term, epoch, mean, lo: mean - std, hi: mean + std, runs: xs.length });
  }
  const rank = (v: string): number => {
    const i = variantOrder.indexOf(v);
    return i < 0 ? variantOrder.length : i;
  };
  const termRank = (t: string): number => Object.values(TERM_TITLES).indexOf(t);
  out.sort((a, b) => rank(a.variant) - rank(b.variant) || termRank(a.term) - termRank(b.term) || a.epoch - b.epoch);
  return out;
}

/** Legend entries drawn as lines (the band layer would otherwise give them its pale fill). */
const LINE_LEGEND: Spec = { orient: 'bottom', labelLimit: 320, symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 2.5 };

function curvesSpec(points: CurvePoint[], variants: string[]): Spec {
  const terms = Object.values(TERM_TITLES).filter((t) => points.some((p) => p.term === t));
  const color: Spec = { field: 'variant', type: 'nominal', sort: variants, title: 'variant', legend: { ...LINE_LEGEND, columns: 2 } };
  return {
    data: { values: points },
    facet: { field: 'term', type: 'nominal', sort: terms, title: null, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
    columns: 3,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 260,
      height: 160,
      encoding: { x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } } },
      layer: [
        {
          mark: { type: 'area', opacity: 0.15 },
          encoding: { y: { field: 'lo', type: 'quantitative', title: 'mean over folds', scale: { zero: false } }, y2: { field: 'hi' }, color },
        },
        {
          mark: { type: 'line', point: true },
          encoding: {
            y: { field: 'mean', type: 'quantitative' },
            color,
            tooltip: [{ field: 'variant' }, { field: 'term' }, { field: 'epoch' }, { field: 'mean', format: '.4f' }, { field: 'runs', title: 'fold runs' }],
          },
        },
      ],
    },
  };
}

function pretrainSpec(results: FoldResultFile[], manet: ReportData['manetCurves']): Spec | undefined {
  const rows: Array<{ net: string; epoch: number; mean: number; lo: number; hi: number }> = [];
  // one pretraining per fold and seed, shared by the variants: count it once
  const seen = new Map<string, number[]>();
  for (const r of results) seen.set(`${r.seed}|${r.subject}`, r.pretrainCurve ?? []);
  const curves = [...seen.values()].filter((c) => c.length > 0);
  const maxE = Math.max(0, ...curves.map((c) => c.length));
  for (let e = 0; e < maxE; e++) {
    const xs = curves.map((c) => c[e]).filter((v) => Number.isFinite(v));
    if (xs.length === 0) continue;
    const { mean, std } = meanStd(xs);
    rows.push({ net: 'MiNet (per fold, training subjects)', epoch: e + 1, mean, lo: mean - std, hi: mean + std });
  }
  const mE = Math.max(0, ...manet.map((c) => c.epochs.length));
  for (let e = 0; e < mE; e++) {
    const xs = manet.map((c) => c.epochs[e]).filter((v) => Number.isFinite(v));
    if (xs.length === 0) continue;
    const { mean, std } = meanStd(xs);
    rows.push({ net: 'MaNet (macro data)', epoch: e + 1, mean, lo: mean - std, hi: mean + std });
  }
  if (rows.length === 0) return undefined;
  const netColor: Spec = { field: 'net', type: 'nominal', title: null, legend: LINE_LEGEND };
  return {
    data: { values: rows },
    width: 420,
    height: 180,
    title: { text: 'Pretraining, L_c (Eq. 1)', fontSize: 12 },
    encoding: { x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } } },
    layer: [
      {
        mark: { type: 'area', opacity: 0.15 },
        encoding: { y: { field: 'lo', type: 'quantitative', title: 'mean L_c', scale: { zero: false } }, y2: { field: 'hi' }, color: netColor },
      },
      {
        mark: { type: 'line', point: true },
        encoding: {
          y: { field: 'mean', type: 'quantitative' },
          color: netColor,
          tooltip: [{ field: 'net' }, { field: 'epoch' }, { field: 'mean', format: '.4f' }],
        },
      },
    ],
  };
}

const STAGE_TITLES: Record<EmbeddingPoint['stage'], string> = {
  before: 'before guided fine-tuning (pretrained MiNet)',
  after: 'after guided fine-tuning (all five losses)',
};

/** t-SNE of each stage's points (MiNet micro and MaNet macro features together). */
export function embedStages(e: EmbeddingsFile, opts: ReportOptions = {}): Array<{ stage: string; net: string; domain: string; label: string; x: number; y: number }> {
  const max = opts.tsnePoints ?? DEFAULT_TSNE_POINTS;
  const out: Array<{ stage: string; net: string; domain: string; label: string; x: number; y: number }> = [];
  for (const stage of ['before', 'after'] as const) {
    let pts = e.points.filter((p) => p.stage === stage);
    if (pts.length > max) pts = new Rng(opts.seed ?? 1).shuffle(pts).slice(0, max);
    if (pts.length === 0) continue;
    const y = tsne(
      pts.map((p) => p.z),
      { seed: opts.seed ?? 1, iterations: opts.tsneIterations },
    );
    pts.forEach((p, i) => out.push({ stage: STAGE_TITLES[stage], net: p.net, domain: `${p.domain} (${p.net})`, label: p.label, x: y[i][0], y: y[i][1] }));
  }
  return out;
}

function embeddingSpec(points: ReturnType<typeof embedStages>, labels: string[]): Spec {
  const classes = [...labels, ...[...new Set(points.map((p) => p.label))].filter((l) => !labels.includes(l)).sort()];
  const stages = Object.values(STAGE_TITLES).filter((s) => points.some((p) => p.stage === s));
  const panel = (color: Spec, title: string): Spec => ({
    title: { text: title, fontSize: 12, anchor: 'start' },
    facet: { column: { field: 'stage', type: 'nominal', sort: stages, title: null, header: { labelFontSize: 11 } } },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: 330,
      height: 280,
      mark: { type: 'point', filled: true, size: 36, opacity: 0.75 },
      encoding: {
        x: { field: 'x', type: 'quantitative', axis: null },
        y: { field: 'y', type: 'quantitative', axis: null },
        color,
        shape: { field: 'domain', type: 'nominal', title: 'domain', scale: { range: ['circle', 'triangle-up'] } },
        tooltip: [{ field: 'label' }, { field: 'domain' }],
      },
    },
  });
  return {
    data: { values: points },
    vconcat: [
      panel({ field: 'label', type: 'nominal', sort: classes, title: 'class', scale: { domain: classes, scheme: 'category10' } }, 'Coloured by class'),
      panel({ field: 'domain', type: 'nominal', title: 'domain', scale: { range: ['#d95f02', '#1b9e77'] } }, 'Coloured by domain'),
    ],
    resolve: { scale: { color: 'independent', shape: 'independent' } },
  };
}

/** Paired differences to L_c with their 95% intervals, one row per variant. */
function differenceSpec(variants: VariantSummary[]): Spec {
  const values = variants.flatMap((v) =>
    (['UF1', 'UAR'] as const).map((metric) => {
      const d = v.vsBaseline![metric];
      return { variant: v.name, metric, mean: d.mean, lo: d.ci95[0], hi: d.ci95[1] };
    }),
  );
  const x = { field: 'mean', type: 'quantitative', title: 'difference to L_c' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', title: null } },
    spec: {
      width: 260,
      height: { step: 22 },
      layer: [
        { mark: { type: 'rule', color: '#999' }, encoding: { x: { datum: 0 } } },
        { mark: 'rule', encoding: { y: { field: 'variant', type: 'nominal', sort: null, title: null }, x: { field: 'lo', type: 'quantitative', title: 'difference to L_c' }, x2: { field: 'hi' } } },
        { mark: { type: 'point', filled: true, size: 50 }, encoding: { y: { field: 'variant', type: 'nominal', sort: null }, x, tooltip: [{ field: 'variant' }, { field: 'mean', format: '.3f' }, { field: 'lo', format: '.3f' }, { field: 'hi', format: '.3f' }] } },
      ],
    },
  } as unknown as Spec;
}

/** UF1 against the share of micro training subjects, one line per loss set. */
function sampleEfficiencySpec(summary: Summary): Spec {
  const values = summary.variants.map((v) => ({
    losses: v.losses.map((l) => `L_${l}`).join(' + '),
    share: v.share ?? 1,
    UF1: v.UF1,
    lo: v.UF1 - v.UF1_std,
    hi: v.UF1 + v.UF1_std,
  }));
  const x = { field: 'share', type: 'quantitative', title: 'share of micro training subjects', scale: { domain: [0, 1] } };
  const color = { field: 'losses', type: 'nominal', title: 'loss terms' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: { values },
    width: 420,
    height: 260,
    layer: [
      { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'UF1', type: 'quantitative', title: 'UF1' }, color } },
      { mark: 'errorbar', encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
    ],
  } as unknown as Spec;
}

// ---------------------------------------------------------------- HTML

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JSON that is safe inside a <script> element. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function fmt(mean: number, std: number, withStd: boolean): string {
  if (!Number.isFinite(mean)) return 'n/a';
  return withStd ? `${mean.toFixed(DEFAULT_DECIMALS)} ± ${std.toFixed(DEFAULT_DECIMALS)}` : mean.toFixed(DEFAULT_DECIMALS);
}

interface Column {
  title: string;
  mean: (v: VariantSummary) => number | undefined;
  std: (v: VariantSummary) => number | undefined;
}

function table(summary: Summary, columns: Column[], multi: boolean, caption: string): string {
  const best = columns.map((c) => Math.max(...summary.variants.map((v) => c.mean(v) ?? -Infinity)));
  const head = `<tr><th>Variant</th>${columns.map((c) => `<th>${escapeHtml(c.title)}</th>`).join('')}</tr>`;
  const rows = summary.variants.map((v) => {
    const cells = columns.map((c, k) => {
      const m = c.mean(v);
      const s = c.std(v) ?? 0;
      if (m === undefined) return '<td class="num">n/a</td>';
      const text = escapeHtml(fmt(m, s, multi));
      return `<td class="num">${m === best[k] && summary.variants.length > 1 ? `<b>${text}</b>` : text}</td>`;
    });
    return `<tr><td>${escapeHtml(v.name)}</td>${cells.join('')}</tr>`;
  });
  return `<table><caption>${escapeHtml(caption)}</caption><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

function sources(summary: Summary): string[] {
  const s = new Set<string>();
  for (const v of summary.variants) for (const k of Object.keys(v.perSource ?? {})) s.add(k);
  return [...s].sort();
}

function foldTable(rows: FoldRow[], variants: string[]): string {
  if (rows.length === 0) return '<p class="note">No folds.csv in this folder.</p>';
  const subjects = [...new Set(rows.map((r) => r.subject))];
  const cell = (subject: string, variant: string): string => {
    const xs = rows.filter((r) => r.subject === subject && r.variant === variant);
    if (xs.length === 0) return '<td class="num">-</td>';
    const { mean } = meanStd(xs.map((r) => r.accuracy));
    return `<td class="num">${mean.toFixed(DEFAULT_DECIMALS)}</td>`;
  };
  const clips = (subject: string): number => rows.find((r) => r.subject === subject)?.clips ?? 0;
  const head = `<tr><th>Held-out subject</th><th>clips</th>${variants.map((v) => `<th>${escapeHtml(v)}</th>`).join('')}</tr>`;
  const body = subjects.map((s) => `<tr><td>${escapeHtml(s)}</td><td class="num">${clips(s)}</td>${variants.map((v) => cell(s, v)).join('')}</tr>`).join('');
  return `<table class="folds"><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

/** A package's root folder, found from its entry point (its package.json is not exported). */
function packageRoot(name: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === name) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of the npm package ${name}`);
    dir = up;
  }
}

/** The browser builds of Vega, Vega-Lite and vega-embed, in load order, with their versions. */
export function chartLibraries(): Array<{ name: string; version: string; code: string }> {
  return (
    [
      ['vega', 'build/vega.min.js'],
      ['vega-lite', 'build/vega-lite.min.js'],
      ['vega-embed', 'build/vega-embed.min.js'],
    ] as const
  ).map(([name, file]) => {
    const root = packageRoot(name);
    const path = join(root, file);
    if (!existsSync(path)) throw new Error(`${path}: missing; reinstall the npm package ${name}`);
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    // a literal "</script" inside the code would end the inline element early
    return { name, version, code: readFileSync(path, 'utf8').replace(/<\/script/gi, '<\\/script') };
  });
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1180px;margin:0 auto;padding:24px 32px 64px;background:#fff}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.25em;margin:36px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:1.05em;margin:20px 0 6px}
.meta{color:#555;font-size:.92em;line-height:1.5}
table{border-collapse:collapse;margin:10px 0 18px;font-size:.92em}
caption{text-align:left;font-weight:600;padding:4px 0;color:#333}
th,td{border-bottom:1px solid #e3e3e3;padding:4px 12px;text-align:left}
th{background:#f3f5f8;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.grid{display:flex;flex-wrap:wrap;gap:18px}.chart{margin:10px 0 14px}.note{color:#666;font-size:.9em}
details summary{cursor:pointer;color:#235}
code{background:#f2f2f2;padding:1px 4px;border-radius:3px}
`;

/** Renders the report of `data` as one HTML document. */
export function renderReportHtml(data: ReportData, opts: ReportOptions = {}): string {
  const { summary } = data;
  const multi = (summary.seeds?.length ?? 0) > 1;
  const variants = summary.variants.map((v) => v.name);
  const specs: Record<string, Spec> = {};
  const chart = (id: string, spec: Spec): string => {
    specs[id] = spec;
    return `<div class="chart" id="${id}"></div>`;
  };
  const cfg = (summary.config ?? {}) as { preset?: string; model?: Record<string, unknown>; data?: Record<string, unknown>; finetune?: Record<string, unknown>; pretrain?: Record<string, unknown> };
  const m = cfg.model ?? {};
  const parts: string[] = [];
  parts.push(`<h1>MiMaNet results: ${escapeHtml(summary.dataset)}</h1>`);
  parts.push(
    `<p class="meta">Classes: ${summary.labels.map(escapeHtml).join(', ')}. Seeds: ${(summary.seeds ?? []).join(', ')}. ` +
      (cfg.preset ? `Preset <code>${escapeHtml(String(cfg.preset))}</code>; ` : '') +
      (m.size ? `frames ${m.size}x${m.size}x${m.channels}, T = ${m.frames}, ResNet18 width ${m.width}, s_c = ${m.sc}, K = ${m.K}; ` : '') +
      (cfg.pretrain ? `pretraining ${cfg.pretrain.manetEpochs} (MaNet) / ${cfg.pretrain.minetEpochs} (MiNet) epochs; ` : '') +
      (cfg.finetune ? `guided fine-tuning ${cfg.finetune.epochs} epoch${cfg.finetune.epochs === 1 ? '' : 's'}, n = ${cfg.finetune.n}. ` : '') +
      (summary.fingerprint ? `Config fingerprint <code>${escapeHtml(summary.fingerprint)}</code>. ` : '') +
      `Each seed's predictions are pooled over all leave-one-subject-out folds before scoring (MEGC 2019); ` +
      (multi ? 'cells show mean ± sample standard deviation over seeds. ' : 'one seed, so no spread is shown. ') +
      `The best value of each column is in bold. Nothing was selected on the held-out subjects.</p>`,
  );

  parts.push('<h2>Scores</h2>');
  parts.push(
    table(
      summary,
      [
        { title: 'UF1', mean: (v) => v.UF1, std: (v) => v.UF1_std },
        { title: 'UAR', mean: (v) => v.UAR, std: (v) => v.UAR_std },
      ],
      multi,
      'UF1 and UAR (paper Table 3 layout)',
    ),
  );
  parts.push(
    table(
      summary,
      [
        { title: 'Accuracy', mean: (v) => v.accuracy, std: (v) => v.accuracy_std },
        { title: 'F1', mean: (v) => v.f1, std: (v) => v.f1_std },
      ],
      multi,
      'Accuracy and F1 (paper Table 2 layout)',
    ),
  );
  const srcs = sources(summary);
  if (srcs.length > 1) {
    const cols: Column[] = [
      { title: 'Composite UF1', mean: (v) => v.UF1, std: (v) => v.UF1_std },
      { title: 'Composite UAR', mean: (v) => v.UAR, std: (v) => v.UAR_std },
    ];
    for (const s of srcs) {
      cols.push({ title: `${s} UF1`, mean: (v) => v.perSource?.[s]?.UF1, std: (v) => v.perSource?.[s]?.UF1_std });
      cols.push({ title: `${s} UAR`, mean: (v) => v.perSource?.[s]?.UAR, std: (v) => v.perSource?.[s]?.UAR_std });
    }
    parts.push(table(summary, cols, multi, 'UF1 and UAR per source (paper Table 5 layout)'));
    const counts = srcs.map((s) => `${escapeHtml(s)} ${Math.max(0, ...summary.variants.map((v) => v.perSource?.[s]?.count ?? 0))}`);
    parts.push(`<p class="note">Clips per source: ${counts.join(', ')}.</p>`);
  }

  const compared = summary.variants.filter((v) => v.vsBaseline);
  if (compared.length > 0) {
    parts.push('<h2>Difference to L_c (paired)</h2>');
    const designs = comparisonDesigns(summary);
    const mixed = designs.length > 1;
    parts.push(
      `<p class="note">Each row minus the L_c row trained on the same subjects, on the same seeds and clips: mean over seeds and a 95% interval ` +
        `from a paired bootstrap. ${escapeHtml(designSentence(designs))} An interval that crosses 0 does not show a difference.</p>`,
    );
    const head = `<tr><th>Variant</th><th>ΔUF1 [95% CI]</th><th>ΔUAR [95% CI]</th><th>seeds better (UF1)</th><th>ΔUF1 per seed</th>${mixed ? '<th>design</th>' : ''}</tr>`;
    const rows = compared.map((v) => {
      const c = v.vsBaseline!;
      const design = mixed ? `<td>${differenceDesign(c.UF1)}</td>` : '';
      return `<tr><td>${escapeHtml(v.name)}</td><td class="num">${escapeHtml(formatDifference(c.UF1))}</td><td class="num">${escapeHtml(formatDifference(c.UAR))}</td><td class="num">${c.UF1.wins}/${c.UF1.perSeed.length}</td><td>${c.UF1.perSeed.map((d) => d.toFixed(DEFAULT_DECIMALS)).join(', ')}</td>${design}</tr>`;
    });
    parts.push(`<table><caption>Paired differences to L_c</caption><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`);
    parts.push(chart('paired-differences', differenceSpec(compared)));
  }
  const shares = [...new Set(summary.variants.map((v) => v.share ?? 1))];
  if (shares.length > 1) {
    parts.push('<h2>Sample efficiency</h2>');
    parts.push(`<p class="note">UF1 (mean ± sd over seeds) as the share of each fold's micro training subjects shrinks; macro data and test subjects unchanged.</p>`);
    parts.push(chart('sample-efficiency', sampleEfficiencySpec(summary)));
  }
  if (summary.transfer) {
    const t = summary.transfer;
    parts.push('<h2>Transfer diagnostic: MaNet alone</h2>');
    parts.push(
      `<p class="note">MaNet, trained on macro clips only, scored on every micro clip; each micro class gets the summed probability of the macro classes that map to it.</p>`,
    );
    parts.push(
      `<table><thead><tr><th>Model</th><th>UF1</th><th>UAR</th><th>Accuracy</th></tr></thead><tbody><tr><td>${escapeHtml(TRANSFER_ROW)}</td>` +
        `<td class="num">${escapeHtml(fmt(t.UF1, t.UF1_std, multi))}</td><td class="num">${escapeHtml(fmt(t.UAR, t.UAR_std, multi))}</td><td class="num">${escapeHtml(fmt(t.accuracy, t.accuracy_std, multi))}</td></tr></tbody></table>`,
    );
  }

  parts.push('<h2>Confusion matrices</h2>');
  parts.push(`<p class="note">Rows are true classes, columns predicted classes; counts summed over ${multi ? `the ${summary.seeds.length} seeds` : 'the seed'}, colour = share of the row (recall on the diagonal).</p>`);
  parts.push(`<div class="grid">${summary.variants.map((v, i) => chart(`confusion-${i}`, confusionSpec(v, summary.labels))).join('')}</div>`);

  parts.push('<h2>Training curves</h2>');
  const curves = averageCurves(data.results, variants);
  if (curves.length > 0) {
    parts.push(`<p class="note">Guided fine-tuning: per-epoch mean of each loss term, averaged over ${new Set(data.results.map((r) => `${r.seed}|${r.subject}`)).size} fold runs (folds x seeds); the band is ± one standard deviation over them.</p>`);
    parts.push(chart('curves', curvesSpec(curves, variants)));
  } else {
    parts.push('<p class="note">No per-fold result files (seed-*/folds/*/&lt;losses&gt;.json) with curves in this folder.</p>');
  }
  const pre = pretrainSpec(data.results, data.manetCurves);
  if (pre) parts.push(chart('pretrain', pre));

  parts.push('<h2>Feature maps (t-SNE)</h2>');
  if (data.embeddings.length === 0) {
    parts.push('<p class="note">No seed-*/embeddings.json in this folder, so no feature maps.</p>');
  } else {
    parts.push(
      `<p class="note">Fused features z of MiNet (micro clips) and MaNet (macro clips, macro labels mapped to micro classes or "other"), embedded together with t-SNE (perplexity 30, seed ${opts.seed ?? 1}); ` +
        `left: MiNet after its pretraining, right: after guided fine-tuning with all five losses. MaNet is fixed during fine-tuning. The two maps are separate embeddings, so their axes are not comparable.</p>`,
    );
    data.embeddings.forEach((e, i) => {
      parts.push(`<h3>Seed ${e.seed}: nets of the fold holding out ${escapeHtml(e.data.fold)}</h3>`);
      parts.push(chart(`embedding-${i}`, embeddingSpec(embedStages(e.data, opts), e.data.labels)));
    });
  }

  const leftOut = data.summary.leftOut ?? [];
  parts.push('<h2>Clips left out</h2>');
  parts.push(
    leftOut.length === 0
      ? '<p>None: every clip of the datasets was used.</p>'
      : `<details><summary>${leftOut.length} clip(s) of the datasets are not in this run</summary><table><tr><th>Dataset</th><th>Clip</th><th>Kind</th><th>Reason</th></tr>${leftOut
          .map((c) => `<tr><td>${escapeHtml(c.dataset)}</td><td>${escapeHtml(c.clip)}</td><td>${escapeHtml(c.kind)}</td><td>${escapeHtml(c.reason)}</td></tr>`)
          .join('')}</table></details>`,
  );

  parts.push('<h2>Per-fold accuracy</h2>');
  parts.push(`<details><summary>Accuracy on each held-out subject${multi ? ' (mean over seeds)' : ''}</summary>${foldTable(data.folds, variants)}</details>`);

  const libs = chartLibraries();
  parts.push(`<p class="note">Generated ${escapeHtml(new Date().toISOString())} from <code>${escapeHtml(data.dir)}</code>. Charts: ${libs.map((l) => `${l.name} ${l.version}`).join(', ')} (inlined; this file needs no network).</p>`);

  const boot = `
const specs = JSON.parse(document.getElementById('mimanet-specs').textContent);
for (const [id, spec] of Object.entries(specs)) {
  vegaEmbed('#' + id, spec, { mode: 'vega-lite', actions: false, renderer: 'svg' }).catch((e) => {
    document.getElementById(id).textContent = 'chart failed: ' + e.message;
  });
}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>MiMaNet results: ${escapeHtml(summary.dataset)}</title>`,
    `<style>${CSS}</style>`,
    ...libs.map((l) => `<script>/* ${l.name} ${l.version} (BSD-3-Clause) */\n${l.code}\n</script>`),
    '</head><body><main>',
    ...parts,
    '</main>',
    `<script type="application/json" id="mimanet-specs">${scriptJson(specs)}</script>`,
    `<script>${boot}</script>`,
    '</body></html>',
  ].join('\n');
}

/** Writes DIR/report.html from the results folder DIR; returns its path. */
export async function writeReport(dir: string, opts: ReportOptions = {}): Promise<string> {
  const html = renderReportHtml(readReportData(dir), opts);
  const path = join(dir, REPORT_FILE);
  writeFileAtomic(path, html);
  return path;
}
