/**
 * Turns per-clip predictions of LOSO runs into the results summary: metrics
 * per seed on predictions pooled over all folds, then mean and spread over
 * seeds, per ablation variant and per source dataset.
 */
import { computeMetrics, meanStd } from './metrics.js';
import { csvField, parseCsv } from '../results/csv.js';
import type { ClipPrediction } from '../results/records.js';
import { pairedDifferences, type BootstrapDesign, type PairedDifference } from './paired.js';

/** One test-clip prediction of one LOSO fold. */
export interface Prediction extends ClipPrediction {
  seed: number;
  /** Ablation variant name, e.g. `L_c + L_s`. */
  variant: string;
  /** The fold's held-out subject. */
  fold: string;
}

/** Loss terms of Eq. 8: L_c (classification), L_s (spatial domain, D_s), L_sam (interval, C_s), L_t (temporal domain, D_t), L_con (contrastive). */
export const LOSS_NAMES = ['c', 's', 'sam', 't', 'con'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

export interface VariantSpec {
  /** Display name, e.g. `L_c + L_s`; predictions refer to it by `Prediction.variant`. */
  name: string;
  /** Loss terms switched on, among `c`, `s`, `sam`, `t`, `con`. */
  losses: string[];
  /** Share of each fold's micro training subjects the row trained on. Default 1. */
  share?: number;
}

/** A row against the L_c row of the same training share, paired over seeds and clips. */
export interface BaselineComparison {
  /** Name of the baseline row. */
  baseline: string;
  UF1: PairedDifference;
  UAR: PairedDifference;
}

/** Mean and sample std over seeds of the four scores. */
export interface ScoreSpread {
  UF1: number;
  UF1_std: number;
  UAR: number;
  UAR_std: number;
  accuracy: number;
  accuracy_std: number;
  f1: number;
  f1_std: number;
}

export interface SeedScores {
  seed: number;
  UF1: number;
  UAR: number;
  accuracy: number;
  f1: number;
  /** Pooled confusion matrix of this seed, rows = true, columns = predicted. */
  confusion: number[][];
}

export interface SourceScores extends ScoreSpread {
  /** Distinct clips of this source among the variant's predictions. */
  count: number;
}

export interface VariantSummary extends ScoreSpread {
  name: string;
  losses: string[];
  /** Share of micro training subjects (1 = all). */
  share: number;
  perSeed: SeedScores[];
  /** Difference to the L_c row of the same share; absent for that row itself or when there is none. */
  vsBaseline?: BaselineComparison;
  /** Scores restricted to the clips of one source (paper Table 5 layout), keyed by source. */
  perSource: Record<string, SourceScores>;
}

/** Name of the transfer diagnostic's row: MaNet alone, macro classes mapped to micro classes. */
export const TRANSFER_ROW = 'MaNet alone (macro -> micro label map)';

export interface Summary {
  dataset: string;
  labels: string[];
  /** All seeds found in the predictions, ascending. */
  seeds: number[];
  variants: VariantSummary[];
  /**
   * Transfer diagnostic: MaNet, trained on macro clips only, scored on every
   * micro clip through the macro -> micro label map (per seed, pooled).
   */
  transfer?: ScoreSpread & { perSeed: SeedScores[] };
}

export interface SummarizeOptions {
  dataset: string;
  labels: string[];
  /** Variants in report order; every prediction must name one of them. */
  variants: VariantSpec[];
  predictions: Prediction[];
  /** MaNet's predictions on the micro clips (variant `TRANSFER_ROW`), if the run scored them. */
  transfer?: Prediction[];
}

function validate(opts: SummarizeOptions): void {
  const { labels, variants, predictions } = opts;
  if (labels.length === 0) throw new Error(`summarize(${opts.dataset}): the class list is empty`);
  const names = new Set<string>();
  for (const v of variants) {
    if (names.has(v.name)) throw new Error(`summarize: variant ${JSON.stringify(v.name)} is listed twice`);
    names.add(v.name);
    for (const l of v.losses) {
      if (!(LOSS_NAMES as readonly string[]).includes(l)) {
        throw new Error(
          `summarize: variant ${JSON.stringify(v.name)} has unknown loss ${JSON.stringify(l)}; expected one of ${LOSS_NAMES.join(', ')}`,
        );
      }
    }
  }
  const seen = new Set<string>();
  predictions.forEach((p, i) => {
    const where = `prediction ${i} (seed ${p.seed}, variant ${JSON.stringify(p.variant)}, clip ${JSON.stringify(p.clipId)})`;
    if (!names.has(p.variant)) throw new Error(`${where}: variant is not among the listed variants`);
    if (!Number.isInteger(p.seed)) throw new Error(`${where}: seed ${JSON.stringify(p.seed)} is not an integer`);
    for (const [field, v] of [['label', p.label], ['pred', p.pred]] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= labels.length) {
        throw new Error(`${where}: ${field} = ${JSON.stringify(v)} is not a class index in [0, ${labels.length - 1}]`);
      }
    }
    if (p.probs.length !== labels.length) {
      throw new Error(`${where}: ${p.probs.length} probabilities for ${labels.length} classes`);
    }
    // A clip scored twice in one run would be counted twice in the pooled matrix.
    const key = JSON.stringify([p.seed, p.variant, p.clipId]);
    if (seen.has(key)) throw new Error(`${where}: duplicate prediction for this seed, variant and clip`);
    seen.add(key);
  });
}

