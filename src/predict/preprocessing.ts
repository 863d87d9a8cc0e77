/**
 * What a checkpoint says about the preprocessing its clips went through, so
 * that `predict` turns a new clip into the same kind of input.
 *
 * Stored in `mimanet.json` as `provenance.preprocessing`. The fields `predict` reads:
 *   { "align": "face", "resample": "linear", "eyeDistance": 0.33, "eyeY": 0.35 }   real datasets
 *   { "align": "none", "resample": "linear" }                                        synthetic data
 * Records that carry only the data loader's `kind` are understood too:
 * `"kind": "aligned"` (synthetic faces, drawn aligned) means align "none";
 * `"kind": "face-aligned"` means align "face", with the alignment settings read
 * from the micro clip cache's prepare.json (`microCache`) when it is there.
 */
import { join } from 'node:path';
import type { MimanetConfig } from '../config.js';
import type { CheckpointMeta } from '../model/checkpoint.js';
import { DEFAULT_EYE_DISTANCE, DEFAULT_EYE_Y } from '../data/preprocess/align.js';
import { DEFAULT_RESAMPLE, type ResampleMode } from '../data/preprocess/resample.js';
import { PREPARE_SETTINGS_FILE } from '../data/prepare.js';
import { readJsonIfExists } from '../util/fs.js';

export type AlignMode = 'face' | 'none';

export interface PreprocessingSpec {
  /**
   * 'face': detect the face and align it by the eyes (src/data/preprocess/pipeline.ts),
   * as `data prepare` does for real datasets. 'none': frames are face crops
   * already (synthetic data): only resized to the model's size and converted to its channels.
   */
  align: AlignMode;
  /** Temporal resampling of onset..apex to T frames. Default DEFAULT_RESAMPLE ('linear'). */
  resample: ResampleMode;
  /** Inter-ocular distance / width, when align = 'face'. Default DEFAULT_EYE_DISTANCE. */
  eyeDistance?: number;
  /** Eye line height / height, when align = 'face'. Default DEFAULT_EYE_Y. */
  eyeY?: number;
}

/** The data loader's `kind` values and the alignment they stand for. */
const KIND_ALIGN: Record<string, AlignMode> = { aligned: 'none', 'face-aligned': 'face' };

function isAlign(v: unknown): v is AlignMode {
  return v === 'face' || v === 'none';
}

function faceSpec(settings?: { resample?: unknown; eyeDistance?: unknown; eyeY?: unknown }): PreprocessingSpec {
  return {
    align: 'face',
    resample: settings?.resample === 'nearest' ? 'nearest' : DEFAULT_RESAMPLE,
    eyeDistance: typeof settings?.eyeDistance === 'number' ? settings.eyeDistance : DEFAULT_EYE_DISTANCE,
    eyeY: typeof settings?.eyeY === 'number' ? settings.eyeY : DEFAULT_EYE_Y,
  };
}

/**
 * The spec behind a preprocessing record (see the module comment); undefined
 * when the record says neither `align` nor a known `kind`.
 */
export function specFromRecord(rec: Record<string, unknown>, where: string): PreprocessingSpec | undefined {
  if (rec.align !== undefined) {
    if (!isAlign(rec.align)) throw new Error(`${where}: provenance.preprocessing.align is ${JSON.stringify(rec.align)}, expected "face" or "none"`);
    if (rec.resample !== undefined && rec.resample !== 'linear' && rec.resample !== 'nearest') {
      throw new Error(`${where}: provenance.preprocessing.resample is ${JSON.stringify(rec.resample)}, expected "linear" or "nearest"`);
    }
    for (const k of ['eyeDistance', 'eyeY'] as const) {
      if (rec[k] !== undefined && !(typeof rec[k] === 'number' && (rec[k] as number) > 0 && (rec[k] as number) < 1)) {
        throw new Error(`${where}: provenance.preprocessing.${k} is ${JSON.stringify(rec[k])}, expected a fraction in (0, 1)`);
      }
    }
    const resample = (rec.resample as ResampleMode | undefined) ?? DEFAULT_RESAMPLE;
    if (rec.align === 'none') return { align: 'none', resample };
    return { ...faceSpec(rec), resample };
  }
  if (rec.kind === undefined) return undefined;
  const align = typeof rec.kind === 'string' ? KIND_ALIGN[rec.kind] : undefined;
  if (!align) throw new Error(`${where}: provenance.preprocessing.kind is ${JSON.stringify(rec.kind)}, expected one of ${Object.keys(KIND_ALIGN).join(', ')}`);
  if (align === 'none') return { align: 'none', resample: DEFAULT_RESAMPLE };
  const cache = typeof rec.microCache === 'string' ? rec.microCache : undefined;
  let settings: Record<string, unknown> | undefined;
  try {
    settings = cache ? readJsonIfExists<Record<string, unknown>>(join(cache, PREPARE_SETTINGS_FILE)) : undefined;
  } catch {
    settings = undefined; // an unreadable cache record leaves the defaults `data prepare` uses
  }
  return faceSpec(settings);
}

/** The preprocessing behind the clips of a run with this config (when the data loader records nothing). */
export function preprocessingOf(cfg: Pick<MimanetConfig, 'data'>): PreprocessingSpec {
  if (cfg.data.kind === 'synthetic') return { align: 'none', resample: DEFAULT_RESAMPLE };
  return faceSpec();
}

/**
 * The record to store as `provenance.preprocessing`: the data loader's record
 * (if any) with the fields `predict` reads added, so the checkpoint says
 * everything without its clip cache.
 */
export function preprocessingRecord(loaderRecord: Record<string, unknown> | undefined, cfg: Pick<MimanetConfig, 'data'>): Record<string, unknown> {
  const spec = (loaderRecord && specFromRecord(loaderRecord, 'data loader')) ?? preprocessingOf(cfg);
  return { ...loaderRecord, ...spec };
}

/**
 * Reads the preprocessing from a checkpoint's provenance: `preprocessing`
 * when present, else the data kind of a saved config (`config.data.kind` or
 * `data.kind`). Returns undefined when the checkpoint does not say.
 */
export function preprocessingFromMeta(meta: CheckpointMeta, where: string): PreprocessingSpec | undefined {
  const prov = (meta.provenance ?? {}) as Record<string, unknown>;
  const p = prov.preprocessing;
  if (p !== undefined) {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new Error(`${where}: provenance.preprocessing is ${JSON.stringify(p)}, expected an object`);
    const spec = specFromRecord(p as Record<string, unknown>, where);
    if (spec) return spec;
  }
  const config = prov.config as { data?: { kind?: unknown } } | undefined;
  const data = prov.data as { kind?: unknown } | undefined;
  const kind = config?.data?.kind ?? data?.kind;
  if (kind === 'synthetic' || kind === 'prepared') return preprocessingOf({ data: { kind } as MimanetConfig['data'] });
  return undefined;
}
