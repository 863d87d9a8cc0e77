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
