/**
 * Many clips through one loaded checkpoint: the clips of a folder or of a list
 * file, scored one after another in one process (the start-up, the backend and
 * the checkpoint are paid once), each clip's failure recorded in its row
 * instead of stopping the rest.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { readIndex } from '../data/cache.js';
import { formatCsv } from '../results/csv.js';
import { readTextFile } from '../util/fs.js';
import { defaultedNote, FRAME_EXTENSIONS, listFrameFiles, type Predictor, type PredictOptions, type PredictResult } from './index.js';

/** Video files a folder of clips may hold (what ffmpeg reads is wider; these are the usual ones). */
export const VIDEO_EXTENSIONS = ['.mp4', '.avi', '.mkv', '.mov', '.webm', '.mpg', '.mpeg', '.m4v', '.wmv'] as const;

/** Largest clip list read. */
export const CLIP_LIST_LIMIT = 16 * 2 ** 20;

/** One clip of a batch. */
export interface BatchItem {
  /** How the clip is named in the output: the entry of the folder, the line of the list, a clip id of a cache. */
  name: string;
  /** What {@link Predictor.predict} is given. */
  path: string;
  /** Clip id, when `path` is a clip cache. */
  clip?: string;
}

export interface BatchRow {
  clip: string;
  /** Undefined where the clip could not be scored (see `error`). */
  result?: PredictResult;
  error?: string;
}

/**
 * The clips of a folder, in natural order: its sub-folders that hold frames,
 * its videos and its prepared clips (`.u8`); or, for a clip cache (a folder
 * with clipset.json), every clip it lists. Other files (labels.csv, notes) are passed over.
 */
export function clipsInFolder(dir: string): BatchItem[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--clips ${dir}: no such folder`);
  if (existsSync(join(dir, 'clipset.json'))) return readIndex(dir).clips.map((c) => ({ name: c.id, path: dir, clip: c.id }));
  const names = readdirSync(dir).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const items: BatchItem[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const st = statSync(path);
    const ext = extname(name).toLowerCase();
    if (st.isDirectory() ? listFrameFiles(path).length > 0 : (VIDEO_EXTENSIONS as readonly string[]).includes(ext) || ext === '.u8') items.push({ name, path });
  }
  if (items.length === 0) {
    throw new Error(`--clips ${dir}: no clips here (folders of ${FRAME_EXTENSIONS.join(', ')} frames, videos (${VIDEO_EXTENSIONS.join(', ')}) or .u8 prepared clips)`);
  }
  return items;
}

/** The clips of a list file: one path a line, relative to the file's folder; blank lines and lines starting with # are passed over. */
export function clipsInList(file: string): BatchItem[] {
  const text = readTextFile(file, CLIP_LIST_LIMIT, 'a clip list', `--list ${file}`);
  const base = dirname(resolve(file));
  const items = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((name) => ({ name, path: resolve(base, name) }));
  if (items.length === 0) throw new Error(`--list ${file}: no clips listed (one path a line)`);
  return items;
}

/** Scores every item with one predictor; `onRow` sees each row as it is done (for progress and messages). */
export async function predictBatch(p: Predictor, items: readonly BatchItem[], opts: Omit<PredictOptions, 'clip'> = {}, onRow?: (row: BatchRow, index: number) => void): Promise<BatchRow[]> {
  const rows: BatchRow[] = [];
  for (const [i, item] of items.entries()) {
    let row: BatchRow;
    try {
      row = { clip: item.name, result: await p.predict(item.path, { ...opts, ...(item.clip ? { clip: item.clip } : {}) }) };
    } catch (e) {
      row = { clip: item.name, error: (e as Error).message };
    }
    rows.push(row);
    onRow?.(row, i);
  }
  return rows;
}

/** Decimals of the probabilities in CSV. */
const CSV_DECIMALS = 6;

/** The rows as CSV: clip, label, one column of probability per class, onset, apex, what was adjusted, the error. */
export function batchCsv(rows: readonly BatchRow[], labels: readonly string[]): string {
  const header = ['clip', 'label', ...labels, 'onset', 'apex', 'adjusted', 'error'];
  return formatCsv([
    header,
    ...rows.map((r) => {
      const x = r.result;
      return x
        ? [r.clip, x.label, ...x.probs.map((v) => v.toFixed(CSV_DECIMALS)), x.input.onset, x.input.apex, x.input.adjusted ?? '', '']
        : [r.clip, '', ...labels.map(() => ''), '', '', '', r.error ?? ''];
    }),
  ]);
}

/** One JSON object a row: as `predict --json` prints for one clip, or the clip and its error. */
export function batchJson(rows: readonly BatchRow[], model: string): Array<Record<string, unknown>> {
  return rows.map((r) => (r.result ? { clip: r.clip, ...predictionJson(r.result, model) } : { clip: r.clip, error: r.error }));
}

/** `predict --json`'s object for one result; `defaulted` says which of onset and apex were guessed, where one was. */
export function predictionJson(r: PredictResult, model: string): Record<string, unknown> {
  const probabilities = Object.fromEntries(r.labels.map((l, k) => [l, r.probs[k]]));
  const defaulted = defaultedNote(r.input);
  return { model, ...r.input, ...(defaulted ? { defaulted } : {}), label: r.label, index: r.index, labels: r.labels, probabilities };
}
