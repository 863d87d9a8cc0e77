/**
 * Options of the synthetic data generator, their defaults and their one
 * validator; the class vocabularies of the two sets.
 */
import type { Emotion } from './faces.js';
/** Class names of the micro set (the MEGC 2019 composite's order). */
export const MICRO_LABELS = ['negative', 'positive', 'surprise'] as const;
/** Class names of the macro set, in CK+ order (CK+ codes 1..7). */
export const MACRO_LABELS = ['anger', 'contempt', 'disgust', 'fear', 'happiness', 'sadness', 'surprise'] as const;
/** Emotions pooled into the micro `negative` class. */
export const NEGATIVE_EMOTIONS: readonly Emotion[] = ['anger', 'contempt', 'disgust', 'fear', 'sadness'];
/**
 * Macro class -> micro class for L_con (docs/datasets.md, the CDE map): negative <- anger,
 * contempt, disgust, fear, sadness; positive <- happiness; surprise <- surprise.
 */
export const MACRO_TO_MICRO: readonly number[] = [0, 0, 0, 0, 1, 0, 2];
/** Class shares of the MEGC 2019 composite: 250 / 109 / 83 of 442 clips. */
export const CDE_CLASS_SHARES: readonly [number, number, number] = [250 / 442, 109 / 442, 83 / 442];

/** How clips of one set move and how noisy they are. Lengths are in face units (2 = frame width). */
export interface ExpressionSetConfig {
  /**
   * Apex AU amplitude as a fraction of the full (macro) amplitude. Micro default 0.5 (chosen with
   * 16 clips per subject so that the L_c row learns; docs/calibration.md), macro 1.0.
   */
  intensity: number;
  /** Per-clip intensity varies uniformly in intensity * [1 - j, 1 + j]. Micro default 0.3, macro 0.2. */
  intensityJitter: number;
  /** Std of per-pixel sensor noise in grey levels (0..255). Micro default 3, macro 2. */
  noise: number;
  /** Std of a per-frame global gain change (lamp flicker of high-speed cameras). Micro default 0.01, macro 0. */
  flicker: number;
  /** Std of the per-frame head translation (tremor), face units. Micro default 0.004, macro 0.006. */
  jitter: number;
  /** Per-clip face placement: translation up to +-placement and scale 1 +- placement/2. Micro default 0.03, macro 0.04. */
  placement: number;
  /** Motion starts after a uniform delay in [0, onsetDelay] of the clip. Micro default 0.3, macro 0.15. */
  onsetDelay: number;
  /**
   * Fraction of the frames after the onset that the ease to the apex takes; the rest hold the apex.
   * Models frame rate: micro clips (100-200 fps) ramp over the whole clip, CK+ (30 fps) reaches
   * the peak early. Micro default 1.0, macro 0.6.
   */
  rampDuration: number;
  /** Probability that a clip also shows one AU unrelated to its emotion. Micro default 0.3, macro 0.2. */
  nuisance: number;
}

export interface MicroSyntheticConfig extends ExpressionSetConfig {
  /** Number of micro sources; the first three are `synth-smic`, `synth-casme2`, `synth-samm`. Default 3. */
  sources: number;
  /** Subjects per source. Default 5 (with 3 sources: 15 subjects, 15 LOSO folds). */
  subjectsPerSource: number;
  /** Clips per subject. Default 16. */
  clipsPerSubject: number;
  /**
   * Shares of negative, positive, surprise (at least two positive). Default the composite's 250:109:83.
   * With few clips per subject the largest class is capped so every subject still shows two classes.
   */
  classShares: [number, number, number];
}

export interface MacroSyntheticConfig extends ExpressionSetConfig {
  /** Number of subjects. Default 32. */
  subjects: number;
  /** Clips per subject; each subject cycles through the seven classes. Default 7. */
  clipsPerSubject: number;
}

export interface SyntheticConfig {
  /** PRNG seed (integer). Default 1. */
  seed: number;
  /** Frame height = width in pixels. Default 32. */
  size: number;
  /** Frames per clip, onset to apex (T). Default 8. */
  frames: number;
  /** 1 (grey) or 3 (RGB). Default 1. */
  channels: number;
  micro: MicroSyntheticConfig;
  macro: MacroSyntheticConfig;
  /** Strength in [0, 1] of the macro appearance shift away from the micro cameras. Default 0.5. */
  gap: number;
}

export type SyntheticConfigInput = Partial<Omit<SyntheticConfig, 'micro' | 'macro'>> & {
  micro?: Partial<MicroSyntheticConfig>;
  macro?: Partial<MacroSyntheticConfig>;
};

/** Fields whose values a run takes from its model config (`model.size`, `model.frames`, `model.channels`). */
export const MODEL_GEOMETRY_FIELDS = ['size', 'frames', 'channels'] as const;

/** Generator options as a run config gives them (`data.options`): everything but the geometry. */
export type SyntheticOptions = Omit<SyntheticConfigInput, (typeof MODEL_GEOMETRY_FIELDS)[number]>;

