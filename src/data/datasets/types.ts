/**
 * The common form every dataset reader yields, before preprocessing: where a
 * clip's frames are, what its native label is, and every problem met while
 * reading (nothing is left out silently).
 */

/** Datasets with a reader. `megc2019` is the composite of `smic`, `casme2` and `samm`. */
export type DatasetName = 'casme2' | 'smic' | 'samm' | 'ckplus' | 'mmi' | 'megc2019';

/** Datasets read from one folder each (everything except the composite). */
export type SourceName = Exclude<DatasetName, 'megc2019'>;

export const DATASET_NAMES: readonly DatasetName[] = ['casme2', 'smic', 'samm', 'ckplus', 'mmi', 'megc2019'];

export function isDatasetName(s: string): s is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(s);
}

/** One clip as found on disk, running onset -> apex. */
export interface RawClip {
  /** Source dataset. */
  dataset: SourceName;
  /** Id within the dataset, in the style of the MEGC 2019 list: `sub01_EP02_01f`, `s01_s01_ne_01`, `006_006_1_2`, `S005_001`. */
  id: string;
  /** Subject id within the dataset: `sub01`, `s01`, `006`, `S005`, `S001`. */
  subject: string;
  /** Native class name as the dataset writes it (`happiness`, `Anger`, `negative`). */
  label: string;
  /** Onset frame number (absolute where the dataset numbers frames). */
  onset: number;
  /** Apex frame number; the clip's last frame. */
  apex: number;
  /** Offset frame number, where the dataset gives one. */
  offset?: number;
  /**
   * Frames onset..apex in order. Image files are paths; frames inside a video
   * are `VIDEO#frame=N` references (see `videoFrameRef`).
   */
  framePaths: string[];
  /** Action units as written in the annotation (`4+L10`). */
  aus?: string;
}

/**
 * How a problem affects the data:
 * - `error`: bad input; the clip, row or file could not be used (prepare stops here unless `skipBad`).
 * - `excluded`: left out by design (unlabelled CK+ sequence, class or subject outside the label scheme).
 * - `note`: the clip is kept, with a caveat (e.g. a missing apex replaced by a fallback).
 */
export type ProblemKind = 'error' | 'excluded' | 'note';

export interface Problem {
  dataset: SourceName | 'megc2019';
  kind: ProblemKind;
  /** Clip id, when the problem concerns one clip. */
  clip?: string;
  /** File or folder concerned. */
  file?: string;
  /** 1-based spreadsheet row, for annotation problems. */
  row?: number;
  problem: string;
}

export interface ReadResult {
  clips: RawClip[];
  problems: Problem[];
}

/** Reference to frame `index` (0-based decode order) of a video file. */
export function videoFrameRef(videoPath: string, index: number): string {
  return `${videoPath}#frame=${index}`;
}

/** Splits a `VIDEO#frame=N` reference; null for a plain image path. */
export function parseVideoFrameRef(ref: string): { video: string; index: number } | null {
  const m = /^(.*)#frame=(\d+)$/.exec(ref);
  return m ? { video: m[1]!, index: Number(m[2]) } : null;
}

/** One-line rendering of a problem for logs and the CLI. */
export function formatProblem(p: Problem): string {
  const where = [p.clip ? `clip ${p.clip}` : '', p.row !== undefined ? `row ${p.row}` : '', p.file ?? ''].filter(Boolean).join(', ');
  return `[${p.kind}] ${p.dataset}${where ? ` (${where})` : ''}: ${p.problem}`;
}
