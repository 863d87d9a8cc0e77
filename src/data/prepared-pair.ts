/**
 * Loads the prepared micro and macro datasets a config names, preparing them
 * into the cache first when needed (the same cache `mimanet data prepare` fills).
 */
import { statSync } from 'node:fs';
import type { MimanetConfig, PreparedDataConfig } from '../config.js';
import type { ExperimentData } from './load.js';
import { readIndex } from './cache.js';
import { loadPreparedOrPrepare, cacheDirFor, recipeOf, type PrepareOptions } from './prepare.js';
import { macroToMicroMap, getLabelScheme } from './datasets/labels.js';
import { isDatasetName, DATASET_NAMES, type DatasetName } from './datasets/types.js';

export const MICRO_DATASETS: readonly DatasetName[] = ['casme2', 'samm', 'smic', 'megc2019'];
export const MACRO_DATASETS: readonly DatasetName[] = ['ckplus', 'mmi'];
/** Names `data.roots` (and `--root NAME=DIR`) may use: every dataset read from one folder. */
export const ROOT_NAMES: readonly DatasetName[] = DATASET_NAMES.filter((n) => n !== 'megc2019');
/** The composite's sources, each needing its own root. */
export const MEGC2019_SOURCES = ['smic', 'casme2', 'samm'] as const;
/** A preparation of at least this many clips logs its progress every tenth of the way. */
export const PREPARE_PROGRESS_MIN_CLIPS = 20;

function roleCheck(name: string, role: 'micro' | 'macro'): DatasetName {
  const allowed = role === 'micro' ? MICRO_DATASETS : MACRO_DATASETS;
  if (!isDatasetName(name) || !allowed.includes(name)) {
    const known = isDatasetName(name) ? ` (${name} is a ${role === 'micro' ? 'macro' : 'micro'} dataset)` : '';
    throw new Error(`--${role} (data.${role}) is ${JSON.stringify(name)}: expected one of ${allowed.join(', ')}${known}`);
  }
  return name;
}

/** Every root names a dataset read from one folder; the ones this run uses are existing folders. */
function checkRoots(roots: Record<string, string>, used: readonly string[]): void {
  for (const [name, dir] of Object.entries(roots)) {
    if (!(ROOT_NAMES as readonly string[]).includes(name)) {
      const hint = name === 'megc2019' ? ' (megc2019 takes the roots of smic, casme2 and samm)' : '';
      throw new Error(`--root ${name}=${dir}: unknown dataset name ${JSON.stringify(name)}; expected one of ${ROOT_NAMES.join(', ')}${hint}`);
    }
    if (!used.includes(name)) continue;
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      throw new Error(`--root ${name}=${dir}: folder ${dir} does not exist`);
    }
    if (!isDir) throw new Error(`--root ${name}=${dir}: ${dir} is not a folder`);
  }
}

/** The dataset folders a micro or macro dataset reads from. */
function rootNamesOf(name: DatasetName): readonly string[] {
  return name === 'megc2019' ? MEGC2019_SOURCES : [name];
}

/** The prepare options of one dataset of the pair, with its root(s) from `data.roots`. */
export function prepareOptionsFor(d: PreparedDataConfig, name: DatasetName, model: MimanetConfig['model']): PrepareOptions {
  const geometry = { frames: model.frames, size: model.size, channels: model.channels as 1 | 3 };
  // the label scheme applies to the micro dataset; macro datasets keep their own classes
  const scheme = MICRO_DATASETS.includes(name) ? d.scheme : undefined;
  const base = { dataset: name, ...geometry, skipBad: d.skipBad, ...(scheme ? { scheme } : {}) };
  const missing = (key: string): never => {
    const what = name === 'megc2019' ? `megc2019 is made of smic, casme2 and samm; no folder for ${key}` : `no folder for ${key}`;
    throw new Error(`${what}: give it with --root ${key}=DIR or data.roots.${key} in the config`);
  };
  if (name === 'megc2019') {
    const roots = { smic: d.roots.smic ?? missing('smic'), casme2: d.roots.casme2 ?? missing('casme2'), samm: d.roots.samm ?? missing('samm') };
    return { ...base, roots, cacheDir: cacheDirFor(d.cacheDir, base) };
  }
  const root = d.roots[name] ?? missing(name);
  return { ...base, root, cacheDir: cacheDirFor(d.cacheDir, base) };
}

export interface LoadPairOptions {
  /**
   * Where preparation reports itself: start, progress, every clip left out and
   * the end. Loading a complete cache says nothing. Default: lines on stderr.
   */
  log?: (message: string) => void;
}

/**
 * One dataset of the pair: from the cache when it is complete, otherwise
 * prepared now, with what preparation does (and leaves out) told to `log`.
 */
async function loadOne(opts: PrepareOptions, log: (m: string) => void): Promise<Awaited<ReturnType<typeof loadPreparedOrPrepare>>> {
  let prepared = false;
  let step = Infinity;
  const t0 = performance.now();
  const set = await loadPreparedOrPrepare({
    ...opts,
    onStart: ({ total, toProcess }) => {
      prepared = true;
      step = total >= PREPARE_PROGRESS_MIN_CLIPS ? Math.ceil(total / 10) : Infinity;
      log(`${opts.dataset}: preparing ${toProcess} of ${total} clips into ${opts.cacheDir} (one face detection per clip; the others are in the cache)`);
    },
    onProgress: ({ done, total }) => {
      if (done % step === 0 && done < total) log(`${opts.dataset}: ${done}/${total} clips prepared`);
    },
  });
  if (prepared) {
    const skipped = (readIndex(opts.cacheDir).provenance?.skipped ?? []) as string[];
    for (const line of skipped) log(`${opts.dataset}: left out ${line}`);
    log(`${opts.dataset}: ${set.clips.length} clips ready in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${skipped.length} left out as bad (\`mimanet data inspect\` lists every problem)`);
  }
  return set;
}

const stderrLog = (m: string): void => {
  process.stderr.write(`${m}\n`);
};

export async function loadPreparedPair(cfg: MimanetConfig, opts: LoadPairOptions = {}): Promise<ExperimentData> {
  if (cfg.data.kind !== 'prepared') throw new Error('loadPreparedPair: the config names the synthetic dataset');
  const d = cfg.data;
  const log = opts.log ?? stderrLog;
  const microName = roleCheck(d.micro, 'micro');
  const macroName = roleCheck(d.macro, 'macro');
  checkRoots(d.roots, [...rootNamesOf(microName), ...rootNamesOf(macroName)]);
  const microOpts = prepareOptionsFor(d, microName, cfg.model);
  const macroOpts = prepareOptionsFor(d, macroName, cfg.model);
  const micro = await loadOne(microOpts, log);
  const macro = await loadOne(macroOpts, log);
  const scheme = getLabelScheme(microName, d.scheme).name;
  const macroToMicro = macroToMicroMap(micro.labels, macro.labels, scheme);
  return {
    micro,
    macro,
    macroToMicro,
    preprocessing: recipeOf(microOpts),
    leftOut: [...(micro.leftOut ?? []), ...(macro.leftOut ?? [])],
    setDirs: { micro: microOpts.cacheDir, macro: macroOpts.cacheDir },
  };
}
