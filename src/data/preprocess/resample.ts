/**
 * Temporal resampling of an onset..apex run of n frames to T frames.
 *
 * Output frame i sits at position p_i = i (n - 1) / (T - 1) of the source run
 * (p = n - 1 when T = 1), so the first output frame is the onset and the last
 * is the apex exactly. `linear` blends the two source frames around p_i with
 * weights (1 - f, f), f = p_i - floor(p_i); `nearest` takes frame round(p_i).
 * Linear keeps motion smooth when a short clip is stretched; nearest never
 * invents pixel values.
 */
export type ResampleMode = 'linear' | 'nearest';

export const DEFAULT_RESAMPLE: ResampleMode = 'linear';

/** Output frame = (1 - w) * source[i0] + w * source[i1]. */
export interface SamplePoint {
  i0: number;
  i1: number;
  w: number;
}

export function resamplePlan(n: number, t: number, mode: ResampleMode = DEFAULT_RESAMPLE): SamplePoint[] {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`resample: source has ${n} frames; need at least 1`);
  if (!(Number.isInteger(t) && t >= 1)) throw new Error(`resample: T must be a positive integer, got ${t}`);
  const plan: SamplePoint[] = [];
  for (let i = 0; i < t; i++) {
    const p = t === 1 ? n - 1 : (i * (n - 1)) / (t - 1);
    if (mode === 'nearest') {
      const k = Math.min(n - 1, Math.round(p));
      plan.push({ i0: k, i1: k, w: 0 });
      continue;
    }
    const i0 = Math.min(n - 1, Math.floor(p + 1e-9));
    const w = p - i0;
    if (w < 1e-9 || i0 === n - 1) plan.push({ i0, i1: i0, w: 0 });
    else plan.push({ i0, i1: i0 + 1, w });
  }
  return plan;
}

/** Source frame indices a plan reads, ascending. */
export function planIndices(plan: readonly SamplePoint[]): number[] {
  const s = new Set<number>();
  for (const p of plan) {
    s.add(p.i0);
    if (p.w > 0) s.add(p.i1);
  }
  return [...s].sort((a, b) => a - b);
}

/** Writes (1 - w) a + w b, rounded, into `out` at `offset`. */
export function blendInto(out: Uint8Array, offset: number, a: Uint8Array, b: Uint8Array, w: number): void {
  if (w === 0) {
    out.set(a, offset);
    return;
  }
  for (let i = 0; i < a.length; i++) out[offset + i] = Math.round(a[i]! + (b[i]! - a[i]!) * w);
}
