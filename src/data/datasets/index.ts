/**
 * One entry point over all readers, plus the label scheme applied on top.
 */
import { readCasme2, type Casme2ReadOptions } from './casme2.js';
import { readCkPlus } from './ckplus.js';
import { type LabelScheme, type LabelledClip, applyLabelScheme, getLabelScheme } from './labels.js';
import { readMmi } from './mmi.js';
import { readSamm } from './samm.js';
import { readSmic } from './smic.js';
import type { DatasetName, Problem, ReadResult, SourceName } from './types.js';

export * from './types.js';
export * from './labels.js';
export { readCasme2, readCkPlus, readMmi, readSamm, readSmic };

/** Where the composite's three sources are unpacked. */
export interface MegcRoots {
  smic: string;
  casme2: string;
  samm: string;
}

export interface ReadDatasetOptions {
  casme2?: Casme2ReadOptions;
}

/** The readers of the single-folder datasets. */
export const READERS: Readonly<Record<SourceName, (root: string, opts: ReadDatasetOptions) => Promise<ReadResult>>> = {
  casme2: (root, opts) => readCasme2(root, opts.casme2),
  samm: (root) => readSamm(root),
  smic: (root) => readSmic(root),
  ckplus: (root) => readCkPlus(root),
  mmi: (root) => readMmi(root),
};

/**
 * Reads a dataset from where it is unpacked. For `megc2019`, `roots` gives the
 * three sources; otherwise one folder. A missing or unreadable annotation
 * file or frame folder throws; everything else becomes a problem line.
 */
export async function readDataset(dataset: DatasetName, roots: string | MegcRoots, opts: ReadDatasetOptions = {}): Promise<ReadResult> {
  if (dataset === 'megc2019') {
    if (typeof roots === 'string') throw new Error('megc2019 needs three roots: smic, casme2 and samm');
    const parts = await Promise.all((['smic', 'casme2', 'samm'] as const).map((s) => READERS[s](roots[s], opts)));
    return { clips: parts.flatMap((p) => p.clips), problems: parts.flatMap((p) => p.problems) };
  }
  if (typeof roots !== 'string') throw new Error(`${dataset} reads from one root folder`);
  return READERS[dataset](roots, opts);
}

export interface LabelledDataset {
  dataset: DatasetName;
  scheme: LabelScheme;
  clips: LabelledClip[];
  /** Reader problems followed by the clips the scheme leaves out. */
  problems: Problem[];
}

/** Reads a dataset and applies a label scheme (the dataset's default when none is named). */
export async function readLabelledDataset(dataset: DatasetName, roots: string | MegcRoots, schemeName?: string, opts: ReadDatasetOptions = {}): Promise<LabelledDataset> {
  const scheme = getLabelScheme(dataset, schemeName);
  const read = await readDataset(dataset, roots, opts);
  const { kept, problems } = applyLabelScheme(scheme, read.clips);
  return { dataset, scheme, clips: kept, problems: [...read.problems, ...problems] };
}
