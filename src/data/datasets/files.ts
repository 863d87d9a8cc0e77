/**
 * File-system and spreadsheet helpers shared by the dataset readers.
 */
import { type Dirent, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import ExcelJS from 'exceljs';
import type { DatasetName, LongVideoDatasetName, Problem } from './types.js';

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff'];
export const VIDEO_EXTENSIONS: readonly string[] = ['.avi', '.mp4', '.mov', '.wmv', '.mpg', '.mpeg', '.mkv'];

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Visible entries of a folder, sorted; [] when it cannot be read. */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => !n.startsWith('.') && !n.startsWith('._'))
      .sort();
  } catch {
    return [];
  }
}

/** Visible sub-folders, sorted. Entry types come from the listing, so a folder of many frames costs no stat per file. */
export function subdirs(dir: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isSymbolicLink() && isDir(join(dir, e.name)))))
    .map((e) => e.name)
    .sort();
}

/**
 * Breadth-first search below `root` (root included) for a folder satisfying
 * `test`, at most `maxDepth` levels down. Datasets unpack with an extra level
 * or two of wrapping folders (`CASME2/CASME2_RAW_selected/CASME2_RAW_selected`).
 */
export function findDir(root: string, test: (dir: string, name: string) => boolean, maxDepth = 3): string | null {
  let level = [root];
  for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      if (test(dir, basename(dir))) return dir;
      for (const s of subdirs(dir)) next.push(join(dir, s));
    }
    level = next;
  }
  return null;
}

/** Files below `root` (at most `maxDepth` levels) whose name satisfies `test`, nearest first. */
export function findFiles(root: string, test: (name: string) => boolean, maxDepth = 2): string[] {
  const found: string[] = [];
  let level = [root];
  for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      for (const n of listDir(dir)) {
        const p = join(dir, n);
        if (isDir(p)) next.push(p);
        else if (test(n)) found.push(p);
      }
    }
    level = next;
  }
  return found;
}

/**
 * A dataset's annotation spreadsheet: `given`, or the match of `pattern` found
 * under `root` (`.xlsx` before `.xls`, then the newest name); every other match
 * becomes a note. Throws naming `expected` when there is none.
 */
export function findAnnotation(
  dataset: DatasetName | LongVideoDatasetName,
  root: string,
  given: string | undefined,
  pattern: RegExp,
  expected: string,
  maxDepth = 2,
): { file: string; notes: Problem[] } {
  if (given) return { file: given, notes: [] };
  const binary = (f: string): number => (f.toLowerCase().endsWith('.xls') ? 1 : 0);
  const found = findFiles(root, (n) => pattern.test(n), maxDepth).sort((a, b) => binary(a) - binary(b) || basename(b).localeCompare(basename(a)));
  if (found.length === 0) throw new Error(`${dataset}: no annotation file ${expected} under ${root}`);
  const file = found[0]!;
  return { file, notes: found.slice(1).map((other) => ({ dataset, kind: 'note', file: other, problem: `annotation not used; reading ${basename(file)}` })) };
}

/** A numbered frame file: `img46.jpg` -> 46, `reg_img46.jpg` -> 46, `006_05562.jpg` -> 5562. */
export interface NumberedFrame {
  number: number;
  path: string;
}

/** Trailing integer of a file's base name, or null. */
export function trailingNumber(fileName: string): number | null {
  const m = /(\d+)$/.exec(basename(fileName, extname(fileName)));
  return m ? Number(m[1]) : null;
}

/**
 * The image files of a clip folder, sorted by the number at the end of their
 * names. Files without a number are returned in `unnumbered` so the caller can
 * report them; two files with the same number are reported in `duplicates`.
 */
export function listNumberedFrames(dir: string, extensions: readonly string[] = IMAGE_EXTENSIONS): {
  frames: NumberedFrame[];
  unnumbered: string[];
  duplicates: number[];
} {
  const frames: NumberedFrame[] = [];
  const unnumbered: string[] = [];
  const seen = new Set<number>();
  const duplicates: number[] = [];
  for (const n of listDir(dir)) {
    if (!extensions.includes(extname(n).toLowerCase())) continue;
    const p = join(dir, n);
    if (isDir(p)) continue;
    const num = trailingNumber(n);
    if (num === null) {
      unnumbered.push(p);
      continue;
    }
    if (seen.has(num)) duplicates.push(num);
    seen.add(num);
    frames.push({ number: num, path: p });
  }
  frames.sort((a, b) => a.number - b.number);
  return { frames, unnumbered, duplicates };
}

/**
 * Frame paths for every number in first..last, or the list of numbers that
 * have no file.
 */