function spread(perSeed: { UF1: number; UAR: number; accuracy: number; f1: number }[]): ScoreSpread {
  const uf1 = meanStd(perSeed.map((s) => s.UF1));
  const uar = meanStd(perSeed.map((s) => s.UAR));
  const acc = meanStd(perSeed.map((s) => s.accuracy));
  const f1 = meanStd(perSeed.map((s) => s.f1));
  return {
    UF1: uf1.mean,
    UF1_std: uf1.std,
    UAR: uar.mean,
    UAR_std: uar.std,
    accuracy: acc.mean,
    accuracy_std: acc.std,
    f1: f1.mean,
    f1_std: f1.std,
  };
}

function groupBy<T, K>(items: T[], key: (t: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const it of items) {
    const k = key(it);
    let list = m.get(k);
    if (!list) m.set(k, (list = []));
    list.push(it);
  }
  return m;
}

/**
 * Scores every variant: per seed on the predictions pooled over all its folds
 * (MEGC 2019), then mean and sample std over seeds; `perSource` repeats this
 * on each source's clips alone.
 *
 * @throws when a prediction names an unlisted variant, has an out-of-range
 * class, the wrong number of probabilities, or repeats a (seed, variant, clip);
 * or when a listed variant has no predictions.
 */
export function summarize(opts: SummarizeOptions): Summary {
  validate(opts);
  const numClasses = opts.labels.length;
  const byVariant = groupBy(opts.predictions, (p) => p.variant);
  const variants: VariantSummary[] = opts.variants.map((spec) => {
    const preds = byVariant.get(spec.name);
    if (!preds) throw new Error(`summarize(${opts.dataset}): variant ${JSON.stringify(spec.name)} has no predictions`);
    const bySeed = [...groupBy(preds, (p) => p.seed).entries()].sort((a, b) => a[0] - b[0]);
    const perSeed: SeedScores[] = bySeed.map(([seed, ps]) => {
      const m = computeMetrics(
        ps.map((p) => p.label),
        ps.map((p) => p.pred),
        numClasses,
      );
      return { seed, UF1: m.UF1, UAR: m.UAR, accuracy: m.accuracy, f1: m.f1, confusion: m.confusion };
    });
    const perSource: Record<string, SourceScores> = {};
    const sources = [...new Set(preds.map((p) => p.source))].sort();
    for (const source of sources) {
      const scores = bySeed
        .map(([, ps]) => ps.filter((p) => p.source === source))
        .filter((ps) => ps.length > 0)
        .map((ps) =>
          computeMetrics(
            ps.map((p) => p.label),
            ps.map((p) => p.pred),
            numClasses,
          ),
        );
      const clips = new Set(preds.filter((p) => p.source === source).map((p) => p.clipId));
      perSource[source] = { ...spread(scores), count: clips.size };
    }
    return { name: spec.name, losses: [...spec.losses], share: spec.share ?? 1, ...spread(perSeed), perSeed, perSource };
  });
  for (const v of variants) {
    const base = variants.find((b) => b !== v && b.share === v.share && b.losses.length === 1 && b.losses[0] === 'c');
    if (base) v.vsBaseline = compareRows(byVariant.get(v.name)!, byVariant.get(base.name)!, base.name, numClasses);
  }
  const seeds = [...new Set(opts.predictions.map((p) => p.seed))].sort((a, b) => a - b);
  const summary: Summary = { dataset: opts.dataset, labels: [...opts.labels], seeds, variants };
  if (opts.transfer && opts.transfer.length > 0) {
    const perSeed = [...groupBy(opts.transfer, (p) => p.seed).entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([seed, ps]) => {
        const m = computeMetrics(ps.map((p) => p.label), ps.map((p) => p.pred), numClasses);
        return { seed, UF1: m.UF1, UAR: m.UAR, accuracy: m.accuracy, f1: m.f1, confusion: m.confusion };
      });
    summary.transfer = { ...spread(perSeed), perSeed };
  }
  return summary;
}

