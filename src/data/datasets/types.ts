/**
 * The common form every dataset reader yields, before preprocessing: where a
 * clip's frames are, what its native label is, and every problem met while
 * reading (nothing is left out silently).
 */

/** Datasets read from one folder each. */
export type SourceName = 'casme2' | 'smic' | 'samm' | 'ckplus' | 'mmi' | 'casme3' | '4dme';

export const SOURCE_NAMES: readonly SourceName[] = ['casme2', 'smic', 'samm', 'ckplus', 'mmi', 'casme3', '4dme'];

/** Micro-expression sources: the ones a composite may combine. */
export const MICRO_SOURCES: readonly SourceName[] = ['casme2', 'samm', 'smic', 'casme3', '4dme'];

/** A composite of micro sources in its canonical form, the names joined by `+`: `smic+casme2+samm+casme3`. */
export type CompositeName = `${SourceName}+${string}`;

/**
 * Datasets with a reader: the single-folder sources, `megc2019` (the
 * composite of `smic`, `casme2` and `samm` with the MEGC 2019 subject list)
 * and any composite of micro sources.
 */
export type DatasetName = SourceName | 'megc2019' | CompositeName;

/** The datasets that have a name of their own (composites are written as lists of these). */
export const DATASET_NAMES: readonly (SourceName | 'megc2019')[] = [...SOURCE_NAMES, 'megc2019'];

/** The sources of the MEGC 2019 composite, in the order it reads them. */
export const MEGC2019_SOURCES: readonly SourceName[] = ['smic', 'casme2', 'samm'];

function isSourceName(s: string): s is SourceName {
  return (SOURCE_NAMES as readonly string[]).includes(s);
}

/** Exact dataset names and canonical composites (`smic+casme2+samm+casme3`). */
export function isDatasetName(s: string): s is DatasetName {
  if (s === 'megc2019' || isSourceName(s)) return true;
  const parts = s.split('+');
  return parts.length >= 2 && parts.every((p) => (MICRO_SOURCES as readonly string[]).includes(p)) && new Set(parts).size === parts.length;
}

/**
 * Reads a dataset name as a user writes it: one name, or a list of micro
 * datasets separated by `,` or `+` (`smic,casme2,samm,casme3`), where
 * `megc2019` stands for its three sources. A list comes back in canonical form;
 * a list of one is that dataset. Throws naming the bad entry.
 */
export function parseDatasetName(text: string): DatasetName {
  const entries = text.split(/[,+]/).map((e) => e.trim()).filter((e) => e !== '');
  if (entries.length === 0) throw new Error(`dataset name ${JSON.stringify(text)} is empty; expected one of ${DATASET_NAMES.join(', ')} or a list of micro datasets`);
  if (entries.length === 1 && (entries[0] === 'megc2019' || isSourceName(entries[0]!))) return entries[0] as DatasetName;
  const sources: SourceName[] = [];
  for (const e of entries) {
    const expanded = e === 'megc2019' ? MEGC2019_SOURCES : [e];
    for (const s of expanded) {
      if (!(MICRO_SOURCES as readonly string[]).includes(s)) {
        const why = isSourceName(s) ? `${s} is a macro dataset` : `unknown dataset ${JSON.stringify(s)}`;
        throw new Error(`dataset list ${JSON.stringify(text)}: ${why}; a list combines micro datasets (${MICRO_SOURCES.join(', ')}, megc2019)`);
      }
      if (sources.includes(s as SourceName)) throw new Error(`dataset list ${JSON.stringify(text)} names ${s} twice`);
      sources.push(s as SourceName);
    }
  }
  return sources.length === 1 ? sources[0]! : (sources.join('+') as CompositeName);
}

/** True for datasets read from several folders: `megc2019` and the composites. */
export function isComposite(d: DatasetName): boolean {
  return d === 'megc2019' || d.includes('+');
}

/** The single-folder sources a dataset reads, in reading order. */
export function sourcesOf(d: DatasetName): SourceName[] {
  if (d === 'megc2019') return [...MEGC2019_SOURCES];
  return d.split('+') as SourceName[];
}

/** Long videos for spotting (src/data/datasets/long-videos.ts); they have no clips and no label scheme. */
export type LongVideoDatasetName = 'casme2-lv' | 'samm-lv';

export const LONG_VIDEO_DATASETS: readonly LongVideoDatasetName[] = ['casme2-lv', 'samm-lv'];

export function isLongVideoDataset(s: string): s is LongVideoDatasetName {
  return (LONG_VIDEO_DATASETS as readonly string[]).includes(s);
}

/** One clip as found on disk, running onset -> apex. */
export interface RawClip {
  /** Source dataset. */
  dataset: SourceName;
  /** Id within the dataset, in the style of the MEGC 2019 list: `sub01_EP02_01f`, `s01_s01_ne_01`, `006_006_1_2`, `S005_001`, `spNO.1_a_123`. */
  id: string;
  /** Subject id within the dataset: `sub01`, `s01`, `006`, `S005`, `S001`, `spNO.1`. */
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
  /** The reader's dataset, or the composite when a label scheme leaves a composite's clip out. */
  dataset: DatasetName | LongVideoDatasetName;
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
