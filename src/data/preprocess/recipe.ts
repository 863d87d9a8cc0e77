/**
 * The preprocessing recipe: how raw frames became the clips a model was
 * trained on. The data loaders return it, checkpoints store it (`mimanet.json`,
 * field `preprocessing`), and `predict` and the browser demo repeat it from
 * there alone. Browser-safe: no Node imports.
 *
 *   { "align": "face", "resample": "linear", "eyeDistance": 0.33, "eyeY": 0.35 }   real datasets (`data prepare`)
 *   { "align": "none", "resample": "linear" }                                        frames that are face crops already (synthetic)
 *
 * Checkpoints written before the recipe had its own field keep it under
 * `provenance.preprocessing`, in two older dialects that are still read: the
 * fields above, or only the data loader's `kind` ("aligned" = align "none",
 * "face-aligned" = align "face" with the alignment `data prepare` uses by default).
 */
import { DEFAULT_RESAMPLE, type ResampleMode } from './resample.js';
import { parseFlowRecipe, type FlowRecipe } from '../../motion/clip-flow.js';

/** Inter-ocular distance / output width of eye alignment. Leaves room for the whole face: about 1.8 inter-ocular distances from the eye line to the chin fit below the eye line at 0.35. */
export const DEFAULT_EYE_DISTANCE = 0.33;
/** Height of the eye line / output height (0 = top). */
export const DEFAULT_EYE_Y = 0.35;

export type AlignMode = 'face' | 'none';
export const ALIGN_MODES: readonly AlignMode[] = ['face', 'none'];

export interface PreprocessingRecipe {
  /**
   * 'face': detect the face and align it by the eyes (./pipeline.ts), as
   * `data prepare` does for real datasets. 'none': frames are face crops
   * already (synthetic data): only resized to the model's size and converted to its channels.
   */
  align: AlignMode;
  /** Temporal resampling of onset..apex to T frames. Default {@link DEFAULT_RESAMPLE} ('linear'). */
  resample: ResampleMode;
  /** Inter-ocular distance / width, when align = 'face'. Default {@link DEFAULT_EYE_DISTANCE}. */
  eyeDistance?: number;
  /** Eye line height / height, when align = 'face'. Default {@link DEFAULT_EYE_Y}. */
  eyeY?: number;
  /**
   * With `model.input: flow`: how the clip's optical flow is computed from its frames (TV-L1
   * parameters, strain variant, the frames' channels; src/motion/clip-flow.ts). The flow's
   * normalisation is the checkpoint's `normalization` (input "flow").
   */
  flow?: FlowRecipe;
}

/** The recipe of frames that are aligned face crops already. */
export function alignedRecipe(resample: ResampleMode = DEFAULT_RESAMPLE): PreprocessingRecipe {
  return { align: 'none', resample };
}

/** The recipe of face detection and eye alignment; unset settings take `data prepare`'s defaults. */
export function faceRecipe(settings: { resample?: ResampleMode; eyeDistance?: number; eyeY?: number } = {}): PreprocessingRecipe {
  return {
    align: 'face',
    resample: settings.resample ?? DEFAULT_RESAMPLE,
    eyeDistance: settings.eyeDistance ?? DEFAULT_EYE_DISTANCE,
    eyeY: settings.eyeY ?? DEFAULT_EYE_Y,
  };
}

/** The data loaders' former `kind` values and the alignment they stand for. */
const KIND_ALIGN: Record<string, AlignMode> = { aligned: 'none', 'face-aligned': 'face' };

/**
 * Reads a stored recipe (either dialect, see the module comment); undefined
 * when the record says neither `align` nor a known `kind`. Errors name
 * `where`, the field (under `field`) and the bad value.
 */
export function parseRecipe(rec: Record<string, unknown>, where: string, field = 'preprocessing'): PreprocessingRecipe | undefined {
  if (rec.align !== undefined) {
    if (!ALIGN_MODES.includes(rec.align as AlignMode)) throw new Error(`${where}: ${field}.align is ${JSON.stringify(rec.align)}, expected "face" or "none"`);
    if (rec.resample !== undefined && rec.resample !== 'linear' && rec.resample !== 'nearest') {
      throw new Error(`${where}: ${field}.resample is ${JSON.stringify(rec.resample)}, expected "linear" or "nearest"`);
    }
    for (const k of ['eyeDistance', 'eyeY'] as const) {
      const v = rec[k];
      if (v !== undefined && !(typeof v === 'number' && v > 0 && v < 1)) throw new Error(`${where}: ${field}.${k} is ${JSON.stringify(v)}, expected a fraction in (0, 1)`);
    }
    const resample = (rec.resample as ResampleMode | undefined) ?? DEFAULT_RESAMPLE;
    const flow = rec.flow === undefined ? {} : { flow: parseFlowRecipe(rec.flow, where, `${field}.flow`) };
    if (rec.align === 'none') return { ...alignedRecipe(resample), ...flow };
    return { ...faceRecipe({ resample, eyeDistance: rec.eyeDistance as number | undefined, eyeY: rec.eyeY as number | undefined }), ...flow };
  }
  if (rec.kind === undefined) return undefined;
  const align = typeof rec.kind === 'string' ? KIND_ALIGN[rec.kind] : undefined;
  if (!align) throw new Error(`${where}: ${field}.kind is ${JSON.stringify(rec.kind)}, expected one of ${Object.keys(KIND_ALIGN).join(', ')}`);
  return align === 'none' ? alignedRecipe() : faceRecipe();
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The recipe of a checkpoint's `mimanet.json`: its `preprocessing` field, else
 * (older checkpoints) `provenance.preprocessing`, else the data kind of the
 * saved config (synthetic: aligned; prepared: face). Undefined when the
 * checkpoint does not say.
 */
export function checkpointRecipe(meta: { preprocessing?: unknown; provenance?: unknown }, where: string): PreprocessingRecipe | undefined {
  if (meta.preprocessing !== undefined) {
    if (!isRecord(meta.preprocessing)) throw new Error(`${where}: preprocessing is ${JSON.stringify(meta.preprocessing)}, expected an object`);
    const r = parseRecipe(meta.preprocessing, where);
    if (!r) throw new Error(`${where}: preprocessing says neither align nor kind`);
    return r;
  }
  const prov = isRecord(meta.provenance) ? meta.provenance : {};
  const p = prov.preprocessing;
  if (p !== undefined) {
    if (!isRecord(p)) throw new Error(`${where}: provenance.preprocessing is ${JSON.stringify(p)}, expected an object`);
    const r = parseRecipe(p, where, 'provenance.preprocessing');
    if (r) return r;
  }
  const kind = (isRecord(prov.config) && isRecord(prov.config.data) ? prov.config.data.kind : undefined) ?? (isRecord(prov.data) ? prov.data.kind : undefined);
  if (kind === 'synthetic') return alignedRecipe();
  if (kind === 'prepared') return faceRecipe();
  return undefined;
}
