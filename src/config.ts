/**
 * The experiment configuration: every knob of a run, with the paper's values
 * where the paper gives them and a stated choice where it does not. One
 * function, `resolveConfig`, validates a partial config and fills defaults; the
 * resolved config is saved with every result.
 */
import { LOSS_TERMS, PAPER_VARIANTS, parseLosses, type LossTerm, DEFAULT_LOSS_WEIGHTS } from './model/losses.js';
import { checkIntervals, NET_RANGES, type TwoStreamConfig } from './model/twostream.js';
import type { ClassifierTrainOptions } from './train/pretrain.js';
import type { FinetuneOptions, HeadWidths } from './train/finetune.js';
import { checkBackendChoice, type BackendChoice } from './backend/index.js';
import { INPUT_MODES, type InputMode } from './data/batches.js';
import { closest, quote } from './util/schema.js';
import { resolveTvl1Params, type Tvl1Params } from './motion/tvl1.js';
import { STRAIN_VARIANTS, type StrainVariant } from './motion/strain.js';
import { DEFAULT_SYNTHETIC_CONFIG, MODEL_GEOMETRY_FIELDS, SyntheticConfigError, validateSyntheticConfig, type SyntheticOptions } from './data/synthetic/config.js';

export type Preset = 'quick' | 'paper';

/** Where prepared clips of real datasets are kept unless `data.cacheDir` / `--cache` says otherwise. */
export const DEFAULT_CACHE_BASE = '.cache/mimanet';
/** The backend a run computes on: 'auto' picks the fastest present (src/backend/index.ts). */
export type BackendSetting = BackendChoice;

// The sections below take their fields, and those fields' documentation, from
// the options of the code they configure, so the two cannot drift apart.

/** The two-stream nets (src/model/twostream.ts; the data gives the number of classes) and their heads. */
export type ModelConfig = Omit<TwoStreamConfig, 'classes'> & {
  /** Channels of the three conv layers of D_s, D_t and C_s. Paper: unspecified; default [256, 128, 64], quick [32, 32, 32]. */
  headWidths: HeadWidths;
  /** Initial weights of both streams: 'scratch' (He initialisation) or 'imagenet:FILE' (torchvision/timm ResNet18 .safetensors, width 64); ImageNet weights bring ImageNet's mean and std. Default 'scratch'. */
  init: string;
  /**
   * What the streams see: 'frames' (the paper), 'onset-diff' (each frame minus the onset frame) or
   * 'flow' (TV-L1 flow from the onset to each frame and its optical strain: u, v, strain); the last
   * two are departures from the paper. Paper 'frames'.
   */
  input: InputMode;
  /** How the flow input is made and scaled; present only with input 'flow' (filled with its defaults then). */
  flow?: FlowInputConfig;
};

/** The flow input (`model.input: flow`; src/motion/clip-flow.ts). */
export interface FlowInputConfig {
  /** TV-L1 parameters (src/motion/tvl1.ts); each unset one takes OpenCV's DualTVL1 default (tau 0.25, lambda 0.15, theta 0.3, 5 scales, 5 warps, epsilon 0.01, 30 x 10 iterations, scale step 0.8, median 5). */
  tvl1: Tvl1Params;
  /** Derivatives of the optical strain (src/motion/strain.ts): 'central' (default) or 'forward'. */
  strain: StrainVariant;
  /**
   * Pixels of flow per unit of network input: u and v are divided by it. Default 0.1, about the
   * standard deviation of u and v on the quick preset's training clips (32 px faces; see
   * docs/calibration.md); larger faces move more pixels.
   */
  motionScale: number;
  /** Strain per unit of network input. Default 0.03, about its standard deviation on the same clips. */
  strainScale: number;
}

/** Defaults of {@link FlowInputConfig}. */
export const DEFAULT_FLOW_INPUT: Omit<FlowInputConfig, 'tvl1'> = { strain: 'central', motionScale: 0.1, strainScale: 0.03 };

/** Pretraining with L_c alone (src/train/pretrain.ts): MaNet once per seed, MiNet once per fold. */
export type PretrainConfig = Pick<ClassifierTrainOptions, 'lr' | 'batchSize'> & {
  /** Epochs of MaNet pretraining on the macro data. Quick 10, paper 20. */
  manetEpochs: number;
  /** Epochs of MiNet pretraining on each fold's training subjects. Quick 15, paper 30. */
  minetEpochs: number;
};

