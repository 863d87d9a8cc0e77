/**
 * A clip's optical flow as network input (`model.input: flow`): for each of its T frames (onset
 * first, apex last), the TV-L1 flow from the onset to that frame and the flow's optical strain,
 * three channels u, v, strain per pixel. The apex stream gets the last of them (onset to apex, the
 * input of STSTNet and its successors); the frames stream gets all T, so frame t carries the motion
 * accumulated since the onset, the flow counterpart of `onset-diff`.
 *
 * How the flow was computed is part of a model: the settings travel in the preprocessing recipe of
 * its checkpoint (`preprocessing.flow`), and training, `predict` and the browser demo all call
 * {@link clipFlow}, with the native TV-L1 in Node and the TypeScript one in pages (the same flow to
 * the bit). Browser-safe.
 */
import { DEFAULT_TVL1_PARAMS, resolveTvl1Params, tvl1FlowTs, type FlowField, type Tvl1Params } from './tvl1.js';
import { opticalStrain, STRAIN_VARIANTS, type StrainVariant } from './strain.js';

/** Channels of a flow input: u, v (pixels) and optical strain. */
export const FLOW_CHANNELS = 3;

/** How a clip's flow input is made (`preprocessing.flow` of a checkpoint). */
export interface FlowRecipe {
  /** TV-L1 parameters (src/motion/tvl1.ts). Default OpenCV's DualTVL1 values. */
  tvl1: Tvl1Params;
  /** Derivatives of the optical strain (src/motion/strain.ts): 'central' (default) or 'forward'. */
  strain: StrainVariant;
  /**
   * Channels of the frames the flow is computed from (the model's `channels`); RGB frames are made
   * grey first by Rec. 601 luma, 0.299 R + 0.587 G + 0.114 B, kept fractional.
   */
  channels: 1 | 3;
}

/** The flow recipe of frames with `channels`, with the given TV-L1 parameters and strain variant. */
export function flowRecipe(channels: 1 | 3, tvl1: Partial<Tvl1Params> = {}, strain: StrainVariant = 'central'): FlowRecipe {
  return { tvl1: resolveTvl1Params(tvl1), strain, channels };
}

/** Reads a stored flow recipe; errors name `where`, the field and the bad value. */
export function parseFlowRecipe(rec: unknown, where: string, field = 'preprocessing.flow'): FlowRecipe {
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw new Error(`${where}: ${field} is ${JSON.stringify(rec)}, expected an object`);
  const r = rec as Record<string, unknown>;
  if (r.channels !== 1 && r.channels !== 3) throw new Error(`${where}: ${field}.channels is ${JSON.stringify(r.channels)}, expected 1 or 3`);
  if (!STRAIN_VARIANTS.includes(r.strain as StrainVariant)) throw new Error(`${where}: ${field}.strain is ${JSON.stringify(r.strain)}, expected "central" or "forward"`);
  const tvl1 = resolveTvl1Params((r.tvl1 ?? {}) as Partial<Tvl1Params>, `${where}: ${field}.tvl1`);
  return { tvl1, strain: r.strain as StrainVariant, channels: r.channels };
}

/** A flow function: (i0, i1, width, height, params) -> flow; Node passes the native one. */
export type FlowFunction = (i0: Float32Array, i1: Float32Array, width: number, height: number, params: Tvl1Params) => FlowField;

/** Frame t of a clip as grey float32 (Rec. 601 luma for RGB). */
export function greyFrame(frames: Uint8Array, t: number, height: number, width: number, channels: number): Float32Array {
  const n = height * width;
  const out = new Float32Array(n);
  const base = t * n * channels;
  if (channels === 1) {
    for (let i = 0; i < n; i++) out[i] = frames[base + i];
  } else {
    for (let i = 0; i < n; i++) {
      const j = base + 3 * i;
      out[i] = 0.299 * frames[j] + 0.587 * frames[j + 1] + 0.114 * frames[j + 2];
    }
  }
  return out;
}

/**
 * The flow input of a clip of T frames (T*H*W*C bytes, onset first): T*H*W*3 float32, per pixel
 * u, v (pixels, onset -> frame t) and optical strain. `flow` defaults to the TypeScript TV-L1.
 */
export function clipFlow(
  frames: Uint8Array,
  geometry: { frames: number; height: number; width: number; channels: number },
  recipe: FlowRecipe,
  flow: FlowFunction = tvl1FlowTs,
): Float32Array {
  const { frames: T, height: H, width: W, channels: C } = geometry;
  if (C !== recipe.channels) throw new Error(`clip flow: frames have ${C} channel(s), the flow recipe says ${recipe.channels}`);
  if (frames.length !== T * H * W * C) throw new Error(`clip flow: ${frames.length} bytes, expected ${T * H * W * C} (T=${T}, ${H}x${W}x${C})`);
  const out = new Float32Array(T * H * W * FLOW_CHANNELS);
  const onset = greyFrame(frames, 0, H, W, C);
  for (let t = 0; t < T; t++) {
    const f = flow(onset, greyFrame(frames, t, H, W, C), W, H, recipe.tvl1);
    const strain = opticalStrain(f, recipe.strain);
    const base = t * H * W * FLOW_CHANNELS;
    for (let i = 0; i < H * W; i++) {
      out[base + 3 * i] = f.u[i];
      out[base + 3 * i + 1] = f.v[i];
      out[base + 3 * i + 2] = strain[i];
    }
  }
  return out;
}

export { DEFAULT_TVL1_PARAMS };
