/**
 * `mimanet.json`, the description beside a checkpoint's `model.json`: what it
 * holds and the one reader of it, shared by `predict` in Node and the browser
 * demo (no Node imports).
 */
import { INPUT_MODES, type InputMode, type Normalization } from '../data/batches.js';
import { checkpointRecipe, type PreprocessingRecipe } from '../data/preprocess/recipe.js';
import { checkIntervals, NET_RANGES, type TemporalMode, type TwoStreamConfig } from './twostream.js';
import { finite, parseWith, z } from '../util/schema.js';

export const CHECKPOINT_FORMAT = 'mimanet-checkpoint';
export const META_FILE = 'mimanet.json';

/**
 * Version of how the saved graph forms the evaluation-time v in 'intervals' mode, written as
 * `aggregationVersion`: 1 (absent in the file) was one centred window per s; 2 is the
 * expectation over every window start (`temporalFrameWeights`). The layer takes its weights
 * from the running code, so a checkpoint of another version would score differently from how
 * it was evaluated; readers refuse it. 'mean' checkpoints are the same under both.
 */
export const AGGREGATION_VERSION = 2;

/** What a checkpoint's `mimanet.json` says about the model. */
export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  /** Class names, index = output position. */
  labels: string[];
  net: TwoStreamConfig;
  temporal: TemporalMode;
  /** {@link AGGREGATION_VERSION} of the code that saved it; absent in checkpoints of version 1. */
  aggregationVersion?: number;
  normalization: Normalization;
  /**
   * How raw frames become the model's input clip (src/data/preprocess/recipe.ts).
   * Older checkpoints keep it under `provenance.preprocessing`; {@link parseCheckpointMeta} reads both.
   */
  preprocessing?: PreprocessingRecipe;
  /** Free-form provenance: dataset, config fingerprint, fold, date. */
  provenance?: Record<string, unknown>;
  /** sha256 of weights.bin, checked on loading (absent in older checkpoints). */
  weightsSha256?: string;
}

/** `mimanet.json` as read back: the fields checked, the preprocessing recipe resolved from any of its dialects. */
export interface ParsedMeta {
  labels: string[];
  /** Input geometry (always) and the rest of the net's config (when the file has it). */
  net: Partial<TwoStreamConfig> & { size: number; channels: 1 | 3; frames: number };
  temporal: string;
  normalization: Normalization;
  /** Undefined when the checkpoint does not say how its clips were made. */
  preprocessing?: PreprocessingRecipe;
  /**
   * Channels of the frames a clip is prepared with: the net's input channels, except with the flow
   * input, where the net sees u, v, strain computed from frames of `preprocessing.flow.channels`.
   */
  frameChannels: 1 | 3;
  provenance?: Record<string, unknown>;
}

const posInt = z.number().int().positive();

/**
 * A weight file as `model.json` may name it: a relative path of plain names
 * (letters, digits, `.`, `_`, `-`) that stays inside the model folder. No
 * `..`, no absolute path or URL, no `%` (a browser would decode `%2e%2e`).
 */
export const WEIGHT_PATH = z
  .string()
  .refine((p) => /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(p) && !p.split('/').some((seg) => seg === '.' || seg === '..'), 'expected a file name inside the model folder');

/** An integer in [lo, hi], the error saying so. */
function intIn([lo, hi]: readonly [number, number]): z.ZodNumber {
  const expected = `expected an integer in [${lo}, ${hi}]`;
  return z.number().int(expected).min(lo, expected).max(hi, expected);
}

/** `mimanet.json` as far as readers rely on it; the rest passes through. */
const MetaSchema = z
  .object({
    format: z.literal(CHECKPOINT_FORMAT),
    version: z.literal(1),
    labels: z.array(z.string()).min(2, 'expected two or more class names'),
    net: z
      .object({
        size: intIn(NET_RANGES.size),
        frames: intIn(NET_RANGES.frames),
        classes: posInt.optional(),
        channels: z.number().refine((c): c is 1 | 3 => c === 1 || c === 3, 'expected 1 or 3'),
        // the rest of the net's shape, where the file has it (the layers in model.json are built from it)
        width: intIn(NET_RANGES.width).optional(),
        sc: intIn(NET_RANGES.sc).optional(),
        K: intIn(NET_RANGES.K).optional(),
      })
      .passthrough(),
    temporal: z.string().optional(),
    aggregationVersion: posInt.optional(),
    normalization: z.object({
      mean: z.array(finite).min(1).max(3),
      std: z.array(finite.positive('expected a positive number')).min(1).max(3),
      // absent in checkpoints older than the input modes: the frames as they are
      input: z.enum(INPUT_MODES as unknown as [InputMode, ...InputMode[]]).optional(),
    }),
    provenance: z.record(z.unknown()).optional(),
    weightsSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  })
  .passthrough()
  .superRefine((m, ctx) => {
    if (m.net.sc !== undefined && m.net.K !== undefined) {
      try {
        checkIntervals({ sc: m.net.sc, K: m.net.K, frames: m.net.frames });
      } catch (e) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['net', 'K'], message: (e as Error).message });
      }
    }
    for (const k of ['mean', 'std'] as const) {
      const n = m.normalization[k].length;
      if (n !== 1 && n !== m.net.channels) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['normalization', k], message: m.net.channels === 1 ? 'expected one number' : 'expected one or three numbers' });
    }
  });

/** Checks the fields a reader relies on; errors name the file and the field and quote the value. */
export function parseCheckpointMeta(json: unknown, file = META_FILE): ParsedMeta {
  const m = parseWith(MetaSchema, json, file);
  checkAggregation(m.temporal ?? 'mean', m.aggregationVersion, file);
  const preprocessing = checkpointRecipe(m, file);
  const input = (m.normalization.input ?? 'frames') as InputMode;
  if (input === 'flow') {
    if (!preprocessing?.flow) throw new Error(`${file}: normalization.input is "flow" but preprocessing.flow is missing (how to compute the flow)`);
    if (m.net.channels !== 3) throw new Error(`${file}: net.channels is ${m.net.channels} with the flow input, expected 3 (u, v, strain)`);
  }
  return {
    labels: m.labels,
    net: m.net as ParsedMeta['net'],
    temporal: m.temporal ?? 'mean',
    normalization: { mean: m.normalization.mean, std: m.normalization.std, input },
    preprocessing,
    frameChannels: input === 'flow' ? preprocessing!.flow!.channels : (m.net.channels as 1 | 3),
    provenance: m.provenance,
  };
}

/** Refuses an 'intervals' checkpoint whose evaluation-time aggregation is not this code's. */
function checkAggregation(temporal: string, version: number | undefined, file: string): void {
  if (temporal !== 'intervals') return;
  const v = version ?? 1;
  if (v === AGGREGATION_VERSION) return;
  const how = v === 1 ? 'one centred window per interval s (aggregationVersion absent, i.e. 1)' : `aggregationVersion ${v}, newer than this mimanet's`;
  throw new Error(
    `${file}: the checkpoint forms its video feature v with ${how}; this version of mimanet averages v over every window start ` +
      `(aggregationVersion ${AGGREGATION_VERSION}) and would score it differently from how it was evaluated. ` +
      (v === 1 ? 'Train it again with this version (mimanet train, or mimanet run with fold checkpoints).' : 'Load it with the mimanet that saved it.'),
  );
}
