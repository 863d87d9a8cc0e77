/**
 * The reader shared by the datasets annotated one spreadsheet row per clip
 * (CASME II, SAMM, CAS(ME)^3, 4DME): subject, clip folder name,
 * onset/apex/offset frame numbers, AUs and emotion, with frame files named by
 * absolute frame number. Each dataset describes its columns and where a
 * clip's frames live; the row checks and the problem lines are the same for all.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NATIVE_LABELS, isNativeLabel } from './labels.js';
import { type CellValue, type NumberedFrame, findHeader, frameCell, frameRange, formatRanges, isDir, listNumberedFrames, quote, readSheet, subdirs } from './files.js';
import type { Problem, RawClip, ReadResult, SourceName } from './types.js';

/** A column: its name as the messages write it, and the header keys (see `headerKey`) it may carry. */
export interface ColumnSpec {
  name: string;
  keys: readonly string[];
}

export interface AnnotatedColumns {
  subject: ColumnSpec;
  filename: ColumnSpec;
  onset: ColumnSpec;
  apex: ColumnSpec;
  offset: ColumnSpec;
  emotion: ColumnSpec;
  /** Optional: kept as written in `RawClip.aus`. */
  aus?: ColumnSpec;
}

export interface AnnotatedLayout {
  dataset: SourceName;
  /** Spreadsheet to read (its first worksheet). */
  annotationFile: string;
  columns: AnnotatedColumns;
  /** Subject cell -> subject id (`1` -> `sub01`), or null when the cell is unusable. */
  subjectName(cell: CellValue): string | null;
  /** Clip id from subject, clip folder name and onset (null when the onset cell is unusable). */
  clipId(subject: string, folder: string, onset: number | null): string;
  /** The folder of the clip's frames (null when absent) and the path a message names when it is missing. */
  clipFolder(subject: string, folder: string, onset: number): { dir: string | null; expected: string };
  /**
   * Missing frame numbers between onset and apex: `error` leaves the clip out;
   * `hold` (a dataset that drops frames in recording) needs the onset and apex
   * frames, repeats the frame before each missing one so that time stays
   * evenly spaced, and reports the clip as a note.
   */
  gaps: 'error' | 'hold';
  /** Clip folders on disk; each no row uses is reported as `excluded`. Omitted: no such report. */
  clipFolders?(): string[];
}

/** The columns of the CASME II and SAMM spreadsheets (the header names differ in spaces only). */
export const CASME2_SAMM_COLUMNS: AnnotatedColumns = {
  subject: { name: 'Subject', keys: ['subject'] },
  filename: { name: 'Filename', keys: ['filename'] },
  onset: { name: 'Onset Frame', keys: ['onsetframe'] },
  apex: { name: 'Apex Frame', keys: ['apexframe'] },
  offset: { name: 'Offset Frame', keys: ['offsetframe'] },
  emotion: { name: 'Estimated Emotion', keys: ['estimatedemotion'] },
  aus: { name: 'Action Units', keys: ['actionunits'] },
};

/**
 * A missing apex (`/`, empty, -1) is replaced by the frame halfway between
 * onset and offset (rounded down), and the clip gets a `note`.
 */
export function fallbackApex(onset: number, offset: number): number {
  return Math.floor((onset + offset) / 2);
}

/**
 * Frames first..last where `first` and `last` exist; a missing number in
 * between takes the path of the frame before it. `missing` lists those numbers.
 */
export function frameRangeHeld(frames: readonly NumberedFrame[], first: number, last: number): { paths: string[]; missing: number[] } {
  const byNumber = new Map(frames.map((f) => [f.number, f.path]));
  const paths: string[] = [];
  const missing: number[] = [];
  for (let n = first; n <= last; n++) {
    const p = byNumber.get(n);
    if (p === undefined) {
      missing.push(n);
      paths.push(paths[paths.length - 1]!);
    } else paths.push(p);
  }
  return { paths, missing };
}