export const DEFAULT_SYNTHETIC_CONFIG: SyntheticConfig = {
  seed: 1,
  size: 32,
  frames: 8,
  channels: 1,
  micro: {
    sources: 3,
    subjectsPerSource: 5,
    clipsPerSubject: 16,
    classShares: [...CDE_CLASS_SHARES],
    intensity: 0.5,
    intensityJitter: 0.3,
    noise: 3,
    flicker: 0.01,
    jitter: 0.004,
    placement: 0.03,
    onsetDelay: 0.3,
    rampDuration: 1,
    nuisance: 0.3,
  },
  macro: {
    subjects: 32,
    clipsPerSubject: 7,
    intensity: 1,
    intensityJitter: 0.2,
    noise: 2,
    flicker: 0,
    jitter: 0.006,
    placement: 0.04,
    onsetDelay: 0.15,
    rampDuration: 0.6,
    nuisance: 0.2,
  },
  gap: 0.5,
};

const SET_RANGES: Record<keyof ExpressionSetConfig, Range> = {
  intensity: [0, 2, false, true],
  intensityJitter: [0, 0.9],
  noise: [0, 64],
  flicker: [0, 0.2],
  jitter: [0, 0.1],
  placement: [0, 0.2],
  onsetDelay: [0, 0.9],
  rampDuration: [0, 1, false, true],
  nuisance: [0, 1],
};
const MICRO_RANGES: Record<Exclude<keyof MicroSyntheticConfig, keyof ExpressionSetConfig | 'classShares'>, Range> = {
  sources: [1, 26, true],
  subjectsPerSource: [1, 1000, true],
  clipsPerSubject: [1, 1000, true],
};
const MACRO_RANGES: Record<Exclude<keyof MacroSyntheticConfig, keyof ExpressionSetConfig>, Range> = {
  subjects: [1, 10000, true],
  clipsPerSubject: [1, 1000, true],
};
const TOP_RANGES: Record<'seed' | 'size' | 'frames' | 'gap', Range> = {
  seed: [-(2 ** 53), 2 ** 53, true],
  size: [8, 512, true],
  frames: [2, 256, true],
  gap: [0, 1],
};

/**
 * A bad or unknown generator option: `field` is its path (`micro.intensity`), `expected` undefined for
 * an unknown field; `scope` names the options (the clip sets' `synthetic config`, `long-video config`).
 */
export class SyntheticConfigError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly expected?: string,
    readonly scope = 'synthetic config',
  ) {
    super(expected === undefined ? `${scope}: unknown field "${field}"` : `${scope}: ${field} must be ${expected}, got ${typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value))}`);
    this.name = 'SyntheticConfigError';
  }
}

function fail(field: string, value: unknown, want: string, scope?: string): never {
  throw new SyntheticConfigError(field, value, want, scope);
}

/** [lo, hi, integer?, lo excluded?] */
export type Range = [lo: number, hi: number, integer?: boolean, loOpen?: boolean];

export function checkNumber(field: string, value: unknown, [lo, hi, integer, loOpen]: Range, scope?: string): number {
  const want = `${integer ? 'an integer' : 'a number'} in ${loOpen ? '(' : '['}${lo}, ${hi}]`;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(field, value, want, scope);
  if (integer && !Number.isInteger(value)) fail(field, value, want, scope);
  if (value < lo || value > hi || (loOpen && value === lo)) fail(field, value, want, scope);
  return value;
}

/** Fills `defaults` with the numeric fields of `input` (an object, or undefined) checked against `ranges`; `name` prefixes field paths. */
export function checkSection<T extends object>(
  name: string,
  input: unknown,
  defaults: T,
  ranges: Record<string, Range>,
  extra: (key: string, value: unknown) => unknown = (key) => {
    throw new SyntheticConfigError(name ? `${name}.${key}` : key, undefined, undefined, scope);
  },
  scope?: string,
): T {
  if (input === undefined) input = {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail(name || '(root)', input, 'an object', scope);
  const out = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (key in ranges) out[key] = checkNumber(name ? `${name}.${key}` : key, value, ranges[key], scope);
    else out[key] = extra(key, value);
  }
  return out as T;
}

/** Fills defaults into a partial config and checks every field; errors name the field and quote the value. */
export function validateSyntheticConfig(partial: SyntheticConfigInput = {}): SyntheticConfig {
  if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) fail('(root)', partial, 'an object');
  const d = DEFAULT_SYNTHETIC_CONFIG;
  const out: SyntheticConfig = {
    ...d,
    micro: { ...d.micro, classShares: [...d.micro.classShares] },
    macro: { ...d.macro },
  };
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined) continue;
    if (key === 'seed' || key === 'size' || key === 'frames' || key === 'gap') {
      out[key] = checkNumber(key, value, TOP_RANGES[key]);
    } else if (key === 'channels') {
      if (value !== 1 && value !== 3) fail('channels', value, '1 or 3');
      out.channels = value;
    } else if (key === 'micro') {
      out.micro = checkSection('micro', value, out.micro, { ...SET_RANGES, ...MICRO_RANGES }, (k, v) => {
        if (k !== 'classShares') throw new SyntheticConfigError(`micro.${k}`, v);
        const ok =
          Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0) && v.filter((x) => x > 0).length >= 2;
        if (!ok) fail('micro.classShares', v, 'three non-negative numbers, at least two of them positive');
        return [...(v as number[])];
      });
    } else if (key === 'macro') {
      out.macro = checkSection('macro', value, out.macro, { ...SET_RANGES, ...MACRO_RANGES });
    } else {
      throw new SyntheticConfigError(key, value);
    }
  }
  return out;
}

