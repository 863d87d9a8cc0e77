/**
 * The experiment configuration: every knob of a run, with the paper's values
 * where the paper gives them and a stated choice where it does not. One
 * function, `resolveConfig`, validates a partial config and fills defaults; the
 * resolved config is saved with every result.
 */
import { LOSS_TERMS, PAPER_VARIANTS, parseLosses, type LossTerm, type LossWeights, DEFAULT_LOSS_WEIGHTS, type ContrastiveReduction, type ContrastiveDenominator } from './model/losses.js';
import { INPUT_MODES, type InputMode } from './data/batches.js';
import { checkIntervals } from './model/twostream.js';

export type Preset = 'quick' | 'paper';

/** Where prepared clips of real datasets are kept unless `data.cacheDir` / `--cache` says otherwise. */
export const DEFAULT_CACHE_BASE = '.cache/mimanet';
export type BackendSetting = 'auto' | 'tfjs-node' | 'wasm' | 'cpu' | (string & {});

export interface ModelConfig {
  /** Input height = width in pixels. The paper does not say; quick 32, paper 112. */
  size: number;
  /** 1 (grey) or 3 (RGB). Quick 1, paper 3. */
  channels: number;
  /** Frames per clip T, onset to apex. Quick 8, paper 16. */
  frames: number;
  /** ResNet18 width; 64 is the paper's ResNet18. Quick 8. */
  width: number;
  /** Number of sampling intervals s_c (s = 2^k, k < s_c). Default 3 (s = 1, 2, 4); quick 2. */
  sc: number;
  /** Frame features in each v(s), K. Default 4. */
  K: number;
  /** Channels of the three conv layers of D_s, D_t and C_s. Paper: unspecified; default [256, 128, 64], quick [32, 32, 32]. */
  headWidths: [number, number, number];
  /** Initial weights of both streams: 'scratch' (He initialisation) or 'imagenet:FILE' (torchvision/timm ResNet18 .safetensors, width 64); ImageNet weights bring ImageNet's mean and std. Default 'scratch'. */
  init: string;
  /** What the streams see: 'frames' (the paper) or 'onset-diff' (each frame minus the onset frame; a departure from the paper). Paper 'frames'. */
  input: InputMode;
}

export interface PretrainConfig {
  /** Epochs of MaNet pretraining on the macro data (L_c only). */
  manetEpochs: number;
  /** Epochs of MiNet pretraining on each fold's training subjects (L_c only). */
  minetEpochs: number;
  /** Adam learning rate. Default 1e-3. */
  lr: number;
  /** Clips per batch. Default 16. */
  batchSize: number;
}

export interface GrlConfig {
  /** 'dann': lambda ramps 2/(1+exp(-10p))-1 over fine-tuning progress p; 'constant': fixed. Default 'dann'. */
  schedule: 'dann' | 'constant';
  /** Maximum (or constant) reversal coefficient. Default 1. */
  lambda: number;
}

export interface FinetuneConfig {
  /** Epochs of guided fine-tuning (one epoch = one pass over the fold's micro training clips). */
  epochs: number;
  /** Adam learning rate of MiNet and the heads. Default 1e-4. */
  lr: number;
  /** Micro clips per minibatch n; each is paired with n macro clips (paper 2.5). Default 8. */
  n: number;
  /** Eq. 8 weights lambda_1..lambda_4. Default s = con = 0.1, sam = t = 0.2 (paper 3.1). */
  weights: LossWeights;
  /** Temperature tau of L_con. Paper: unspecified; default 0.1 (Khosla et al.'s value). */
  tau: number;
  /** 'mean' (default: scale independent of n) or 'sum' (Eq. 5 as written). */
  conReduction: ContrastiveReduction;
  /** D^j of Eq. 7: 'eq7' (u = j kept, as written; default) or 'supcon' (u = j left out). */
  conDenominator: ContrastiveDenominator;
  grl: GrlConfig;
}