/** Pairs two rows' predictions by seed and clip (seeds and clips both rows have) and compares them. */
function compareRows(row: Prediction[], base: Prediction[], baseName: string, classes: number): BaselineComparison | undefined {
  const baseBySeed = groupBy(base, (p) => p.seed);
  const seeds = [...groupBy(row, (p) => p.seed).entries()]
    .sort((a, b) => a[0] - b[0])
    .flatMap(([seed, ps]) => {
      const bmap = new Map((baseBySeed.get(seed) ?? []).map((p) => [p.clipId, p]));
      const both = ps.filter((p) => bmap.has(p.clipId));
      if (both.length === 0) return [];
      return [{ seed, clips: both.map((p) => p.clipId), labels: both.map((p) => p.label), row: both.map((p) => p.pred), base: both.map((p) => bmap.get(p.clipId)!.pred) }];
    });
  if (seeds.length === 0) return undefined;
  return { baseline: baseName, ...pairedDifferences(seeds, classes) };
}

// ---------------------------------------------------------------- rendering

/** The design of an interval; summaries written before designs were recorded used the nested one. */
export function differenceDesign(d: PairedDifference): BootstrapDesign {
  return d.design ?? 'nested';
}

/** Designs of the summary's intervals, crossed first. */
export function comparisonDesigns(summary: Summary): BootstrapDesign[] {
  const used = new Set(summary.variants.flatMap((v) => (v.vsBaseline ? [differenceDesign(v.vsBaseline.UF1), differenceDesign(v.vsBaseline.UAR)] : [])));
  return (['crossed', 'nested'] as const).filter((d) => used.has(d));
}

/** One sentence saying how the intervals' bootstrap drew seeds and clips. */
export function designSentence(designs: readonly BootstrapDesign[]): string {
  const say: Record<BootstrapDesign, string> = {
    crossed: 'crossed (every seed scored the same clips: each replicate draws seeds, then one draw of clips shared by all drawn seeds)',
    nested: 'nested (the seeds scored different clips: each replicate draws seeds, then clips within each drawn seed)',
  };
  if (designs.length === 1) return `The bootstrap is ${say[designs[0]]}.`;
  return `The bootstrap is ${designs.map((d) => say[d]).join(' or ')}, as the column design says.`;
}

/**
 * "+0.012 [-0.020, +0.041]": a paired difference and its 95% interval. A
 * number that is not 0 gets the decimals that show a digit of it
 * (`-0.0004`, never `-0.000`), so whether an interval holds 0 reads off the text;
 * 0 itself is `0.000`.
 */
export function formatDifference(d: PairedDifference): string {
  const f = (x: number): string => {
    if (x === 0) return (0).toFixed(DEFAULT_DECIMALS);
    let decimals = DEFAULT_DECIMALS;
    while (Math.abs(x) < 0.5 * 10 ** -decimals && decimals < 12) decimals++;
    return `${x > 0 ? '+' : '-'}${Math.abs(x).toFixed(decimals)}`;
  };
  return `${f(d.mean)} [${f(d.ci95[0])}, ${f(d.ci95[1])}]`;
}

/** Decimals shown for scores in tables. */
export const DEFAULT_DECIMALS = 3;

function fmt(mean: number, std: number, withStd: boolean): string {
  if (!Number.isFinite(mean)) return 'n/a';
  const m = mean.toFixed(DEFAULT_DECIMALS);
  return withStd ? `${m} ± ${std.toFixed(DEFAULT_DECIMALS)}` : m;
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function mdTable(header: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const sep = align.map((a) => (a === 'r' ? '---:' : '---'));
  const line = (cells: string[]) => `| ${cells.map(mdCell).join(' | ')} |`;
  return [line(header), `|${sep.join('|')}|`, ...rows.map(line)].join('\n');
}

function sumMatrices(ms: number[][][], n: number): number[][] {
  const out = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (const m of ms) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i][j] += m[i][j];
  return out;
}