/** Guided fine-tuning, Eq. 8 (src/train/finetune.ts). */
export type FinetuneConfig = Pick<FinetuneOptions, 'epochs' | 'lr' | 'n' | 'weights' | 'tau' | 'conReduction' | 'conDenominator' | 'grl'>;
export type { GrlSchedule as GrlConfig } from './model/grl.js';

export interface SyntheticDataConfig {
  kind: 'synthetic';
  /** Generator options (src/data/synthetic/config.ts); size, frames and channels come from `model`. */
  options: SyntheticOptions;
  /** Where the optical flow of the synthetic clips is cached with `model.input: flow` (under `synthetic/`). Default `.cache/mimanet`. */
  cacheDir?: string;
}

export interface PreparedDataConfig {
  kind: 'prepared';
  /**
   * Micro dataset name (casme2, samm, smic, casme3, 4dme, megc2019), or a
   * composite: a list of them, written `smic,casme2,samm,casme3` or given as an
   * array in a config file (stored joined by commas).
   */
  micro: string;
  /** Macro dataset name (ckplus, mmi). */
  macro: string;
  /** Label scheme of the micro dataset (casme2-5, casme2-7, samm-5, samm-8, smic-3, megc2019, casme3-7, casme3-4, casme3-3, 4dme-5, 4dme-3, megc-3 for a list). Default: the dataset's usual task. */
  scheme?: string;
  /** Dataset roots by name (e.g. { casme2: "/data/CASME2", ckplus: "/data/CK+" }). */
  roots: Record<string, string>;
  /** Cache folder for prepared clips. Default `.cache/mimanet`. */
  cacheDir: string;
  /** Skip clips that cannot be prepared (reported) instead of stopping. Default false. */
  skipBad: boolean;
}

export interface MimanetConfig {
  /** Named preset the defaults came from. */
  preset: Preset;
  /** Base seed; seed i of `seeds` is seed + i. Default 1. */
  seed: number;
  /** How many times the whole protocol is repeated with different seeds. Default 1 (quick), 3 (paper). */
  seeds: number;
  /** 'auto' (default) picks the fastest present backend; or one of tfjs-node, native, wasm, cpu. */
  backend: BackendSetting;
  /** Output folder of results. Default `runs/<preset>`. */
  out: string;
  /** Ablation rows to run, each a set of loss terms; default the six rows of Tables 2 and 3. */
  variants: LossTerm[][];
  /** Mirror training clips left-right at random. Default true. */
  flip: boolean;
  /**
   * Shares of each fold's micro training subjects that MiNet's pretraining and
   * fine-tuning use, one set of rows per share (a seeded draw of subjects per
   * seed and fold; the macro data and the test subject are unchanged): the
   * sample-efficiency experiment. Default [1].
   */
  microTrainShares: number[];
  /** Which fine-tuned fold MiNets to save as checkpoints: 'none', 'last' (the last row, by default the full method) or 'all'. Default 'last'. */
  foldCheckpoints: 'none' | 'last' | 'all';
  /** Save MiNet and MaNet features of the first fold before and after guided fine-tuning (report embeddings). Default true. */
  embeddings: boolean;
  data: SyntheticDataConfig | PreparedDataConfig;
  model: ModelConfig;
  pretrain: PretrainConfig;
  finetune: FinetuneConfig;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends Array<unknown> ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

const QUICK: MimanetConfig = {
  preset: 'quick',
  seed: 1,
  seeds: 1,
  backend: 'auto',
  out: 'runs/quick',
  variants: PAPER_VARIANTS,
  flip: true,
  microTrainShares: [1],
  foldCheckpoints: 'last',
  embeddings: true,
  // the generator's default counts and micro intensity, spelled out so that config.json says what data a run had;
  // they and the onset-diff input were frozen by calibrating the L_c row alone (docs/calibration.md, run c05)
  data: {
    kind: 'synthetic',
    options: {
      micro: { subjectsPerSource: DEFAULT_SYNTHETIC_CONFIG.micro.subjectsPerSource, clipsPerSubject: DEFAULT_SYNTHETIC_CONFIG.micro.clipsPerSubject, intensity: DEFAULT_SYNTHETIC_CONFIG.micro.intensity },
      macro: { subjects: DEFAULT_SYNTHETIC_CONFIG.macro.subjects },
    },
  },
  model: { size: 32, channels: 1, frames: 8, width: 8, sc: 2, K: 4, headWidths: [32, 32, 32], init: 'scratch', input: 'onset-diff' },
  pretrain: { manetEpochs: 10, minetEpochs: 15, lr: 1e-3, batchSize: 16 },
  finetune: {
    epochs: 4,
    lr: 3e-4,
    n: 8,
    weights: { ...DEFAULT_LOSS_WEIGHTS },
    tau: 0.1,
    conReduction: 'mean',
    conDenominator: 'eq7',
    grl: { schedule: 'dann', lambda: 1 },
  },
};

const PAPER: MimanetConfig = {
  ...QUICK,
  preset: 'paper',
  seeds: 3,
  out: 'runs/paper',
  model: { size: 112, channels: 3, frames: 16, width: 64, sc: 3, K: 4, headWidths: [256, 128, 64], init: 'scratch', input: 'frames' },
  pretrain: { manetEpochs: 20, minetEpochs: 30, lr: 1e-3, batchSize: 16 },
  finetune: { ...QUICK.finetune, epochs: 20, lr: 1e-4, weights: { ...DEFAULT_LOSS_WEIGHTS } },
};

export const PRESETS: Record<Preset, MimanetConfig> = { quick: QUICK, paper: PAPER };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * The problems one config has: resolveConfig records every one it finds and
 * reports them together, so a config needs one round of fixes, not one per field.
 */
class Problems {
  readonly list: string[] = [];

