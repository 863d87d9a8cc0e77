/**
 * What a checkpoint says about the preprocessing its clips went through, so
 * that `predict` turns a new clip into the same kind of input.
 *
 * Stored in `mimanet.json` as `provenance.preprocessing`:
 *   { "align": "face", "resample": "linear", "eyeDistance": 0.33, "eyeY": 0.35 }   real datasets
 *   { "align": "none", "resample": "linear" }                                        synthetic data
 */
import type { MimanetConfig } from '../config.js';
import type { CheckpointMeta } from '../model/checkpoint.js';
import { DEFAULT_EYE_DISTANCE, DEFAULT_EYE_Y } from '../data/preprocess/align.js';
import { DEFAULT_RESAMPLE, type ResampleMode } from '../data/preprocess/resample.js';

export type AlignMode = 'face' | 'none';

export interface PreprocessingSpec {
  /**
   * 'face': detect the face and align it by the eyes (src/data/preprocess/pipeline.ts),
   * as `data prepare` does for real datasets. 'none': frames are face crops
   * already (synthetic data): only resized to the model's size and converted to its channels.
   */
  align: AlignMode;
  /** Temporal resampling of onset..apex to T frames. Default {@link DEFAULT_RESAMPLE}. */
  resample: ResampleMode;
  /** Inter-ocular distance / width, when align = 'face'. Default DEFAULT_EYE_DISTANCE. */
  eyeDistance?: number;
  /** Eye line height / height, when align = 'face'. Default DEFAULT_EYE_Y. */
  eyeY?: number;
}

/** The preprocessing behind the clips of a run with this config. */
export function preprocessingOf(cfg: Pick<MimanetConfig, 'data'>): PreprocessingSpec {
  if (cfg.data.kind === 'synthetic') return { align: 'none', resample: DEFAULT_RESAMPLE };
  return { align: 'face', resample: DEFAULT_RESAMPLE, eyeDistance: DEFAULT_EYE_DISTANCE, eyeY: DEFAULT_EYE_Y };
}

function isAlign(v: unknown): v is AlignMode {
  return v === 'face' || v === 'none';
}

/**
 * Reads the preprocessing from a checkpoint's provenance: `preprocessing`
 * when present, else the data kind of a saved config (`config.data.kind` or
 * `data.kind`). Returns undefined when the checkpoint does not say.
 */
export function preprocessingFromMeta(meta: CheckpointMeta, where: string): PreprocessingSpec | undefined {
  const prov = (meta.provenance ?? {}) as Record<string, unknown>;
  const p = prov.preprocessing as Partial<PreprocessingSpec> | undefined;
  if (p !== undefined) {
    if (typeof p !== 'object' || p === null || !isAlign(p.align)) {
      throw new Error(`${where}: provenance.preprocessing.align is ${JSON.stringify((p as { align?: unknown } | null)?.align)}, expected "face" or "none"`);
    }
    if (p.resample !== undefined && p.resample !== 'linear' && p.resample !== 'nearest') {
      throw new Error(`${where}: provenance.preprocessing.resample is ${JSON.stringify(p.resample)}, expected "linear" or "nearest"`);
    }
    return { ...p, align: p.align, resample: p.resample ?? DEFAULT_RESAMPLE };
  }
  const config = prov.config as { data?: { kind?: unknown } } | undefined;
  const data = prov.data as { kind?: unknown } | undefined;
  const kind = config?.data?.kind ?? data?.kind;
  if (kind === 'synthetic' || kind === 'prepared') return preprocessingOf({ data: { kind } as MimanetConfig['data'] });
  return undefined;
}