function allSources(summary: Summary): string[] {
  const s = new Set<string>();
  for (const v of summary.variants) for (const k of Object.keys(v.perSource)) s.add(k);
  return [...s].sort();
}

/**
 * Markdown report: UF1/UAR (paper Table 3 layout), accuracy/F1 (Table 2),
 * per-source UF1/UAR when there is more than one source (Table 5), and each
 * variant's confusion matrix summed over seeds.
 */
export function renderSummaryMarkdown(summary: Summary): string {
  const multi = summary.seeds.length > 1;
  const out: string[] = [];
  out.push(`# Results: ${summary.dataset}`, '');
  out.push(
    multi
      ? `Seeds: ${summary.seeds.join(', ')}. Each seed's predictions are pooled over all LOSO folds before scoring; ` +
          `cells show mean ± sample standard deviation over seeds.`
      : `Seed: ${summary.seeds.join(', ')}. Predictions are pooled over all LOSO folds before scoring; ` +
          `one seed, so no spread is shown.`,
    '',
  );

  out.push('## UF1 and UAR (paper Table 3 layout)', '');
  out.push(
    mdTable(
      ['Variant', 'UF1', 'UAR'],
      summary.variants.map((v) => [v.name, fmt(v.UF1, v.UF1_std, multi), fmt(v.UAR, v.UAR_std, multi)]),
      ['l', 'r', 'r'],
    ),
    '',
  );

  const compared = summary.variants.filter((v) => v.vsBaseline);
  if (compared.length > 0) {
    const designs = comparisonDesigns(summary);
    out.push('## Difference to L_c (paired)', '');
    out.push(
      `Each row minus the L_c row trained on the same subjects, on the same seeds and clips: the mean over seeds, ` +
        `a 95% interval from a paired bootstrap, and the seeds on which the row scored higher. ${designSentence(designs)} ` +
        `An interval that contains 0 does not show a difference.`,
      '',
    );
    const mixed = designs.length > 1;
    out.push(
      mdTable(
        ['Variant', 'ΔUF1 [95% CI]', 'ΔUAR [95% CI]', 'seeds better (UF1)', 'ΔUF1 per seed', ...(mixed ? ['design'] : [])],
        compared.map((v) => {
          const c = v.vsBaseline!;
          return [v.name, formatDifference(c.UF1), formatDifference(c.UAR), `${c.UF1.wins}/${c.UF1.perSeed.length}`, c.UF1.perSeed.map((d) => d.toFixed(DEFAULT_DECIMALS)).join(', '), ...(mixed ? [differenceDesign(c.UF1)] : [])];
        }),
        ['l', 'r', 'r', 'r', 'l', ...(mixed ? ['l' as const] : [])],
      ),
      '',
    );
  }

  const shares = [...new Set(summary.variants.map((v) => v.share))].sort((a, b) => b - a);
  if (shares.length > 1) {
    out.push('## Sample efficiency', '');
    out.push(`UF1 by share of each fold's micro training subjects (macro data and test subjects unchanged).`, '');
    const lossSets = [...new Map(summary.variants.map((v) => [v.losses.join('+'), v.losses])).values()];
    const rows = lossSets.map((losses) => [
      losses.map((l) => `L_${l}`).join(' + '),
      ...shares.map((sh) => {
        const v = summary.variants.find((x) => x.share === sh && x.losses.join('+') === losses.join('+'));
        return v ? fmt(v.UF1, v.UF1_std, multi) : 'n/a';
      }),
    ]);
    out.push(mdTable(['Loss terms', ...shares.map((sh) => `${Math.round(sh * 1000) / 10}% subjects`)], rows, ['l', ...shares.map(() => 'r' as const)]), '');
  }

  if (summary.transfer) {
    const t = summary.transfer;
    out.push('## Transfer diagnostic: MaNet alone', '');
    out.push(
      `MaNet, trained on macro clips only, scored on every micro clip; each micro class gets the summed probability of the macro classes ` +
        `that map to it. It shows how much of the micro task the macro data carries before any micro training.`,
      '',
    );
    out.push(mdTable(['Model', 'UF1', 'UAR', 'Accuracy'], [[TRANSFER_ROW, fmt(t.UF1, t.UF1_std, multi), fmt(t.UAR, t.UAR_std, multi), fmt(t.accuracy, t.accuracy_std, multi)]], ['l', 'r', 'r', 'r']), '');
  }

  out.push('## Accuracy and F1 (paper Table 2 layout)', '');
  out.push(
    mdTable(
      ['Variant', 'Accuracy', 'F1'],
      summary.variants.map((v) => [v.name, fmt(v.accuracy, v.accuracy_std, multi), fmt(v.f1, v.f1_std, multi)]),
      ['l', 'r', 'r'],
    ),
    '',
  );

  const sources = allSources(summary);
  if (sources.length > 1) {
    out.push('## UF1 and UAR per source (paper Table 5 layout)', '');
    const header = ['Variant', 'Composite UF1', 'Composite UAR'];
    for (const s of sources) header.push(`${s} UF1`, `${s} UAR`);
    const rows = summary.variants.map((v) => {
      const row = [v.name, fmt(v.UF1, v.UF1_std, multi), fmt(v.UAR, v.UAR_std, multi)];
      for (const s of sources) {
        const ps = v.perSource[s];
        if (ps) row.push(fmt(ps.UF1, ps.UF1_std, multi), fmt(ps.UAR, ps.UAR_std, multi));
        else row.push('n/a', 'n/a');
      }
      return row;
    });
    out.push(mdTable(header, rows, header.map((_, i) => (i === 0 ? 'l' : 'r'))), '');
    const counts = sources.map((s) => {
      const c = Math.max(0, ...summary.variants.map((v) => v.perSource[s]?.count ?? 0));
      return `${s} ${c}`;
    });
    out.push(`Clips per source: ${counts.join(', ')}.`, '');
  }

  out.push('## Confusion matrices', '');
  out.push(
    `Rows are true classes, columns predicted classes; counts are summed over ${
      multi ? `the ${summary.seeds.length} seeds` : 'the seed'
    }. The last column is the class recall.`,
    '',
  );
  const n = summary.labels.length;
  for (const v of summary.variants) {
    const m = sumMatrices(
      v.perSeed.map((s) => s.confusion),
      n,
    );
    out.push(`### ${v.name}`, '');
    const header = ['true \\ predicted', ...summary.labels, 'recall'];
    const rows = m.map((row, i) => {
      const total = row.reduce((a, b) => a + b, 0);
      return [summary.labels[i], ...row.map(String), total === 0 ? 'n/a' : (row[i] / total).toFixed(DEFAULT_DECIMALS)];
    });
    out.push(mdTable(header, rows, header.map((_, i) => (i === 0 ? 'l' : 'r'))), '');
  }
  return out.join('\n');
}

