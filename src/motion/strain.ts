/**
 * Optical strain: how much a flow field stretches and shears the face, pointwise. With the
 * infinitesimal strain tensor ε = ½(∇w + ∇wᵀ) of the displacement w = (u, v),
 *
 *   |ε| = sqrt(εxx² + εyy² + εxy² + εyx²) = sqrt(ux² + vy² + ½ (uy + vx)²)
 *
 * the magnitude of Shreve et al. ("Macro- and micro-expression spotting in long videos using
 * spatio-temporal strain", FG 2011), used as an input channel beside u and v by Liong et al.
 * (STSTNet, 2019) and the MER and spotting methods after it. The field computes the derivatives in
 * two ways, both offered here:
 *   - 'central' (default): central differences, (f(x+1) − f(x−1)) / 2, one-sided at the borders;
 *     the derivative the strain papers write down (Shreve et al.; Liong et al.).
 *   - 'forward': forward differences f(x+1) − f(x), the last row and column copying their
 *     neighbours' strain; what the public Python code of recent spotting and MER work computes
 *     (u − u shifted by one pixel, then forward-filled).
 * Browser-safe.
 */
import type { FlowField } from './tvl1.js';

export type StrainVariant = 'central' | 'forward';
export const STRAIN_VARIANTS: readonly StrainVariant[] = ['central', 'forward'];

/** Optical strain magnitude of each pixel of `flow` (width x height, row-major). */
export function opticalStrain(flow: FlowField, variant: StrainVariant = 'central'): Float32Array {
  const { width: w, height: h, u, v } = flow;
  if (!STRAIN_VARIANTS.includes(variant)) throw new Error(`optical strain: variant is ${JSON.stringify(variant)}, expected "central" or "forward"`);
  if (w < 2 || h < 2) throw new Error(`optical strain: flow of ${w}x${h}, expected at least 2x2`);
  if (u.length !== w * h || v.length !== w * h) throw new Error(`optical strain: flow of ${w}x${h} has ${u.length} and ${v.length} values in u and v, expected ${w * h}`);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let ux: number, uy: number, vx: number, vy: number;
      if (variant === 'central') {
        const l = x > 0 ? x - 1 : x;
        const r = x < w - 1 ? x + 1 : x;
        const t = y > 0 ? y - 1 : y;
        const b = y < h - 1 ? y + 1 : y;
        const row = y * w;
        ux = (u[row + r] - u[row + l]) / (r - l);
        vx = (v[row + r] - v[row + l]) / (r - l);
        uy = (u[b * w + x] - u[t * w + x]) / (b - t);
        vy = (v[b * w + x] - v[t * w + x]) / (b - t);
      } else {
        const cx = x < w - 1 ? x : w - 2;
        const cy = y < h - 1 ? y : h - 2;
        const i = cy * w + cx;
        ux = u[i + 1] - u[i];
        vx = v[i + 1] - v[i];
        uy = u[i + w] - u[i];
        vy = v[i + w] - v[i];
      }
      const s = uy + vx;
      out[y * w + x] = Math.sqrt(ux * ux + vy * vy + 0.5 * s * s);
    }
  }
  return out;
}
