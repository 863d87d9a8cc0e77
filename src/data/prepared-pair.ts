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
import { MEGC2019_SOURCES, MICRO_SOURCES, SOURCE_NAMES, type DatasetName, type SourceName, isComposite, isDatasetName, parseDatasetName, sourcesOf } from './datasets/types.js';

/** Micro datasets with a name; any list of micro sources (`smic,casme2,samm,casme3`) is a micro dataset too. */
export const MICRO_DATASETS: readonly DatasetName[] = [...MICRO_SOURCES, 'megc2019'];
export const MACRO_DATASETS: readonly DatasetName[] = ['ckplus', 'mmi'];
/** Names `data.roots` (and `--root NAME=DIR`) may use: every dataset read from one folder. */
export const ROOT_NAMES: readonly SourceName[] = SOURCE_NAMES;
export { MEGC2019_SOURCES };
/** A preparation of at least this many clips logs its progress every tenth of the way. */
export const PREPARE_PROGRESS_MIN_CLIPS = 20;

/** A micro or macro dataset name of a config, checked for its role; a micro list comes back in canonical form. */
export function roleCheck(name: string, role: 'micro' | 'macro'): DatasetName {
  const allowed = role === 'micro' ? MICRO_DATASETS : MACRO_DATASETS;
  const expected = role === 'micro' ? `${allowed.join(', ')}, or a list of them such as smic,casme2,samm,casme3` : allowed.join(', ');
  let parsed: DatasetName | undefined;
  try {
    parsed = role === 'micro' ? parseDatasetName(name) : isDatasetName(name) ? name : undefined;
  } catch (e) {
    if (/[,+]/.test(name)) throw new Error(`--${role} (data.${role}): ${(e as Error).message}`);
  }
  if (parsed === undefined || !(allowed.includes(parsed) || (role === 'micro' && isComposite(parsed)))) {
    const known = parsed !== undefined || isDatasetName(name) ? ` (${name} is a ${role === 'micro' ? 'macro' : 'micro'} dataset)` : '';
    throw new Error(`--${role} (data.${role}) is ${JSON.stringify(name)}: expected one of ${expected}${known}`);
  }
  return parsed;
}

/** Every root names a dataset read from one folder; the ones this run uses are existing folders. */
function checkRoots(roots: Record<string, string>, used: readonly string[]): void {
  for (const [name, dir] of Object.entries(roots)) {
    if (!(ROOT_NAMES as readonly string[]).includes(name)) {
      const hint = name === 'megc2019' ? ' (megc2019 takes the roots of smic, casme2 and samm)' : /[,+]/.test(name) ? ' (a list takes one root per dataset in it)' : '';
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

/** `a, b and c`. */
function andList(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The prepare options of one dataset of the pair, with its root(s) from `data.roots`. */
export function prepareOptionsFor(d: PreparedDataConfig, name: DatasetName, model: MimanetConfig['model']): PrepareOptions {
  const geometry = { frames: model.frames, size: model.size, channels: model.channels as 1 | 3 };
  // the label scheme applies to the micro dataset; macro datasets keep their own classes
  const scheme = MICRO_DATASETS.includes(name) || isComposite(name) ? d.scheme : undefined;
  const base = { dataset: name, ...geometry, skipBad: d.skipBad, ...(scheme ? { scheme } : {}) };
  const missing = (key: string): never => {
    const what = isComposite(name) ? `${name} is made of ${andList(sourcesOf(name))}; no folder for ${key}` : `no folder for ${key}`;
    throw new Error(`${what}: give it with --root ${key}=DIR or data.roots.${key} in the config`);
  };
  if (isComposite(name)) {
    const roots = Object.fromEntries(sourcesOf(name).map((s) => [s, d.roots[s] ?? missing(s)]));
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
  checkRoots(d.roots, [...sourcesOf(microName), ...sourcesOf(macroName)]);
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
