/**
 * Validation of files read back (results records, checkpoint metadata, cache
 * index) with zod: one error format that names the file and the field and
 * quotes the bad value. No Node imports: the browser demo reads checkpoint
 * metadata through it (file readers are in ./fs.ts).
 */
import { z } from 'zod';

export { z };

/** Quotes a value for an error line: NaN and Infinity as themselves (JSON would print null), long values cut. */
export function quote(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (v === undefined) return 'missing';
  let s: string;
  try {
    s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x)) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The value at a zod issue path, for quoting. */
function valueAt(root: unknown, path: ReadonlyArray<string | number>): unknown {
  let v = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

/** `a.b[3].c` from a zod issue path. */
function fieldName(path: ReadonlyArray<string | number>): string {
  return path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k), '');
}

/** Checks `value` against `schema`; the error names `file`, the first bad field and its value. */
export function parseWith<S extends z.ZodTypeAny>(schema: S, value: unknown, file: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const message =
    issue.code === 'invalid_enum_value' ? `expected ${issue.options.map((o) => JSON.stringify(o)).join(' or ')}`
    : issue.code === 'invalid_literal' ? `expected ${JSON.stringify(issue.expected)}`
    : issue.code === 'invalid_type' ? `expected ${issue.expected}`
    : issue.message.charAt(0).toLowerCase() + issue.message.slice(1);
  const field = fieldName(issue.path);
  const got = issue.code === 'invalid_type' && issue.received === 'undefined' ? 'is missing' : `is ${quote(valueAt(value, issue.path))}`;
  const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more problem${r.error.issues.length > 2 ? 's' : ''})` : '';
  throw new Error(`${file}: ${field ? `field "${field}"` : 'the content'} ${got}: ${message}${more}`);
}

/** A finite number (JSON has no NaN; a hand-edited file may hold null or a string). */
export const finite = z.number().finite();

/** Edit distance with adjacent transpositions counted as one edit (`pretrian` is one from `pretrain`). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate `name` was most likely meant to be, for a "did you mean" hint:
 * the nearest by {@link editDistance} (case ignored), if within a third of the
 * name's length (at least one edit); the first of equals wins. `key` gives the
 * part of a candidate compared (default: all of it).
 */
export function closest<T>(name: string, candidates: readonly T[], key: (c: T) => string = String): T | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: T | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), key(c).toLowerCase());
    if (d <= limit && d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}
