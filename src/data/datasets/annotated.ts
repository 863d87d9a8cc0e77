/**
 * The reader shared by CASME II and SAMM: one spreadsheet row per clip
 * (subject, clip folder name, onset/apex/offset frame numbers, AUs, emotion)
 * and frame files named with absolute frame numbers in
 * `FRAMES/<subject>/<clip>/`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NATIVE_LABELS } from './labels.js';
import { type CellValue, findHeader, frameCell, frameRange, formatRanges, isDir, listNumberedFrames, quote, readSheet, subdirs } from './files.js';
import type { Problem, RawClip, ReadResult, SourceName } from './types.js';

export interface AnnotatedLayout {
  dataset: SourceName;
  /** Spreadsheet to read. */
  annotationFile: string;
  /** Folder holding the subject folders. */
  framesDir: string;
  /** Subject cell -> subject folder name (`1` -> `sub01`), or null when the cell is unusable. */
  subjectName(cell: CellValue): string | null;
  /** Clip id from subject and clip folder name. */
  clipId(subject: string, folder: string): string;
}

/** Header keys (see `headerKey`) every annotation must have. */
const REQUIRED_COLUMNS = ['subject', 'filename', 'onsetframe', 'apexframe', 'offsetframe', 'estimatedemotion'];
const AU_COLUMN = 'actionunits';

/**
 * A missing apex (`/`, empty, -1) is replaced by the frame halfway between
 * onset and offset (rounded down), and the clip gets a `note`.
 */
export function fallbackApex(onset: number, offset: number): number {
  return Math.floor((onset + offset) / 2);
}

export async function readAnnotatedClips(layout: AnnotatedLayout): Promise<ReadResult> {
  const { dataset, annotationFile } = layout;
  const problems: Problem[] = [];
  const clips: RawClip[] = [];
  const sheet = await readSheet(annotationFile);
  const header = findHeader(sheet, REQUIRED_COLUMNS);
  if (!header) {
    throw new Error(
      `${annotationFile}: no header row with the columns Subject, Filename, Onset Frame, Apex Frame, Offset Frame, Estimated Emotion in the first 50 rows`,
    );
  }
  const col = (k: string): number => header.columns.get(k)!;
  const auCol = header.columns.get(AU_COLUMN);
  const seen = new Set<string>();
  const usedFolders = new Set<string>();

  for (let r = header.rowIndex + 1; r < sheet.rows.length; r++) {
    const cells = sheet.rows[r] ?? [];
    const row = r + 1;
    if (cells.every((c) => c === null)) continue;
    const at = (k: string): CellValue => cells[col(k)] ?? null;
    const err = (problem: string, clip?: string): void => {
      problems.push({ dataset, kind: 'error', file: annotationFile, row, ...(clip ? { clip } : {}), problem });
    };

    const subject = layout.subjectName(at('subject'));
    const folderCell = at('filename');
    if (subject === null) {
      err(`Subject cell ${quote(at('subject'))} is not a subject number`);
      continue;
    }
    if (folderCell === null) {
      err('Filename cell is empty');
      continue;
    }
    const folder = String(folderCell);
    const id = layout.clipId(subject, folder);
    if (seen.has(id)) {
      err(`clip ${id} appears in more than one row; later rows are ignored`, id);
      continue;
    }
    seen.add(id);

    const emotionCell = at('estimatedemotion');
    if (emotionCell === null) {
      err('Estimated Emotion cell is empty', id);
      continue;
    }
    const label = String(emotionCell);
    if (!NATIVE_LABELS[dataset].includes(label.toLowerCase())) {
      err(`unknown label ${quote(emotionCell)}; ${dataset} has ${NATIVE_LABELS[dataset].join(', ')}`, id);
      continue;
    }

    const onset = frameCell(at('onsetframe'));
    let apex = frameCell(at('apexframe'));
    let offset: number | undefined = frameCell(at('offsetframe')) ?? undefined;
    if (onset === null) {
      err(`Onset Frame ${quote(at('onsetframe'))} is not a frame number`, id);
      continue;
    }
    if (offset !== undefined && offset < onset) {
      problems.push({ dataset, kind: 'note', clip: id, row, problem: `Offset Frame ${offset} is before Onset Frame ${onset}; offset ignored` });
      offset = undefined;
    }
    if (apex === null) {
      if (offset === undefined) {
        err(`Apex Frame is ${quote(at('apexframe'))} (no apex) and there is no valid offset to fall back on`, id);
        continue;
      }
      apex = fallbackApex(onset, offset);
      problems.push({
        dataset,
        kind: 'note',
        clip: id,
        row,
        problem: `Apex Frame is ${quote(at('apexframe'))} (no apex); using the middle of onset ${onset} .. offset ${offset}: frame ${apex}`,
      });
    }
    if (onset > apex) {
      err(`onset ${onset} is after apex ${apex}`, id);
      continue;
    }
    if (offset !== undefined && offset < apex) {
      problems.push({ dataset, kind: 'note', clip: id, row, problem: `Offset Frame ${offset} is before Apex Frame ${apex}; offset ignored` });
      offset = undefined;
    }

    const dir = clipFolder(layout.framesDir, subject, folder);
    if (!dir) {
      err(`clip folder ${join(layout.framesDir, subject, folder)} not found`, id);
      continue;
    }
    usedFolders.add(dir);
    const listing = listNumberedFrames(dir);
    if (listing.duplicates.length > 0) {
      err(`two files carry the same frame number (${formatRanges(listing.duplicates)}) in ${dir}`, id);
      continue;
    }
    const { paths, missing } = frameRange(listing.frames, onset, apex);
    if (missing.length > 0) {
      err(`frames ${formatRanges(missing)} of onset ${onset} .. apex ${apex} are missing in ${dir}`, id);
      continue;
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

  // Clip folders on disk that no row describes.
  for (const s of subdirs(layout.framesDir)) {
    for (const c of subdirs(join(layout.framesDir, s))) {
      const dir = join(layout.framesDir, s, c);
      if (!usedFolders.has(dir)) {
        problems.push({ dataset, kind: 'excluded', file: dir, problem: 'clip folder has no annotation row (or its row has an error)' });
      }
    }
  }
  return { clips, problems };
}

/** `FRAMES/<subject>/<folder>`, matched case-insensitively when the exact name is absent. */
function clipFolder(framesDir: string, subject: string, folder: string): string | null {
  const exact = join(framesDir, subject, folder);
  if (isDir(exact)) return exact;
  const subjectDir = existsSync(join(framesDir, subject)) ? join(framesDir, subject) : null;
  const subjDir = subjectDir ?? subdirs(framesDir).map((s) => join(framesDir, s)).find((p) => p.toLowerCase().endsWith(`/${subject.toLowerCase()}`));
  if (!subjDir) return null;
  const hit = subdirs(subjDir).find((c) => c.toLowerCase() === folder.toLowerCase());
  return hit ? join(subjDir, hit) : null;
}
