/**
 * Loads the micro and macro clip sets an experiment trains on, from the
 * embedded synthetic generator or from prepared real datasets.
 */
import type { ClipSet, LeftOutClip } from './types.js';
import type { MimanetConfig } from '../config.js';
import { alignedRecipe, type PreprocessingRecipe } from './preprocess/recipe.js';
import { DEFAULT_CACHE_BASE } from '../config.js';

export interface ExperimentData {
  micro: ClipSet;
  macro: ClipSet;
  /** Macro class index -> micro class index, -1 for macro classes without a micro counterpart. */
  macroToMicro: number[];
  /** How the clips were made from raw frames, stored in checkpoints so `predict` and the browser repeat it. */
  preprocessing: PreprocessingRecipe;
  /** Clips of the datasets that are not used, with why (from the prepared caches). */
  leftOut?: LeftOutClip[];
  /** The cache folders of the prepared micro and macro sets (their flows are kept inside). */
  setDirs?: { micro: string; macro: string };
}

/** Checks a clip set before training: not empty, labels in range, geometry as the model expects. */
export function checkClipSet(set: ClipSet, role: string, model: MimanetConfig['model']): void {
  if (set.clips.length === 0) throw new Error(`${role} dataset "${set.name}" has no clips`);
  if (set.labels.length < 2) throw new Error(`${role} dataset "${set.name}" has ${set.labels.length} class(es); at least 2 are needed`);
  const geom = `${set.frames} frames of ${set.height}x${set.width}x${set.channels}`;
  const want = `${model.frames} frames of ${model.size}x${model.size}x${model.channels}`;
  if (set.frames !== model.frames || set.height !== model.size || set.width !== model.size || set.channels !== model.channels) {
    throw new Error(`${role} dataset "${set.name}" has ${geom}, the model config expects ${want} (model.frames, model.size, model.channels)`);
  }
  const seen = new Set<number>();
  for (const c of set.clips) {
    if (!Number.isInteger(c.label) || c.label < 0 || c.label >= set.labels.length) {
      throw new Error(`${role} dataset "${set.name}", clip ${c.id}: label ${c.label} is not a class index in [0, ${set.labels.length - 1}]`);
    }
    seen.add(c.label);
  }
  if (seen.size < 2) throw new Error(`${role} dataset "${set.name}": all clips have the same class "${set.labels[[...seen][0]]}"`);
}

export async function loadExperimentData(cfg: MimanetConfig, opts: { log?: (message: string) => void } = {}): Promise<ExperimentData> {
  let data: ExperimentData;
  if (cfg.data.kind === 'synthetic') {
    const { generateSynthetic } = await import('./synthetic/index.js');
    const options = { ...cfg.data.options, size: cfg.model.size, frames: cfg.model.frames, channels: cfg.model.channels };
    const synthetic = generateSynthetic(options);
    data = {
      micro: synthetic.micro,
      macro: synthetic.macro,
      macroToMicro: synthetic.macroToMicro,
      // synthetic faces are drawn aligned: frames only need resizing and channel conversion
      preprocessing: alignedRecipe(),
    };
  } else {
    const { loadPreparedPair } = await import('./prepared-pair.js');
    data = await loadPreparedPair(cfg, { log: opts.log });
  }
  checkClipSet(data.micro, 'micro', cfg.model);
  checkClipSet(data.macro, 'macro', cfg.model);
  if (data.macroToMicro.length !== data.macro.labels.length) {
    throw new Error(`label map has ${data.macroToMicro.length} entries for ${data.macro.labels.length} macro classes`);
  }
  if (cfg.model.input === 'flow') await attachExperimentFlows(cfg, data, opts.log ?? (() => {}));
  return data;
}

/** With `model.input: flow`: every clip's flow from the flow cache (computed where missing), and the flow recipe in the preprocessing recipe. */
async function attachExperimentFlows(cfg: MimanetConfig, data: ExperimentData, log: (m: string) => void): Promise<void> {
  const { flowRecipe } = await import('../motion/clip-flow.js');
  const { attachFlows, flowDirFor, syntheticSetDir } = await import('./flow-cache.js');
  const f = cfg.model.flow;
  if (!f) throw new Error('model.input is "flow" but model.flow is missing (resolveConfig fills it)');
  const recipe = flowRecipe(cfg.model.channels as 1 | 3, f.tvl1, f.strain);
  for (const role of ['micro', 'macro'] as const) {
    const set = data[role];
    let setDir: string;
    if (cfg.data.kind === 'synthetic') {
      const geometry = { size: cfg.model.size, frames: cfg.model.frames, channels: cfg.model.channels };
      setDir = syntheticSetDir(cfg.data.cacheDir ?? DEFAULT_CACHE_BASE, { options: cfg.data.options, ...geometry }, set.name);
    } else {
      if (!data.setDirs) throw new Error('prepared data without its cache folders');
      setDir = data.setDirs[role];
    }
    attachFlows(set, flowDirFor(setDir, set, recipe), recipe, log);
  }
  data.preprocessing = { ...data.preprocessing, flow: recipe };
}