export function frameRange(frames: NumberedFrame[], first: number, last: number): { paths: string[]; missing: number[] } {
  const byNumber = new Map(frames.map((f) => [f.number, f.path]));
  const paths: string[] = [];
  const missing: number[] = [];
  for (let n = first; n <= last; n++) {
    const p = byNumber.get(n);
    if (p === undefined) missing.push(n);
    else paths.push(p);
  }
  return { paths, missing };
}

/** Compact rendering of a list of integers: `3-7, 9`. */
export function formatRanges(nums: number[], maxParts = 6): string {
  const sorted = [...nums].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.length > maxParts ? `${parts.slice(0, maxParts).join(', ')}, ... (${nums.length} in all)` : parts.join(', ');
}

// ---------------------------------------------------------------------------
// Spreadsheets

/** A cell reduced to what the readers need: a number, a trimmed string or null for empty. */
export type CellValue = number | string | null;

/** One worksheet as rows of plain cell values; `rows[i]` is spreadsheet row `i + 1`, cells 0-based. */
export interface Sheet {
  file: string;
  name: string;
  rows: CellValue[][];
}

function plainCell(v: ExcelJS.CellValue): CellValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const t = v.trim();
    return t === '' ? null : t;
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    if ('richText' in v) return plainCell(v.richText.map((r) => r.text).join(''));
    if ('result' in v) return plainCell((v.result ?? null) as ExcelJS.CellValue);
    if ('text' in v && typeof v.text === 'string') return plainCell(v.text);
    if ('error' in v) return null;
  }
  return plainCell(String(v));
}

/** Reads every worksheet of an .xlsx file, in workbook order. Throws with the file name on failure. */
export async function readWorkbook(file: string): Promise<Sheet[]> {
  if (!existsSync(file)) throw new Error(`${file}: annotation file not found`);
  if (/\.xls$/i.test(file)) throw new Error(`${file}: the old binary .xls format cannot be read; save it as .xlsx (same name, .xlsx) and point to that`);
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.readFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read as .xlsx (${(e as Error).message})`);
  }
  if (wb.worksheets.length === 0) throw new Error(`${file}: the workbook has no worksheet`);
  return wb.worksheets.map((ws) => {
    const rows: CellValue[][] = [];
    ws.eachRow({ includeEmpty: true }, (row, rowNumber) => {
      const values = row.values as ExcelJS.CellValue[];
      // row.values is 1-based (index 0 unused).
      rows[rowNumber - 1] = values.slice(1).map(plainCell);
    });
    for (let i = 0; i < rows.length; i++) rows[i] ??= [];
    return { file, name: ws.name, rows };
  });
}

/** Reads the first worksheet of an .xlsx file. Throws with the file name on failure. */
export async function readSheet(file: string): Promise<Sheet> {
  return (await readWorkbook(file))[0]!;
}

/** Header name as a key: lower case, letters and digits only (`Onset Frame` and `OnsetFrame` -> `onsetframe`). */
export function headerKey(v: CellValue): string {
  return v === null ? '' : String(v).toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * Finds the header row: the first row whose cells include every entry of
 * `required` (compared with `headerKey`); an entry may list alternative
 * names, the first being the one the result is keyed by. Returns its 0-based
 * index and the column of each key, or null.
 */
export function findHeader(sheet: Sheet, required: readonly (string | readonly string[])[], maxRows = 50): { rowIndex: number; columns: Map<string, number> } | null {
  const alternatives = required.map((r) => (typeof r === 'string' ? [r] : r));
  for (let r = 0; r < Math.min(sheet.rows.length, maxRows); r++) {
    const keys = (sheet.rows[r] ?? []).map(headerKey);
    if (alternatives.every((alts) => alts.some((k) => keys.includes(k)))) {
      const columns = new Map<string, number>();
      keys.forEach((k, i) => {
        if (k && !columns.has(k)) columns.set(k, i);
      });
      for (const alts of alternatives) columns.set(alts[0]!, columns.get(alts.find((k) => keys.includes(k))!)!);
      return { rowIndex: r, columns };
    }
  }
  return null;
}

/** An integer frame number from a cell, or null for empty, `/`, `-`, `-1` and other non-numbers. */
export function frameCell(v: CellValue): number | null {
  if (v === null) return null;
  const n = typeof v === 'number' ? v : /^\s*-?\d+(\.0+)?\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || !Number.isInteger(n) || n < 0) return null;
  return n;
}

export function quote(v: CellValue | undefined): string {
  return v === null || v === undefined ? 'empty' : JSON.stringify(v);
}