/** Compact aligned text table of the variants for a terminal: the scores, the paired differences to L_c and, below, the transfer diagnostic. */
export function renderConsoleTable(summary: Summary): string {
  const multi = summary.seeds.length > 1;
  const withDiff = summary.variants.some((v) => v.vsBaseline);
  const header = ['variant', 'UF1', 'UAR', 'accuracy', 'F1', ...(withDiff ? ['ΔUF1 vs L_c [95% CI]', 'ΔUAR vs L_c [95% CI]'] : [])];
  const diff = (v: VariantSummary, k: 'UF1' | 'UAR'): string =>
    v.vsBaseline ? formatDifference(v.vsBaseline[k]) : summary.variants.some((x) => x.vsBaseline?.baseline === v.name) ? 'baseline' : '-';
  const rows = summary.variants.map((v) => [
    v.name,
    fmt(v.UF1, v.UF1_std, multi),
    fmt(v.UAR, v.UAR_std, multi),
    fmt(v.accuracy, v.accuracy_std, multi),
    fmt(v.f1, v.f1_std, multi),
    ...(withDiff ? [diff(v, 'UF1'), diff(v, 'UAR')] : []),
  ]);
  const all = [header, ...rows];
  // "±" is one column wide, so string length is the display width here.
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
  const title = `${summary.dataset}: ${summary.seeds.length} seed${summary.seeds.length === 1 ? '' : 's'} (${summary.seeds.join(', ')})`;
  const note = withDiff ? [`95% CI: paired bootstrap, ${comparisonDesigns(summary).join(' and ')} design over seeds and clips`] : [];
  const t = summary.transfer;
  const transfer = t ? [`${TRANSFER_ROW}: UF1 ${fmt(t.UF1, t.UF1_std, multi)}, UAR ${fmt(t.UAR, t.UAR_std, multi)}, accuracy ${fmt(t.accuracy, t.accuracy_std, multi)}`] : [];
  return [title, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), ...transfer, ...note].join('\n') + '\n';
}

// ---------------------------------------------------------------- CSV

