/**
 * Interval tables as CSV: the format `mimanet spot score` reads and the
 * long-video export writes. Columns by header name: `video,onset,offset,kind`,
 * plus an optional `score` (predictions) and any others (`apex`, `emotion`),
 * which are kept as text. Frame indices are whole numbers from 0. Browser-safe.
 */
import { csvField, parseCsv } from '../results/csv.js';
import { EXPRESSION_KINDS, isExpressionKind } from './intervals.js';
import type { PredictedInterval } from './spot-metric.js';

/** The columns every interval table has, in the order they are written. */
export const SPOT_CSV_COLUMNS = ['video', 'onset', 'offset', 'kind'] as const;

/** One row of an interval table; `extra` holds the columns beyond video, onset, offset, kind and score. */
export interface SpotCsvRow extends PredictedInterval {
  extra: Record<string, string>;
}

/** A bad interval table: the message names the file, the line and the field, and quotes the value. */
export class SpotCsvError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly field: string | undefined,
    detail: string,
  ) {
    super(`${file}${line !== undefined ? ` line ${line}` : ''}${field !== undefined ? `, field ${field}` : ''}: ${detail}`);
    this.name = 'SpotCsvError';
  }
}

const quote = (s: string): string => JSON.stringify(s);

function frameIndex(text: string, file: string, line: number, field: string): number {
  if (!/^\d+$/.test(text)) throw new SpotCsvError(file, line, field, `expected a whole frame index >= 0, got ${quote(text)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new SpotCsvError(file, line, field, `frame index ${quote(text)} is too large`);
  return n;
}

/**
 * Reads an interval table. `file` names it in errors. A `score` column is read
 * as numbers when `scores` is true (predictions) and every row must then have
 * one; otherwise it is kept as an extra column. Blank lines are skipped.
 */
export function parseSpotCsv(text: string, file: string, opts: { scores?: boolean } = {}): SpotCsvRow[] {
  const rows = parseCsv(text.replace(/^\uFEFF/, ''));
  const lines = rows.map((r, i) => ({ fields: r, line: i + 1 })).filter((r) => !(r.fields.length === 1 && r.fields[0].trim() === ''));
  if (lines.length === 0) throw new SpotCsvError(file, undefined, undefined, `empty; expected a header line ${SPOT_CSV_COLUMNS.join(',')}${opts.scores ? '[,score]' : ''}`);
  const [head, ...body] = lines;
  const names = head.fields.map((h) => h.trim().toLowerCase());
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new SpotCsvError(file, head.line, undefined, `column ${quote(n)} appears twice in the header`);
    seen.add(n);
  }
  const missing = SPOT_CSV_COLUMNS.filter((c) => !seen.has(c));
  if (missing.length > 0) {
    throw new SpotCsvError(file, head.line, undefined, `the header ${quote(head.fields.join(','))} lacks ${missing.map(quote).join(', ')}; expected columns ${SPOT_CSV_COLUMNS.join(',')}${opts.scores ? '[,score]' : ''}`);
  }
  const col = (n: string) => names.indexOf(n);
  const scoreCol = opts.scores ? col('score') : -1;
  const known = new Set<string>([...SPOT_CSV_COLUMNS, ...(scoreCol >= 0 ? ['score'] : [])]);

  return body.map(({ fields, line }) => {
    if (fields.length !== names.length) throw new SpotCsvError(file, line, undefined, `${fields.length} fields, but the header has ${names.length} (${names.join(',')})`);
    const get = (n: string) => fields[col(n)].trim();
    const video = get('video');
    if (video === '') throw new SpotCsvError(file, line, 'video', 'expected a video name, got ""');
    const onset = frameIndex(get('onset'), file, line, 'onset');
    const offset = frameIndex(get('offset'), file, line, 'offset');
    if (offset < onset) throw new SpotCsvError(file, line, 'offset', `${offset} is before onset ${onset}`);
    const kind = get('kind');
    if (!isExpressionKind(kind)) throw new SpotCsvError(file, line, 'kind', `expected ${EXPRESSION_KINDS.join(' or ')}, got ${quote(kind)}`);
    const row: SpotCsvRow = { video, onset, offset, kind, extra: {} };
    if (scoreCol >= 0) {
      const s = fields[scoreCol].trim();
      const score = s === '' ? NaN : Number(s);
      if (!Number.isFinite(score)) throw new SpotCsvError(file, line, 'score', `expected a number (the file has a score column, so every row needs one), got ${quote(s)}`);
      row.score = score;
    }
    names.forEach((n, i) => {
      if (!known.has(n)) row.extra[n] = fields[i];
    });
    return row;
  });
}

/** Writes an interval table: video, onset, offset, kind, then `columns` (e.g. apex, score) of each row. */
export function formatSpotCsv<T extends { video: string; onset: number; offset: number; kind: string }>(rows: readonly T[], columns: ReadonlyArray<keyof T & string> = []): string {
  const header: Array<keyof T & string> = [...SPOT_CSV_COLUMNS, ...columns];
  const lines = [header.join(',')];
  for (const r of rows) lines.push(header.map((h) => csvField((r[h] as string | number | undefined) ?? '')).join(','));
  return lines.join('\n') + '\n';
}