export async function readAnnotatedClips(layout: AnnotatedLayout): Promise<ReadResult> {
  const { dataset, annotationFile, columns } = layout;
  const problems: Problem[] = [];
  const clips: RawClip[] = [];
  const sheet = await readSheet(annotationFile);
  const required = [columns.subject, columns.filename, columns.onset, columns.apex, columns.offset, columns.emotion];
  const header = findHeader(sheet, required.map((c) => c.keys));
  if (!header) {
    throw new Error(`${annotationFile}: no header row with the columns ${required.map((c) => c.name).join(', ')} in the first 50 rows`);
  }
  const col = (c: ColumnSpec): number => header.columns.get(c.keys[0]!)!;
  const auKey = columns.aus?.keys.find((k) => header.columns.has(k));
  const auCol = auKey === undefined ? undefined : header.columns.get(auKey);
  const seen = new Set<string>();
  const usedFolders = new Set<string>();
  const { onset: onsetCol, apex: apexCol, offset: offsetCol } = columns;

  for (let r = header.rowIndex + 1; r < sheet.rows.length; r++) {
    const cells = sheet.rows[r] ?? [];
    const row = r + 1;
    if (cells.every((c) => c === null)) continue;
    const at = (c: ColumnSpec): CellValue => cells[col(c)] ?? null;
    const err = (problem: string, clip?: string): void => {
      problems.push({ dataset, kind: 'error', file: annotationFile, row, ...(clip ? { clip } : {}), problem });
    };
    const note = (problem: string, clip: string): void => {
      problems.push({ dataset, kind: 'note', clip, row, problem });
    };

    const subject = layout.subjectName(at(columns.subject));
    const folderCell = at(columns.filename);
    if (subject === null) {
      err(`${columns.subject.name} cell ${quote(at(columns.subject))} is not a subject`);
      continue;
    }
    if (folderCell === null) {
      err(`${columns.filename.name} cell is empty`);
      continue;
    }
    const folder = String(folderCell);
    const onset = frameCell(at(onsetCol));
    if (onset === null) {
      err(`${onsetCol.name} ${quote(at(onsetCol))} is not a frame number`, layout.clipId(subject, folder, null));
      continue;
    }
    const id = layout.clipId(subject, folder, onset);
    if (seen.has(id)) {
      err(`clip ${id} appears in more than one row; later rows are ignored`, id);
      continue;
    }
    seen.add(id);

    const emotionCell = at(columns.emotion);
    if (emotionCell === null) {
      err(`${columns.emotion.name} cell is empty`, id);
      continue;
    }
    const label = String(emotionCell);
    if (!isNativeLabel(dataset, label)) {
      err(`unknown label ${quote(emotionCell)}; ${dataset} has ${NATIVE_LABELS[dataset].join(', ')}`, id);
      continue;
    }

    let apex = frameCell(at(apexCol));
    let offset: number | undefined = frameCell(at(offsetCol)) ?? undefined;
    if (offset !== undefined && offset < onset) {
      note(`${offsetCol.name} ${offset} is before ${onsetCol.name} ${onset}; offset ignored`, id);
      offset = undefined;
    }
    if (apex === null) {
      if (offset === undefined) {
        err(`${apexCol.name} is ${quote(at(apexCol))} (no apex) and there is no valid offset to fall back on`, id);
        continue;
      }
      apex = fallbackApex(onset, offset);
      note(`${apexCol.name} is ${quote(at(apexCol))} (no apex); using the middle of onset ${onset} .. offset ${offset}: frame ${apex}`, id);
    }
    if (onset > apex) {
      err(`onset ${onset} is after apex ${apex}`, id);
      continue;
    }
    if (onset === apex) note(`onset equals apex (frame ${onset}): a one-frame clip, kept`, id);
    if (offset !== undefined && offset < apex) {
      note(`${offsetCol.name} ${offset} is before ${apexCol.name} ${apex}; offset ignored`, id);
      offset = undefined;
    }

    const { dir, expected } = layout.clipFolder(subject, folder, onset);
    if (!dir) {
      err(`clip folder ${expected} not found`, id);
      continue;
    }
    usedFolders.add(dir);
    const listing = listNumberedFrames(dir);
    if (listing.duplicates.length > 0) {
      err(`two files carry the same frame number (${formatRanges(listing.duplicates)}) in ${dir}`, id);
      continue;
    }
    let paths: string[];
    if (layout.gaps === 'hold') {
      const have = new Set(listing.frames.map((f) => f.number));
      const ends = [onset, apex].filter((n, i, a) => !have.has(n) && a.indexOf(n) === i);
      if (ends.length > 0) {
        err(`the ${ends.map((n) => (n === onset ? `onset frame ${n}` : `apex frame ${n}`)).join(' and the ')} ${ends.length > 1 ? 'are' : 'is'} missing in ${dir}`, id);
        continue;
      }
      const held = frameRangeHeld(listing.frames, onset, apex);
      if (held.missing.length > 0) {
        note(`frames ${formatRanges(held.missing)} of onset ${onset} .. apex ${apex} are missing in ${dir} (dropped in recording); each is replaced by the frame before it`, id);
      }
      paths = held.paths;
    } else {
      const range = frameRange(listing.frames, onset, apex);
      if (range.missing.length > 0) {
        err(`frames ${formatRanges(range.missing)} of onset ${onset} .. apex ${apex} are missing in ${dir}`, id);
        continue;
      }
      paths = range.paths;
    }
    const aus = auCol === undefined ? null : (cells[auCol] ?? null);
    clips.push({
      dataset,
      id,
      subject,
      label,
      onset,
      apex,
      ...(offset !== undefined ? { offset } : {}),
      framePaths: paths,
      ...(aus !== null ? { aus: String(aus) } : {}),
    });
  }

  for (const dir of layout.clipFolders?.() ?? []) {
    if (!usedFolders.has(dir)) problems.push({ dataset, kind: 'excluded', file: dir, problem: 'clip folder has no annotation row (or its row has an error)' });
  }
  return { clips, problems };
}

/** `ROOT/<subject>/<folder>` for every subject folder and clip folder below `root`. */
export function twoLevelFolders(root: string): string[] {
  return subdirs(root).flatMap((s) => subdirs(join(root, s)).map((c) => join(root, s, c)));
}

/** `ROOT/<subject>/<folder>`, matched case-insensitively when the exact name is absent. */
export function subjectClipFolder(root: string, subject: string, folder: string): { dir: string | null; expected: string } {
  const expected = join(root, subject, folder);
  if (isDir(expected)) return { dir: expected, expected };
  const subjectDir = existsSync(join(root, subject)) ? join(root, subject) : null;
  const subjDir = subjectDir ?? subdirs(root).map((s) => join(root, s)).find((p) => p.toLowerCase().endsWith(`/${subject.toLowerCase()}`));
  if (!subjDir) return { dir: null, expected };
  const hit = subdirs(subjDir).find((c) => c.toLowerCase() === folder.toLowerCase());
  return { dir: hit ? join(subjDir, hit) : null, expected };
}