/** Decimals kept for probabilities in the predictions CSV. */
export const DEFAULT_PROB_DECIMALS = 6;

function probText(p: number): string {
  return Number.isFinite(p) ? String(Number(p.toFixed(DEFAULT_PROB_DECIMALS))) : String(p);
}

/**
 * One row per prediction: seed, variant, fold, clip, subject, source, label,
 * pred, label_name, pred_name, then one `p_<class>` column per class.
 * Fields with commas, quotes or line breaks are quoted (RFC 4180).
 */
export function predictionsToCsv(preds: Prediction[], labels: string[]): string {
  const header = [
    'seed',
    'variant',
    'fold',
    'clip',
    'subject',
    'source',
    'label',
    'pred',
    'label_name',
    'pred_name',
    ...labels.map((l) => `p_${l}`),
  ];
  const lines = [header.map(csvField).join(',')];
  preds.forEach((p, i) => {
    if (p.probs.length !== labels.length) {
      throw new Error(
        `predictionsToCsv: prediction ${i} (clip ${JSON.stringify(p.clipId)}) has ${p.probs.length} probabilities for ${labels.length} classes`,
      );
    }
    const name = (k: number, field: string): string => {
      if (!Number.isInteger(k) || k < 0 || k >= labels.length) {
        throw new Error(
          `predictionsToCsv: prediction ${i} (clip ${JSON.stringify(p.clipId)}): ${field} = ${JSON.stringify(k)} is not a class index`,
        );
      }
      return labels[k];
    };
    const row: (string | number)[] = [
      p.seed,
      p.variant,
      p.fold,
      p.clipId,
      p.subject,
      p.source,
      p.label,
      p.pred,
      name(p.label, 'label'),
      name(p.pred, 'pred'),
      ...p.probs.map(probText),
    ];
    lines.push(row.map(csvField).join(','));
  });
  return lines.join('\n') + '\n';
}

/**
 * Reads the text of a predictions CSV written by `predictionsToCsv` back into
 * predictions; `labels` are the class names in index order (the `p_<class>`
 * columns must follow them). Errors name `file`, the row and the column, and
 * quote the bad value.
 */
export function parsePredictionsCsv(text: string, labels: readonly string[], file = 'predictions.csv'): Prediction[] {
  const rows = parseCsv(text).filter((r) => r.length > 1 || r[0] !== '');
  if (rows.length === 0) throw new Error(`${file}: empty, expected a header line`);
  const header = rows[0];
  const fixed = ['seed', 'variant', 'fold', 'clip', 'subject', 'source', 'label', 'pred'];
  const at = Object.fromEntries(fixed.map((c) => [c, header.indexOf(c)]));
  const missing = fixed.filter((c) => at[c] < 0);
  if (missing.length > 0) throw new Error(`${file}: no column ${missing.map((c) => `"${c}"`).join(', ')} in the header ${JSON.stringify(header.join(','))}`);
  const probCols = header.map((h, i) => [h, i] as const).filter(([h]) => h.startsWith('p_'));
  const want = labels.map((l) => `p_${l}`);
  if (probCols.map(([h]) => h).join(',') !== want.join(',')) {
    throw new Error(`${file}: probability columns ${JSON.stringify(probCols.map(([h]) => h))}, expected ${JSON.stringify(want)} (one per class, in class order)`);
  }
  return rows.slice(1).map((r, k) => {
    const where = `${file}: row ${k + 2}`;
    if (r.length !== header.length) throw new Error(`${where}: ${r.length} fields, the header has ${header.length}`);
    const int = (col: string, max?: number): number => {
      const v = r[at[col]];
      const n = Number(v);
      if (v.trim() === '' || !Number.isInteger(n) || n < 0 || (max !== undefined && n >= max)) {
        throw new Error(`${where}, column ${col}: ${JSON.stringify(v)} is not ${max === undefined ? 'a non-negative integer' : `a class index in [0, ${max - 1}]`}`);
      }
      return n;
    };
    const probs = probCols.map(([h, i]) => {
      const n = Number(r[i]);
      if (r[i].trim() === '' || !Number.isFinite(n)) throw new Error(`${where}, column ${h}: ${JSON.stringify(r[i])} is not a number`);
      return n;
    });
    return {
      seed: int('seed'),
      variant: r[at.variant],
      fold: r[at.fold],
      clipId: r[at.clip],
      subject: r[at.subject],
      source: r[at.source],
      label: int('label', labels.length),
      pred: int('pred', labels.length),
      probs,
    };
  });
}
