/**
 * `mimanet.json`, the description beside a checkpoint's `model.json`: what it
 * holds and the one reader of it, shared by `predict` in Node and the browser
 * demo (no Node imports).
 */
import { INPUT_MODES, type InputMode, type Normalization } from '../data/batches.js';
import { checkpointRecipe, type PreprocessingRecipe } from '../data/preprocess/recipe.js';
import type { TemporalMode, TwoStreamConfig } from './twostream.js';

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
  provenance?: Record<string, unknown>;
}

function fail(file: string, field: string, value: unknown, want: string): never {
  throw new Error(`${file}: ${field} is ${JSON.stringify(value)}, expected ${want}`);
}

/** Checks the fields a reader relies on; errors name the file and the field and quote the value. */
export function parseCheckpointMeta(json: unknown, file = META_FILE): ParsedMeta {
  if (typeof json !== 'object' || json === null) fail(file, 'the content', json, 'an object');
  const m = json as Record<string, unknown>;
  if (m.format !== CHECKPOINT_FORMAT) fail(file, 'format', m.format, `"${CHECKPOINT_FORMAT}"`);
  const labels = m.labels;
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string')) fail(file, 'labels', labels, 'two or more class names');
  const net = m.net as Record<string, unknown> | undefined;
  if (typeof net !== 'object' || net === null) fail(file, 'net', net, 'an object');
  const posInt = (k: string): number => {
    const v = net[k];
    if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) fail(file, `net.${k}`, v, 'a positive integer');
    return v;
  };
  const size = posInt('size');
  const frames = posInt('frames');
  if (net.classes !== undefined) posInt('classes');
  const channels = net.channels;
  if (channels !== 1 && channels !== 3) fail(file, 'net.channels', channels, '1 or 3');
  const norm = m.normalization as Record<string, unknown> | undefined;
  if (typeof norm !== 'object' || norm === null) fail(file, 'normalization', norm, '{ mean, std }');
  for (const k of ['mean', 'std'] as const) {
    const v = norm[k];
    const ok = Array.isArray(v) && (v.length === 1 || v.length === channels) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!ok) fail(file, `normalization.${k}`, v, channels === 1 ? 'one number' : 'one or three numbers');
  }
  if ((norm.std as number[]).some((s) => s <= 0)) fail(file, 'normalization.std', norm.std, 'positive numbers');
  // absent in checkpoints older than the input modes: the frames as they are
  const input = norm.input ?? 'frames';
  if (!(INPUT_MODES as readonly unknown[]).includes(input)) fail(file, 'normalization.input', norm.input, `one of ${INPUT_MODES.join(', ')}`);
  return {
    labels: labels as string[],
    net: { ...(net as object), size, frames, channels } as ParsedMeta['net'],
    temporal: String(m.temporal ?? 'mean'),
    normalization: { mean: norm.mean as number[], std: norm.std as number[], input: input as InputMode },
    preprocessing: checkpointRecipe(m, file),
    provenance: m.provenance as Record<string, unknown> | undefined,
  };
}
