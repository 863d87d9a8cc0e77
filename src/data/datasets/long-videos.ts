/**
 * Long videos for spotting: every frame of each recording, with the
 * annotated expression intervals in the annotation's own frame numbers.
 *
 *   casme2-lv  CAS(ME)^2, 30 fps
 *     ROOT/code_final.xlsx            no header row; sheet 1: participant, video name, onset, apex,
 *                                     offset, AUs, emotion, expression type, self-report;
 *                                     sheet 2: participant -> subject folder; sheet 3: video code -> video name
 *     ROOT/rawpic/s15/15_0101disgustingteeth/img1.jpg
 *   samm-lv    SAMM Long Videos, 200 fps
 *     ROOT/SAMM_LongVideos_V2_Release.xlsx   title rows, then Subject, Filename, Inducement Code, Onset,
 *                                            Apex, Offset, Duration, Type, Action Units, Notes
 *     ROOT/SAMM_longvideos/006_1/006_1_0001.jpg   video = the first two `_` fields of Filename
 *
 * Frame numbers are the integers at the end of the frame files' names.
 * Problems are reported as the clip readers do: `error` drops an interval
 * (or a video), `note` keeps it with a caveat.
 */
import { join } from 'node:path';
import { type CellValue, type Sheet, findAnnotation, findDir, findHeader, formatRanges, frameCell, listNumberedFrames, quote, readWorkbook, subdirs } from './files.js';
import type { LongVideoDatasetName, Problem } from './types.js';

export type IntervalKind = 'micro' | 'macro';

/** One annotated expression, in the annotation's frame numbers, onset..offset inclusive. */
export interface LongVideoInterval {
  onset: number;
  apex: number;
  offset: number;
  kind: IntervalKind;
  /** Emotion as the annotation writes it; SAMM Long Videos has none. */
  label?: string;
  /** Action units as written. */
  aus?: string;
  /** 1-based spreadsheet row it came from. */
  row: number;
}

export interface LongVideo {
  /** `15_0101disgustingteeth` (CAS(ME)^2 folder name), `006_1` (SAMM). */
  id: string;
  /** `s15`, `006`. */
  subject: string;
  dataset: LongVideoDatasetName;
  /** Frame files in temporal order. */
  frames: string[];
  /** The frame number the annotation uses for each entry of `frames`. */
  frameNumbers: number[];
  fps: number;
  /** Sorted by onset. */
  intervals: LongVideoInterval[];
}

export interface LongVideoSet {
  name: LongVideoDatasetName;
  fps: number;
  /** Every video folder found, sorted by id, with or without intervals. */
  videos: LongVideo[];
  problems: Problem[];
}

export interface LongVideoReadOptions {
  /** Annotation spreadsheet. Default: the one found under the root. */
  annotation?: string;
}

/** Recording frame rates (the datasets' papers). */
export const LONG_VIDEO_FPS: Readonly<Record<LongVideoDatasetName, number>> = { 'casme2-lv': 30, 'samm-lv': 200 };

/** `micro-expression`, `Micro - 1/2`, `Micro` -> micro; `macro-expression`, `Macro` -> macro; anything else null. */
export function intervalKind(cell: CellValue): IntervalKind | null {
  if (cell === null) return null;
  const m = /^\s*(micro|macro)\b/i.exec(String(cell));
  return m ? (m[1]!.toLowerCase() as IntervalKind) : null;
}

/** An annotation row, before its checks. */
interface RowCells {
  row: number;
  videoId: string;
  onset: CellValue;
  apex: CellValue;
  offset: CellValue;
  type: CellValue;
  label?: CellValue;
  aus?: CellValue;
}

interface VideoFolder {
  id: string;
  subject: string;
  dir: string;
}

/**
 * The checks every long-video annotation gets, and the frame listing of every
 * video folder. `rows` already name their video; rows whose video has no
 * folder were reported by the caller.
 */
