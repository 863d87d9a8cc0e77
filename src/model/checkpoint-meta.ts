/**
 * `mimanet.json`, the description beside a checkpoint's `model.json`: what it
 * holds and the one reader of it, shared by `predict` in Node and the browser
 * demo (no Node imports).
 */
import { INPUT_MODES, type InputMode, type Normalization } from '../data/batches.js';
import { checkpointRecipe, type PreprocessingRecipe } from '../data/preprocess/recipe.js';
import type { TemporalMode, TwoStreamConfig } from './twostream.js';
import { finite, parseWith, z } from '../util/schema.js';

export const CHECKPOINT_FORMAT = 'mimanet-checkpoint';
export const META_FILE = 'mimanet.json';

/** What a checkpoint's `mimanet.json` says about the model. */
export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  /** Class names, index = output position. */
  labels: string[];
  net: TwoStreamConfig;
  temporal: TemporalMode;
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

/** `mimanet.json` as far as readers rely on it; the rest passes through. */
const MetaSchema = z
  .object({
    format: z.literal(CHECKPOINT_FORMAT),
    labels: z.array(z.string()).min(2, 'expected two or more class names'),
    net: z
      .object({ size: posInt, frames: posInt, classes: posInt.optional(), channels: z.number().refine((c): c is 1 | 3 => c === 1 || c === 3, 'expected 1 or 3') })
      .passthrough(),
    temporal: z.string().optional(),
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
    for (const k of ['mean', 'std'] as const) {
      const n = m.normalization[k].length;
      if (n !== 1 && n !== m.net.channels) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['normalization', k], message: m.net.channels === 1 ? 'expected one number' : 'expected one or three numbers' });
    }
  });

/** Checks the fields a reader relies on; errors name the file and the field and quote the value. */
export function parseCheckpointMeta(json: unknown, file = META_FILE): ParsedMeta {
  const m = parseWith(MetaSchema, json, file);
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