  bad(field: string, value: unknown, expected: string): void {
    this.list.push(`config field "${field}" is ${quote(value)}: expected ${expected}`);
  }

  /** An unknown field, with the known field its name is closest to. */
  unknown(path: string, known: readonly string[]): void {
    const name = path.slice(path.lastIndexOf('.') + 1);
    const parent = path.slice(0, Math.max(0, path.lastIndexOf('.')));
    // siblings first, then any field of the config by its last name (`finetune.lamda` -> `finetune.grl.lambda`)
    const siblings = known.filter((k) => k.slice(0, Math.max(0, k.lastIndexOf('.'))) === parent);
    const leaf = (k: string): string => k.slice(k.lastIndexOf('.') + 1);
    const guess = closest(name, siblings, leaf) ?? closest(name, known, leaf);
    this.list.push(`unknown config field "${path}"${guess ? ` (did you mean "${guess}"?)` : ''}`);
  }

  add(message: string): void {
    this.list.push(message);
  }

  /** Throws one ConfigError with every problem, one a line. */
  throwIfAny(): void {
    const n = this.list.length;
    if (n === 1) throw new ConfigError(this.list[0]);
    if (n > 1) throw new ConfigError(`${n} problems in the config:\n${this.list.map((l) => `  ${l}`).join('\n')}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Free-form maps of the config, whose keys are not field names: generator options (checked by the generator) and dataset roots. */
function isFreeForm(path: string): boolean {
  return path === 'data.options' || path === 'data.roots' || path.startsWith('data.options.') || path.startsWith('data.roots.');
}

/** Every field path of a config object (`model.width`, `finetune.grl.lambda`), for suggestions. */
function fieldPaths(v: unknown, path = ''): string[] {
  if (!isObject(v) || isFreeForm(path)) return path ? [path] : [];
  return [...(path ? [path] : []), ...Object.entries(v).flatMap(([k, x]) => fieldPaths(x, path ? `${path}.${k}` : k))];
}

/** Deep merge of plain objects; arrays and scalars in `over` replace those in `base`. Unknown fields are recorded and left out. */
function merge(base: unknown, over: unknown, path: string, known: boolean, problems: Problems, fields: readonly string[]): unknown {
  if (over === undefined) return base;
  if (isObject(base) && isObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const p = path ? `${path}.${k}` : k;
      const freeForm = isFreeForm(p);
      if (!(k in base) && known && !freeForm && !(path === 'data')) {
        problems.unknown(p, fields);
        continue;
      }
      out[k] = merge(base[k], v, p, known && !freeForm, problems, fields);
    }
    return out;
  }
  return over;
}

/** Validates a partial config over a preset and fills the defaults. Every problem is reported at once; each names the field and quotes the bad value. */
export function resolveConfig(partial: DeepPartial<MimanetConfig> & { preset?: Preset } = {}): MimanetConfig {
  const problems = new Problems();
  const bad = problems.bad.bind(problems);
  const int = (field: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(field, v, `an integer in [${min}, ${max}]`);
  };
  const num = (field: string, v: unknown, min: number, max: number, openMin = false): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (openMin && v === min)) bad(field, v, `a number in ${openMin ? '(' : '['}${min}, ${max}]`);
  };

  let presetName = partial.preset ?? 'quick';
  if (!(presetName in PRESETS)) {
    bad('preset', presetName, `one of ${Object.keys(PRESETS).join(', ')}`);
    presetName = 'quick'; // check the rest against the default preset
  }
  const base = PRESETS[presetName];
  const fields = [...fieldPaths(base), ...fieldPaths(PREPARED_DATA_DEFAULTS, 'data')];
  // a section given as null or a scalar (YAML `model:` with nothing under it) is named, not crashed on
  const sections: Record<string, unknown> = { ...partial };
  for (const [k, v] of Object.entries(partial)) {
    if (isObject((base as unknown as Record<string, unknown>)[k]) && v !== undefined && !isObject(v)) {
      bad(k, v, 'an object');
      delete sections[k];
    }
  }
  let data: unknown = base.data;
  if (isObject(sections.data)) {
    const given = sections.data as Record<string, unknown>;
    const kind = given.kind ?? 'synthetic';
    if (kind === 'synthetic') data = merge(base.data.kind === 'synthetic' ? base.data : { kind: 'synthetic', options: {} }, given, 'data', true, problems, fields);
    else if (kind === 'prepared') data = merge(PREPARED_DATA_DEFAULTS, given, 'data', true, problems, fields);
    else bad('data.kind', kind, '"synthetic" or "prepared"');
  }
  const { data: _d, ...rest } = sections;
  void _d;
  // model.flow exists only with input "flow", so the presets do not carry it: take it out of the merge
  let flowPartial: unknown;
  if (isObject(rest.model) && 'flow' in rest.model) {
    const { flow, ...model } = rest.model as Record<string, unknown>;
    flowPartial = flow;
    (rest as Record<string, unknown>).model = model;
  }
  const c = merge(base, { ...rest, preset: presetName }, '', true, problems, fields) as MimanetConfig;
  c.data = data as MimanetConfig['data'];
  if (partial.out === undefined) c.out = `runs/${presetName}`;

  int('seed', c.seed, 0, 2 ** 32 - 1);
  int('seeds', c.seeds, 1, 100);
  try {
    checkBackendChoice(c.backend);
  } catch (e) {
    problems.add(`config field "backend": ${(e as Error).message}`);
  }
  if (typeof c.out !== 'string' || c.out.length === 0) bad('out', c.out, 'a folder path');
  if (typeof c.flip !== 'boolean') bad('flip', c.flip, 'true or false');
  if (!Array.isArray(c.microTrainShares) || c.microTrainShares.length === 0) bad('microTrainShares', c.microTrainShares, 'a non-empty list of shares in (0, 1], e.g. [1, 0.5, 0.25]');
  else {
    c.microTrainShares.forEach((x, i) => num(`microTrainShares[${i}]`, x, 0, 1, true));
    if (new Set(c.microTrainShares).size !== c.microTrainShares.length) bad('microTrainShares', c.microTrainShares, 'distinct shares');
  }
  if (!['none', 'last', 'all'].includes(c.foldCheckpoints)) bad('foldCheckpoints', c.foldCheckpoints, '"none", "last" or "all"');
  if (typeof c.embeddings !== 'boolean') bad('embeddings', c.embeddings, 'true or false');
  if (!Array.isArray(c.variants) || c.variants.length === 0) bad('variants', c.variants, `a non-empty list of loss sets such as [["c"], ["c","s","sam","t","con"]]`);
  else {
    c.variants = c.variants.map((v, i) => {
      try {
        return parseLosses(v as unknown as string[]);
      } catch (e) {
        problems.add(`config field "variants[${i}]": ${(e as Error).message}`);
        return v;
      }
    });
  }

  const m = c.model;
  const before = problems.list.length;
  int('model.size', m.size, ...NET_RANGES.size);
  if (m.channels !== 1 && m.channels !== 3) bad('model.channels', m.channels, '1 or 3');
  for (const k of ['frames', 'width', 'sc', 'K'] as const) {
    const [lo, hi] = NET_RANGES[k];
    int(`model.${k}`, m[k], lo, hi);
  }
  const netOk = problems.list.length === before;
  if (!Array.isArray(m.headWidths) || m.headWidths.length !== 3) bad('model.headWidths', m.headWidths, 'three positive integers');
  else m.headWidths.forEach((w, i) => int(`model.headWidths[${i}]`, w, 1, 4096));
  if (typeof m.init !== 'string' || !(m.init === 'scratch' || /^imagenet:.+/.test(m.init))) bad('model.init', m.init, '"scratch" or "imagenet:FILE"');
  else if (m.init.startsWith('imagenet:') && m.width !== 64) bad('model.width', m.width, '64 with model.init imagenet:FILE (ImageNet ResNet18 has width 64)');
  if (!INPUT_MODES.includes(m.input)) bad('model.input', m.input, INPUT_MODES.map((x) => `"${x}"`).join(' or '));
  if (m.input === 'flow') m.flow = resolveFlowInput(flowPartial, problems);
  else if (flowPartial !== undefined) bad('model.flow', flowPartial, 'no value: it applies only with model.input "flow"');
  if (netOk) {
    try {
      checkIntervals(m);
    } catch (e) {
      problems.add(`config fields "model.sc", "model.K", "model.frames": ${(e as Error).message}`);
    }
  }

  const p = c.pretrain;
  int('pretrain.manetEpochs', p.manetEpochs, 0, 10000);
  int('pretrain.minetEpochs', p.minetEpochs, 0, 10000);
  num('pretrain.lr', p.lr, 0, 10, true);
  int('pretrain.batchSize', p.batchSize, 1, 4096);

  const f = c.finetune;
  int('finetune.epochs', f.epochs, 0, 10000);
  num('finetune.lr', f.lr, 0, 10, true);
  int('finetune.n', f.n, 2, 4096);
  if (isObject(f.weights)) for (const k of ['s', 'sam', 't', 'con'] as const) num(`finetune.weights.${k}`, f.weights[k], 0, 1000);
  else bad('finetune.weights', f.weights, 'an object');
  num('finetune.tau', f.tau, 0, 100, true);
  if (f.conReduction !== 'mean' && f.conReduction !== 'sum') bad('finetune.conReduction', f.conReduction, '"mean" or "sum"');
  if (f.conDenominator !== 'eq7' && f.conDenominator !== 'supcon') bad('finetune.conDenominator', f.conDenominator, '"eq7" or "supcon"');
  if (isObject(f.grl)) {
    if (f.grl.schedule !== 'dann' && f.grl.schedule !== 'constant') bad('finetune.grl.schedule', f.grl.schedule, '"dann" or "constant"');
    num('finetune.grl.lambda', f.grl.lambda, 0, 1000);
  } else bad('finetune.grl', f.grl, 'an object');

  if (c.data?.kind === 'prepared') {
    const d = c.data;
    const micro = d.micro as unknown;
    if (Array.isArray(micro)) {
      if (micro.length === 0 || !micro.every((x) => typeof x === 'string' && x !== '')) bad('data.micro', micro, 'a list of micro dataset names, e.g. [smic, casme2, samm, casme3]');
      else d.micro = micro.join(',');
    } else if (typeof d.micro !== 'string' || !d.micro) bad('data.micro', d.micro, 'a micro dataset name (casme2, samm, smic, casme3, 4dme, megc2019) or a list of them');
    if (typeof d.macro !== 'string' || !d.macro) bad('data.macro', d.macro, 'a macro dataset name (ckplus, mmi)');
    if (!isObject(d.roots)) bad('data.roots', d.roots, 'an object of dataset name -> folder');
  } else if (c.data?.kind === 'synthetic' && netOk) {
    checkSyntheticOptions(c.data.options, m, problems);
    if (c.data.cacheDir !== undefined && (typeof c.data.cacheDir !== 'string' || c.data.cacheDir === '')) bad('data.cacheDir', c.data.cacheDir, 'a folder path');
  }
  problems.throwIfAny();
  return c;
}

/** The fields of `data` for real datasets, with their defaults. */
const PREPARED_DATA_DEFAULTS: Omit<PreparedDataConfig, 'scheme'> = { kind: 'prepared', micro: '', macro: '', roots: {}, cacheDir: DEFAULT_CACHE_BASE, skipBad: false };

/** Checks the generator options of `data.options` against the generator's own rules (it stops at its first problem); the geometry comes from `model`. */
function checkSyntheticOptions(options: unknown, model: ModelConfig, problems: Problems): void {
  if (!isObject(options)) return problems.bad('data.options', options, 'an object of synthetic generator options');
  for (const k of MODEL_GEOMETRY_FIELDS) {
    if (k in options) return problems.bad(`data.options.${k}`, options[k], `no value here: it comes from model.${k}`);
  }
  try {
    validateSyntheticConfig({ ...options, size: model.size, frames: model.frames, channels: model.channels });
  } catch (e) {
    if (!(e instanceof SyntheticConfigError)) throw e;
    if (e.expected === undefined) {
      const geometry: readonly string[] = MODEL_GEOMETRY_FIELDS;
      const known = fieldPaths(DEFAULT_SYNTHETIC_CONFIG).filter((k) => !geometry.includes(k)).map((k) => `data.options.${k}`);
      problems.unknown(`data.options.${e.field}`, known);
    } else problems.bad(`data.options.${e.field}`, e.value, e.expected);
  }
}

/** Largest config file read: a config is a few kB, and YAML takes far more memory than its text. */
export const CONFIG_FILE_LIMIT = 2 ** 20;

/** Fills and checks `model.flow`, recording what is wrong in `problems` (the defaults stand in for bad values). */
function resolveFlowInput(partial: unknown, problems: Problems): FlowInputConfig {
  if (partial === undefined || partial === null) partial = {};
  if (!isObject(partial)) {
    problems.bad('model.flow', partial, 'an object (tvl1, strain, motionScale, strainScale)');
    partial = {};
  }
  const fields = ['tvl1', 'strain', 'motionScale', 'strainScale'];
  for (const k of Object.keys(partial as object)) if (!fields.includes(k)) problems.unknown(`model.flow.${k}`, fields.map((x) => `model.flow.${x}`));
  const f = { ...DEFAULT_FLOW_INPUT, ...(partial as object) } as Record<string, unknown>;
  let tvl1: Tvl1Params = resolveTvl1Params({});
  if (f.tvl1 !== undefined && !isObject(f.tvl1)) problems.bad('model.flow.tvl1', f.tvl1, 'an object of TV-L1 parameters');
  else {
    try {
      tvl1 = resolveTvl1Params((f.tvl1 ?? {}) as Partial<Tvl1Params>, 'config field "model.flow.tvl1"');
    } catch (e) {
      problems.list.push((e as Error).message);
    }
  }
  if (!STRAIN_VARIANTS.includes(f.strain as StrainVariant)) problems.bad('model.flow.strain', f.strain, '"central" or "forward"');
  for (const k of ['motionScale', 'strainScale'] as const) {
    const v = f[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 1000) problems.bad(`model.flow.${k}`, v, 'a number in (0, 1000]');
  }
  return { tvl1, strain: f.strain as StrainVariant, motionScale: f.motionScale as number, strainScale: f.strainScale as number };
}

/** Reads a JSON or YAML config file into a partial config. */
export async function readConfigFile(path: string): Promise<DeepPartial<MimanetConfig>> {
  const { readTextFile } = await import('./util/fs.js');
  let text: string;
  try {
    text = readTextFile(path, CONFIG_FILE_LIMIT, 'a config file', `config file ${path}`);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  let parsed: unknown;
  try {
    if (/\.ya?ml$/i.test(path)) {
      const YAML = await import('yaml');
      parsed = YAML.parse(text);
    } else {
      parsed = JSON.parse(text);
    }
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(e as Error).message}`);
  }
  if (!isObject(parsed)) throw new ConfigError(`config file ${path}: expected an object at the top level, got ${JSON.stringify(parsed)}`);
  return parsed as DeepPartial<MimanetConfig>;
}

export { LOSS_TERMS };