export interface SyntheticDataConfig {
  kind: 'synthetic';
  /** Passed to the generator (src/data/synthetic.ts); size, frames and channels come from `model`. */
  options: Record<string, unknown>;
}

export interface PreparedDataConfig {
  kind: 'prepared';
  /** Micro dataset name (casme2, samm, smic, megc2019). */
  micro: string;
  /** Macro dataset name (ckplus, mmi). */
  macro: string;
  /** Label scheme of the micro dataset (casme2-5, casme2-7, samm-5, samm-8, smic-3, megc2019). Default: the dataset's usual task. */
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
  /** 'auto' picks the fastest present backend. */
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
  data: { kind: 'synthetic', options: { micro: { subjectsPerSource: 5, clipsPerSubject: 10 }, macro: { subjects: 32 } } },
  model: { size: 32, channels: 1, frames: 8, width: 8, sc: 2, K: 4, headWidths: [32, 32, 32], init: 'scratch', input: 'frames' },
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

function fail(field: string, value: unknown, expected: string): never {
  throw new ConfigError(`config field "${field}" is ${JSON.stringify(value)}: expected ${expected}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars in `over` replace those in `base`. */
function merge(base: unknown, over: unknown, path: string, known: boolean): unknown {
  if (over === undefined) return base;
  if (isObject(base) && isObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const p = path ? `${path}.${k}` : k;
      // free-form maps: generator options and dataset roots
      const freeForm = p === 'data.options' || p === 'data.roots' || p.startsWith('data.options.') || p.startsWith('data.roots.');
      if (!(k in base) && known && !freeForm && !(path === 'data')) throw new ConfigError(`unknown config field "${p}"`);
      out[k] = merge(base[k], v, p, known && !freeForm);
    }
    return out;
  }
  return over;
}

function int(field: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(field, v, `an integer in [${min}, ${max}]`);
  return v;
}

function num(field: string, v: unknown, min: number, max: number, openMin = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (openMin && v === min)) {
    fail(field, v, `a number in ${openMin ? '(' : '['}${min}, ${max}]`);
  }
  return v;
}

/** Validates a partial config over a preset and fills the defaults. Errors name the field and quote the bad value. */
export function resolveConfig(partial: DeepPartial<MimanetConfig> & { preset?: Preset } = {}): MimanetConfig {
  const presetName = partial.preset ?? 'quick';
  if (!(presetName in PRESETS)) fail('preset', presetName, `one of ${Object.keys(PRESETS).join(', ')}`);
  const base = PRESETS[presetName];
  let data: unknown = base.data;
  if (partial.data !== undefined) {
    if (!isObject(partial.data)) fail('data', partial.data, 'an object');
    const kind = partial.data.kind ?? 'synthetic';
    if (kind === 'synthetic') data = merge(base.data.kind === 'synthetic' ? base.data : { kind: 'synthetic', options: {} }, partial.data, 'data', true);
    else if (kind === 'prepared') data = merge({ kind: 'prepared', micro: '', macro: '', roots: {}, cacheDir: DEFAULT_CACHE_BASE, skipBad: false }, partial.data, 'data', true);
    else fail('data.kind', kind, '"synthetic" or "prepared"');
  }
  const { data: _d, ...rest } = partial;
  void _d;
  const c = merge(base, { ...rest, preset: presetName }, '', true) as MimanetConfig;
  c.data = data as MimanetConfig['data'];
  if (partial.out === undefined) c.out = `runs/${presetName}`;

  int('seed', c.seed, 0, 2 ** 32 - 1);
  int('seeds', c.seeds, 1, 100);
  if (typeof c.backend !== 'string' || c.backend.length === 0) fail('backend', c.backend, 'auto, tfjs-node, wasm or cpu');
  if (typeof c.out !== 'string' || c.out.length === 0) fail('out', c.out, 'a folder path');
  if (typeof c.flip !== 'boolean') fail('flip', c.flip, 'true or false');
  if (!Array.isArray(c.microTrainShares) || c.microTrainShares.length === 0) fail('microTrainShares', c.microTrainShares, 'a non-empty list of shares in (0, 1], e.g. [1, 0.5, 0.25]');
  c.microTrainShares.forEach((x, i) => num(`microTrainShares[${i}]`, x, 0, 1, true));
  if (new Set(c.microTrainShares).size !== c.microTrainShares.length) fail('microTrainShares', c.microTrainShares, 'distinct shares');
  if (!['none', 'last', 'all'].includes(c.foldCheckpoints)) fail('foldCheckpoints', c.foldCheckpoints, '"none", "last" or "all"');
  if (typeof c.embeddings !== 'boolean') fail('embeddings', c.embeddings, 'true or false');
  if (!Array.isArray(c.variants) || c.variants.length === 0) fail('variants', c.variants, `a non-empty list of loss sets such as [["c"], ["c","s","sam","t","con"]]`);
  c.variants = c.variants.map((v, i) => {
    try {
      return parseLosses(v as unknown as string[]);
    } catch (e) {
      throw new ConfigError(`config field "variants[${i}]": ${(e as Error).message}`);
    }
  });

  const m = c.model;
  int('model.size', m.size, 32, 1024);
  if (m.channels !== 1 && m.channels !== 3) fail('model.channels', m.channels, '1 or 3');
  int('model.frames', m.frames, 2, 512);
  int('model.width', m.width, 1, 512);
  int('model.sc', m.sc, 1, 8);
  int('model.K', m.K, 1, 512);
  if (!Array.isArray(m.headWidths) || m.headWidths.length !== 3) fail('model.headWidths', m.headWidths, 'three positive integers');
  m.headWidths.forEach((w, i) => int(`model.headWidths[${i}]`, w, 1, 4096));
  if (typeof m.init !== 'string' || !(m.init === 'scratch' || /^imagenet:.+/.test(m.init))) fail('model.init', m.init, '"scratch" or "imagenet:FILE"');
  if (!INPUT_MODES.includes(m.input)) fail('model.input', m.input, INPUT_MODES.map((x) => `"${x}"`).join(' or '));
  if (m.init.startsWith('imagenet:') && m.width !== 64) fail('model.width', m.width, '64 with model.init imagenet:FILE (ImageNet ResNet18 has width 64)');
  try {
    checkIntervals(m);
  } catch (e) {
    throw new ConfigError(`config fields "model.sc", "model.K", "model.frames": ${(e as Error).message}`);
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
  for (const k of ['s', 'sam', 't', 'con'] as const) num(`finetune.weights.${k}`, f.weights[k], 0, 1000);
  num('finetune.tau', f.tau, 0, 100, true);
  if (f.conReduction !== 'mean' && f.conReduction !== 'sum') fail('finetune.conReduction', f.conReduction, '"mean" or "sum"');
  if (f.conDenominator !== 'eq7' && f.conDenominator !== 'supcon') fail('finetune.conDenominator', f.conDenominator, '"eq7" or "supcon"');
  if (f.grl.schedule !== 'dann' && f.grl.schedule !== 'constant') fail('finetune.grl.schedule', f.grl.schedule, '"dann" or "constant"');
  num('finetune.grl.lambda', f.grl.lambda, 0, 1000);

  if (c.data.kind === 'prepared') {
    const d = c.data;
    if (typeof d.micro !== 'string' || !d.micro) fail('data.micro', d.micro, 'a micro dataset name (casme2, samm, smic, megc2019)');
    if (typeof d.macro !== 'string' || !d.macro) fail('data.macro', d.macro, 'a macro dataset name (ckplus, mmi)');
    if (!isObject(d.roots)) fail('data.roots', d.roots, 'an object of dataset name -> folder');
  } else if (!isObject(c.data.options)) {
    fail('data.options', c.data.options, 'an object of synthetic generator options');
  }
  return c;
}

/** Reads a JSON or YAML config file into a partial config. */
export async function readConfigFile(path: string): Promise<DeepPartial<MimanetConfig>> {
  const { readFileSync } = await import('node:fs');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
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
