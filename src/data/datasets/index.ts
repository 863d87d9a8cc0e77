/**
 * One entry point over all readers, plus the label scheme applied on top.
 */
import { readCasme2, type Casme2ReadOptions } from './casme2.js';
import { readCasme3, type Casme3ReadOptions } from './casme3.js';
import { readCkPlus } from './ckplus.js';
import { readFourDme } from './fourdme.js';
import { type LabelScheme, type LabelledClip, applyLabelScheme, getLabelScheme } from './labels.js';
import { readMmi } from './mmi.js';
import { readSamm } from './samm.js';
import { readSmic } from './smic.js';
import { type DatasetName, type Problem, type ReadResult, type SourceName, isComposite, sourcesOf } from './types.js';

export * from './types.js';
export * from './labels.js';
export { readCasme2, readCasme3, readCkPlus, readFourDme, readMmi, readSamm, readSmic };

/** Where each source of a composite is unpacked. */
export type DatasetRoots = Partial<Record<SourceName, string>>;

/** Where the MEGC 2019 composite's three sources are unpacked. */
export interface MegcRoots {
  smic: string;
  casme2: string;
  samm: string;
}

export interface ReadDatasetOptions {
  casme2?: Casme2ReadOptions;
  casme3?: Casme3ReadOptions;
}

/** The readers of the single-folder datasets. */
export const READERS: Readonly<Record<SourceName, (root: string, opts: ReadDatasetOptions) => Promise<ReadResult>>> = {
  casme2: (root, opts) => readCasme2(root, opts.casme2),
  samm: (root) => readSamm(root),
  smic: (root) => readSmic(root),
  ckplus: (root) => readCkPlus(root),
  mmi: (root) => readMmi(root),
  casme3: (root, opts) => readCasme3(root, opts.casme3),
  '4dme': (root) => readFourDme(root),
};

/**
 * Reads a dataset from where it is unpacked: one folder, or for `megc2019`
 * and the composites one folder per source (`roots`). A missing or unreadable
 * annotation file or frame folder throws; everything else becomes a problem line.
 */
export async function readDataset(dataset: DatasetName, roots: string | DatasetRoots, opts: ReadDatasetOptions = {}): Promise<ReadResult> {
  if (isComposite(dataset)) {
    const sources = sourcesOf(dataset);
    if (typeof roots === 'string') throw new Error(`${dataset} needs one root per source: ${sources.join(', ')}`);
    const missing = sources.filter((s) => !roots[s]);
    if (missing.length > 0) throw new Error(`${dataset} needs the roots of ${sources.join(', ')}; missing: ${missing.join(', ')}`);
    const parts = await Promise.all(sources.map((s) => READERS[s](roots[s]!, opts)));
    return { clips: parts.flatMap((p) => p.clips), problems: parts.flatMap((p) => p.problems) };
  }
  if (typeof roots !== 'string') throw new Error(`${dataset} reads from one root folder`);
  return READERS[dataset as SourceName](roots, opts);
}

export interface LabelledDataset {
  dataset: DatasetName;
  scheme: LabelScheme;
  clips: LabelledClip[];
  /** Reader problems followed by the clips the scheme leaves out. */
  problems: Problem[];
}

/** Reads a dataset and applies a label scheme (the dataset's default when none is named). */
export async function readLabelledDataset(dataset: DatasetName, roots: string | DatasetRoots, schemeName?: string, opts: ReadDatasetOptions = {}): Promise<LabelledDataset> {
  const scheme = getLabelScheme(dataset, schemeName);
  const read = await readDataset(dataset, roots, opts);
  const { kept, problems } = applyLabelScheme(scheme, read.clips, isComposite(dataset) ? dataset : undefined);
  return { dataset, scheme, clips: kept, problems: [...read.problems, ...problems] };
}