function assemble(dataset: LongVideoDatasetName, file: string, folders: readonly VideoFolder[], rows: readonly RowCells[], problems: Problem[]): LongVideo[] {
  const fps = LONG_VIDEO_FPS[dataset];
  const videos = new Map<string, LongVideo>();
  for (const f of [...folders].sort((a, b) => a.id.localeCompare(b.id))) {
    const { frames, duplicates } = listNumberedFrames(f.dir);
    if (duplicates.length > 0) {
      problems.push({ dataset, kind: 'error', clip: f.id, file: f.dir, problem: `two files carry the same frame number (${formatRanges(duplicates)}); video left out` });
      continue;
    }
    if (frames.length === 0) {
      problems.push({ dataset, kind: 'error', clip: f.id, file: f.dir, problem: 'video folder has no frames; video left out' });
      continue;
    }
    const numbers = frames.map((x) => x.number);
    const gaps: number[] = [];
    for (let i = 1; i < numbers.length; i++) for (let n = numbers[i - 1]! + 1; n < numbers[i]!; n++) gaps.push(n);
    if (gaps.length > 0) problems.push({ dataset, kind: 'note', clip: f.id, file: f.dir, problem: `frame numbers ${formatRanges(gaps)} have no file; frames are listed as found` });
    videos.set(f.id, { id: f.id, subject: f.subject, dataset, frames: frames.map((x) => x.path), frameNumbers: numbers, fps, intervals: [] });
  }

  const seen = new Map<string, number>();
  for (const r of rows) {
    const video = videos.get(r.videoId);
    if (!video) continue; // its folder was left out above
    const err = (problem: string): void => {
      problems.push({ dataset, kind: 'error', clip: r.videoId, file, row: r.row, problem });
    };
    const note = (problem: string): void => {
      problems.push({ dataset, kind: 'note', clip: r.videoId, row: r.row, problem });
    };
    const kind = intervalKind(r.type);
    if (kind === null) {
      err(`unknown expression type ${quote(r.type)}; expected micro (e.g. "micro-expression", "Micro - 1/2") or macro`);
      continue;
    }
    const onset = frameCell(r.onset);
    if (onset === null) {
      err(`onset ${quote(r.onset)} is not a frame number`);
      continue;
    }
    let apex = frameCell(r.apex);
    let offset = frameCell(r.offset);
    if (offset === null || offset === 0) {
      // an offset of 0 (or none) means it was not coded; the interval then ends at its apex
      if (apex === null || apex < onset) {
        err(`offset ${quote(r.offset)} is not coded and there is no apex to end the interval at`);
        continue;
      }
      note(`offset ${quote(r.offset)} is not coded; the interval ends at its apex, frame ${apex}`);
      offset = apex;
    }
    if (offset < onset) {
      err(`offset ${offset} is before onset ${onset}`);
      continue;
    }
    if (apex === null || apex < onset || apex > offset) {
      const middle = Math.floor((onset + offset) / 2);
      note(`${apex === null ? `apex is ${quote(r.apex)} (no apex)` : `apex ${apex} is outside onset ${onset} .. offset ${offset}`}; using the middle, frame ${middle}`);
      apex = middle;
    }
    const first = video.frameNumbers[0]!;
    const last = video.frameNumbers[video.frameNumbers.length - 1]!;
    if (onset < first || offset > last) {
      err(`interval ${onset} .. ${offset} reaches outside the video's frames ${first} .. ${last}`);
      continue;
    }
    const key = `${r.videoId}|${kind}|${onset}|${offset}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      err(`the same ${kind} interval ${onset} .. ${offset} is in row ${earlier}; this row is ignored`);
      continue;
    }
    seen.set(key, r.row);
    const text = (c: CellValue | undefined): string | undefined => (c === null || c === undefined ? undefined : String(c));
    const label = text(r.label);
    const aus = text(r.aus);
    video.intervals.push({ onset, apex, offset, kind, ...(label !== undefined ? { label } : {}), ...(aus !== undefined ? { aus } : {}), row: r.row });
  }
  for (const v of videos.values()) {
    v.intervals.sort((a, b) => a.onset - b.onset || a.offset - b.offset);
    if (v.intervals.length === 0) problems.push({ dataset, kind: 'note', clip: v.id, problem: 'no annotated interval (a video without expressions, or every row of it has an error)' });
  }
  return [...videos.values()];
}

/** A naming sheet of code_final.xlsx as a map from the cells of column `from` to those of column `to`. */
function namingMap(sheet: Sheet, from: number, to: number): Map<string, string> {
  const map = new Map<string, string>();
  for (const cells of sheet.rows) {
    const k = cells[from] ?? null;
    const v = cells[to] ?? null;
    if (k !== null && v !== null) map.set(String(k).trim().toLowerCase(), String(v).trim());
  }
  return map;
}

/** Subject folder name from sheet 2's code: `s15`, `15` and `S15` all name `s15`. */
function casme2SubjectFolder(code: string): string {
  const m = /^s?0*(\d+)$/i.exec(code);
  return m ? `s${m[1]!.padStart(2, '0')}` : code;
}

/** Video code from sheet 3: `0101` (a number cell 101 lost its leading zero). */
function casme2VideoCode(code: string): string {
  return /^\d+$/.test(code) ? code.padStart(4, '0') : code;
}

export async function readCasme2Lv(root: string, opts: LongVideoReadOptions = {}): Promise<LongVideoSet> {
  const dataset = 'casme2-lv' as const;
  const { file, notes: problems } = findAnnotation(dataset, root, opts.annotation, /^code_final.*\.xlsx?$/i, 'code_final.xlsx', 3);
  const sheets = await readWorkbook(file);
  if (sheets.length < 3) {
    throw new Error(`${file}: expected 3 worksheets (expressions; participant -> subject; video code -> video name), found ${sheets.length}`);
  }
  const subjectOf = namingMap(sheets[1]!, 2, 1);
  const codeOf = namingMap(sheets[2]!, 1, 0);
  const rawpic = findDir(root, (dir, name) => name.toLowerCase() === 'rawpic' && subdirs(dir).some((s) => /^s\d+$/i.test(s)), 3);
  if (!rawpic) throw new Error(`${dataset}: no frame folder rawpic/s15/15_0101disgustingteeth/ under ${root}`);

  const folders: VideoFolder[] = [];
  for (const s of subdirs(rawpic)) {
    if (!/^s\d+$/i.test(s)) continue;
    for (const v of subdirs(join(rawpic, s))) folders.push({ id: v, subject: s.toLowerCase(), dir: join(rawpic, s, v) });
  }
  /** The folder `NN_<code>...` of a subject. */
  const folderOf = (subject: string, code: string): VideoFolder | undefined =>
    folders.find((f) => f.subject === subject.toLowerCase() && /^\d+_/.test(f.id) && f.id.slice(f.id.indexOf('_') + 1).toLowerCase().startsWith(code.toLowerCase()));

  const rows: RowCells[] = [];
  const sheet = sheets[0]!;
  for (let r = 0; r < sheet.rows.length; r++) {
    const c = sheet.rows[r] ?? [];
    const row = r + 1;
    if (c.every((x) => x === null)) continue;
    const at = (i: number): CellValue => c[i] ?? null;
    // copies are known without a header row; one that has a header row gets it skipped, not reported
    if (r === 0 && frameCell(at(2)) === null && typeof at(2) === 'string' && /onset/i.test(at(2) as string)) {
      problems.push({ dataset, kind: 'note', file, row, problem: 'row 1 looks like a header row (its onset cell reads "onset"); skipped' });
      continue;
    }
    const err = (problem: string): void => {
      problems.push({ dataset, kind: 'error', file, row, problem });
    };
    const participant = at(0);
    const subjectCode = participant === null ? undefined : subjectOf.get(String(participant).trim().toLowerCase());
    if (subjectCode === undefined) {
      err(`participant ${quote(participant)} is not in the subject sheet "${sheets[1]!.name}"`);
      continue;
    }
    const videoCell = at(1);
    const videoName = videoCell === null ? '' : String(videoCell).split('_')[0]!.trim();
    const code = codeOf.get(videoName.toLowerCase());
    if (code === undefined) {
      err(`video ${quote(videoCell)}: ${JSON.stringify(videoName)} is not in the video sheet "${sheets[2]!.name}"`);
      continue;
    }
    const subject = casme2SubjectFolder(subjectCode);
    const folder = folderOf(subject, casme2VideoCode(code));
    if (!folder) {
      err(`video folder ${join(rawpic, subject, `<n>_${casme2VideoCode(code)}${videoName}`)} not found`);
      continue;
    }
    rows.push({ row, videoId: folder.id, onset: at(2), apex: at(3), offset: at(4), aus: at(5), label: at(6), type: at(7) });
  }
  const videos = assemble(dataset, file, folders, rows, problems);
  return { name: dataset, fps: LONG_VIDEO_FPS[dataset], videos, problems };
}

export async function readSammLv(root: string, opts: LongVideoReadOptions = {}): Promise<LongVideoSet> {
  const dataset = 'samm-lv' as const;
  const { file, notes: problems } = findAnnotation(dataset, root, opts.annotation, /^SAMM_LongVideos.*\.xlsx?$/i, 'SAMM_LongVideos_V2_Release.xlsx', 3);
  const sheet = (await readWorkbook(file))[0]!;
  const header = findHeader(sheet, ['subject', 'filename', ['onset', 'onsetframe'], ['apex', 'apexframe'], ['offset', 'offsetframe'], 'type']);
  if (!header) throw new Error(`${file}: no header row with the columns Subject, Filename, Onset, Apex, Offset, Type in the first 50 rows`);
  const col = (k: string): number | undefined => header.columns.get(k);
  const auCol = col('actionunits');
  const labelCol = col('estimatedemotion') ?? col('emotion');
  const framesDir = findDir(root, (dir) => subdirs(dir).some((s) => /^\d{3}_\d+$/.test(s)), 3);
  if (!framesDir) throw new Error(`${dataset}: no frame folder with video folders 006_1, 006_2, ... under ${root}`);
  const folders: VideoFolder[] = subdirs(framesDir)
    .filter((v) => /^\d+_\d+$/.test(v))
    .map((v) => ({ id: v, subject: v.split('_')[0]!, dir: join(framesDir, v) }));
  const byId = new Map(folders.map((f) => [f.id, f]));

  const rows: RowCells[] = [];
  for (let r = header.rowIndex + 1; r < sheet.rows.length; r++) {
    const c = sheet.rows[r] ?? [];
    const row = r + 1;
    if (c.every((x) => x === null)) continue;
    const at = (i: number | undefined): CellValue => (i === undefined ? null : (c[i] ?? null));
    const filename = at(col('filename'));
    const fields = filename === null ? [] : String(filename).trim().split('_');
    if (fields.length < 2 || fields.some((f) => f === '')) {
      problems.push({ dataset, kind: 'error', file, row, problem: `Filename ${quote(filename)} does not start with <subject>_<video>` });
      continue;
    }
    const videoId = `${fields[0]}_${fields[1]}`;
    if (!byId.has(videoId)) {
      problems.push({ dataset, kind: 'error', clip: videoId, file, row, problem: `video folder ${join(framesDir, videoId)} not found` });
      continue;
    }
    rows.push({ row, videoId, onset: at(col('onset')), apex: at(col('apex')), offset: at(col('offset')), type: at(col('type')), aus: at(auCol), label: at(labelCol) });
  }
  const videos = assemble(dataset, file, folders, rows, problems);
  return { name: dataset, fps: LONG_VIDEO_FPS[dataset], videos, problems };
}

/** Reads a long-video dataset from where it is unpacked. */
export function readLongVideos(name: LongVideoDatasetName, root: string, opts: LongVideoReadOptions = {}): Promise<LongVideoSet> {
  return name === 'casme2-lv' ? readCasme2Lv(root, opts) : readSammLv(root, opts);
}

/** Interval counts by kind over all videos. */
export function intervalCounts(set: LongVideoSet): { micro: number; macro: number } {
  let micro = 0;
  let macro = 0;
  for (const v of set.videos) {
    for (const i of v.intervals) {
      if (i.kind === 'micro') micro++;
      else macro++;
    }
  }
  return { micro, macro };
}

