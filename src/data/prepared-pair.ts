/**
 * Loads the prepared micro and macro datasets a config names, preparing them
 * into the cache first when needed (the same cache `mimanet data prepare` fills).
 */
import type { MimanetConfig, PreparedDataConfig } from '../config.js';
import type { ExperimentData } from './load.js';
import { loadPreparedOrPrepare, cacheDirFor, type PrepareOptions } from './prepare.js';
import { macroToMicroMap, getLabelScheme } from './datasets/labels.js';
import { isDatasetName, DATASET_NAMES, type DatasetName } from './datasets/types.js';

export const MICRO_DATASETS: readonly DatasetName[] = ['casme2', 'samm', 'smic', 'megc2019'];
export const MACRO_DATASETS: readonly DatasetName[] = ['ckplus', 'mmi'];

function roleCheck(name: string, role: 'micro' | 'macro'): DatasetName {
  const allowed = role === 'micro' ? MICRO_DATASETS : MACRO_DATASETS;
  if (!isDatasetName(name) || !allowed.includes(name)) {
    throw new Error(`data.${role} is ${JSON.stringify(name)}: expected one of ${allowed.join(', ')} (known datasets: ${DATASET_NAMES.join(', ')})`);
  }
  return name;
}

/** The prepare options of one dataset of the pair, with its root(s) from `data.roots`. */
export function prepareOptionsFor(d: PreparedDataConfig, name: DatasetName, model: MimanetConfig['model']): PrepareOptions {
  const geometry = { frames: model.frames, size: model.size, channels: model.channels as 1 | 3 };
  const base = { dataset: name, ...geometry, skipBad: d.skipBad };
  const missing = (key: string): never => {
    throw new Error(`no folder for ${key}: give it with --root ${key}=DIR or data.roots.${key} in the config`);
  };
  if (name === 'megc2019') {
    const roots = { smic: d.roots.smic ?? missing('smic'), casme2: d.roots.casme2 ?? missing('casme2'), samm: d.roots.samm ?? missing('samm') };
    return { ...base, roots, cacheDir: cacheDirFor(d.cacheDir, base) };
  }
  const root = d.roots[name] ?? missing(name);
  return { ...base, root, cacheDir: cacheDirFor(d.cacheDir, base) };
}

export async function loadPreparedPair(cfg: MimanetConfig): Promise<ExperimentData> {
  if (cfg.data.kind !== 'prepared') throw new Error('loadPreparedPair: the config names the synthetic dataset');
  const d = cfg.data;
  const microName = roleCheck(d.micro, 'micro');
  const macroName = roleCheck(d.macro, 'macro');
  const microOpts = prepareOptionsFor(d, microName, cfg.model);
  const macroOpts = prepareOptionsFor(d, macroName, cfg.model);
  const micro = await loadPreparedOrPrepare(microOpts);
  const macro = await loadPreparedOrPrepare(macroOpts);
  const scheme = getLabelScheme(microName).name;
  const macroToMicro = macroToMicroMap(micro.labels, macro.labels, scheme);
  return {
    micro,
    macro,
    macroToMicro,
    preprocessing: { kind: 'face-aligned', size: cfg.model.size, channels: cfg.model.channels, frames: cfg.model.frames, microCache: microOpts.cacheDir, macroCache: macroOpts.cacheDir },
  };
}
