/**
 * Training-free spotting of facial movements in a long video: optical-flow
 * magnitude in a grid of face regions, with the local contrast and the
 * threshold of the feature-difference (FD) method.
 *
 * FD (Moilanen, Zhao and Pietikäinen, ICPR 2014; Li et al., IEEE TAC 2018)
 * compares each frame with the frames k before and k after it, where 2k + 1
 * frames span about one expression, then keeps the frames whose difference
 * stands out from their neighbourhood's: a movement that comes and goes inside
 * the window differs from both ends, a slow drift or a lasting change does not.
 * FD measured the difference with LBP histograms; here it is the motion that
 * TV-L1 flow finds between the two frames, after the face's global motion is
 * taken out (as MEGC spotting baselines do with the nose region), so that a
 * head movement is not taken for an expression.
 *
 * Two passes, one with a window the length of a micro-expression and one the
 * length of a macro-expression, give candidate intervals, merged as
 * {@link mergePasses} says; of what still overlaps, the one that stands further
 * above its own pass's threshold is kept. An
 * interval is `micro` when it lasts at most 0.5 s (Yan et al., "How fast are
 * the leaked facial expressions: the duration of micro-expressions", J.
 * Nonverbal Behavior 2013; the bound MEGC uses), `macro` otherwise.
 *
 * Browser-safe: no Node imports. The flow comes in as a function, so that
 * Node (native addon) and the page (TypeScript twin) spot with the same code.
 */

import { MICRO_MAX_SECONDS, type ExpressionKind } from './intervals.js';

/** A spotted movement; frames are indices into the frames given (inclusive). */
export interface SpottedInterval {
  onset: number;
  apex: number;
  offset: number;
  /** Contrast at the apex over the pass's threshold (1 = at the threshold): comparable across passes and videos. */
  score: number;
  kind: ExpressionKind;
}

/** Optical flow from frame `a` to frame `b` (grey, row-major, w x h): u (x) and v (y) per pixel. */
export type FlowFn = (a: Float32Array, b: Float32Array, width: number, height: number) => { u: Float32Array; v: Float32Array };

/** Options of {@link spot}; {@link resolveSpotOptions} fills the defaults and checks them. */
export interface SpotOptions {
  /** Frames per second of the video. Required: the windows are set in seconds. */
  fps: number;
  /**
   * Window of the micro pass, in seconds: 2k + 1 frames with k = round(window * fps / 2), at least 1.
   * Default 0.3: about the mean duration of a micro-expression (FD sets N to the mean duration).
   */
  microWindow: number;
  /** Window of the macro pass, in seconds. Default 1.0: a typical onset-to-offset of a posed macro-expression. */
  macroWindow: number;
  /** The face is divided into grid x grid cells. Default 6 (the blocks of MDMD, Wang et al. 2017). */
  grid: number;
  /** Share of the cells, the ones that move most, averaged into a frame's motion. Default 0.25: expressions are local. */
  topCells: number;
  /**
   * p of the threshold T = mean(C) + p (max(C) - mean(C)) over a video's contrast C (Li et al. 2018).
   * 0 keeps every peak above the mean, 1 only the highest. Default 0.3.
   */
  p: number;
  /** Intervals are widened from the peak while the difference stays at or above this share of the peak's. Default 0.5. */
  extend: number;
  /** Longest micro-expression, seconds: longer intervals are `macro`. Default 0.5. */
  microMaxSeconds: number;
}

export const DEFAULT_SPOT_OPTIONS: Omit<SpotOptions, 'fps'> = {
  microWindow: 0.3,
  macroWindow: 1.0,
  grid: 6,
  topCells: 0.25,
  p: 0.3,
  extend: 0.5,
  microMaxSeconds: MICRO_MAX_SECONDS,
};

/** Fills defaults and checks every field; the error names the field and quotes the value. */
export function resolveSpotOptions(o: Partial<SpotOptions> & { fps: number }): SpotOptions {
  const r: SpotOptions = { ...DEFAULT_SPOT_OPTIONS, ...o };
  const bad = (field: string, want: string): never => {
    throw new Error(`spot option ${field} is ${JSON.stringify((r as unknown as Record<string, unknown>)[field])}: expected ${want}`);
  };
  if (!(Number.isFinite(r.fps) && r.fps > 0)) bad('fps', 'a positive number of frames per second');
  for (const f of ['microWindow', 'macroWindow', 'microMaxSeconds'] as const) if (!(Number.isFinite(r[f]) && r[f] > 0)) bad(f, 'a positive number of seconds');
  if (!(r.macroWindow > r.microWindow)) bad('macroWindow', `more seconds than microWindow (${r.microWindow})`);
  if (!(Number.isInteger(r.grid) && r.grid >= 1 && r.grid <= 32)) bad('grid', 'an integer from 1 to 32');
  for (const f of ['topCells', 'extend'] as const) if (!(r[f] > 0 && r[f] <= 1)) bad(f, 'a share in (0, 1]');
  if (!(r.p >= 0 && r.p <= 1)) bad('p', 'a number from 0 to 1');
  return r;
}

/** Half-window in frames of a window of `seconds`. */
export function halfWindow(seconds: number, fps: number): number {
  return Math.max(1, Math.round((seconds * fps) / 2));
}

/**
 * Motion of one flow field over the face: the face's global motion (the median u and v) is taken
 * out, each cell of a grid x grid partition gets the mean magnitude of what is left, and the
 * `topCells` share of the cells that move most are averaged.
 */
export function regionMotion(u: Float32Array, v: Float32Array, width: number, height: number, grid: number, topCells: number): number {
  const mu = median(u), mv = median(v);
  const sums = new Float64Array(grid * grid), counts = new Float64Array(grid * grid);
  for (let y = 0; y < height; y++) {
    const gy = Math.min(grid - 1, Math.floor((y * grid) / height));
    for (let x = 0; x < width; x++) {
      const gx = Math.min(grid - 1, Math.floor((x * grid) / width));
      const i = y * width + x;
      sums[gy * grid + gx] += Math.hypot(u[i] - mu, v[i] - mv);
      counts[gy * grid + gx]++;
    }
  }
  const cells = Array.from(sums, (s, c) => (counts[c] > 0 ? s / counts[c] : 0)).sort((a, b) => b - a);
  const n = Math.max(1, Math.round(topCells * cells.length));
  let total = 0;
  for (let c = 0; c < n; c++) total += cells[c];
  return total / n;
}

function median(a: Float32Array): number {
  const s = Float32Array.from(a).sort();
  const n = s.length;
  return n === 0 ? 0 : n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * Per-frame difference and contrast of one pass, from m[j] = motion between frames j - k and j
 * (0 for j < k):
 *   d[i] = (m[i] + m[i + k]) / 2, how far frame i is from both ends of its window (FD's
 *          difference between the current frame and the average of the head and tail frames);
 *   c[i] = max(0, d[i] - (d[i - k] + d[i + k]) / 2), FD's contrast, using the neighbours that exist.
 * Frames whose window does not fit in the video get d = c = 0.
 */
export function differenceAndContrast(m: ArrayLike<number>, k: number): { d: Float64Array; c: Float64Array } {
  const n = m.length;
  const d = new Float64Array(n), c = new Float64Array(n);
  for (let i = k; i + k < n; i++) d[i] = (m[i] + m[i + k]) / 2;
  const valid = (i: number): boolean => i >= k && i + k < n;
  for (let i = k; i + k < n; i++) {
    const nb = [i - k, i + k].filter(valid);
    const around = nb.length > 0 ? nb.reduce((s, j) => s + d[j], 0) / nb.length : 0;
    c[i] = Math.max(0, d[i] - around);
  }
  return { d, c };
}

/** T = mean(c) + p (max(c) - mean(c)) over the frames where c is defined (Li et al. 2018). */
export function threshold(c: ArrayLike<number>, k: number, p: number): number {
  let sum = 0, max = 0, n = 0;
  for (let i = k; i + k < c.length; i++) {
    sum += c[i];
    max = Math.max(max, c[i]);
    n++;
  }
  const mean = n > 0 ? sum / n : 0;
  return mean + p * (max - mean);
}

/**
 * Peaks of c above T (a flat contrast has none), strongest first, at least k + 1 frames apart (each window spots one
 * movement); ties go to the earlier frame. Each becomes an interval: [i - k, i + k], widened while
 * d stays at or above `extend` times d at the peak.
 */
export function peakIntervals(d: ArrayLike<number>, c: ArrayLike<number>, k: number, T: number, extend: number): Array<{ onset: number; apex: number; offset: number; strength: number }> {
  const n = c.length;
  const cand: number[] = [];
  // above T by more than rounding: a flat contrast (T = its mean) has no peaks
  const above = T + 1e-9 * Math.abs(T) + 1e-12;
  for (let i = k; i + k < n; i++) {
    if (c[i] > above && (i === 0 || c[i] >= c[i - 1]) && (i === n - 1 || c[i] >= c[i + 1])) cand.push(i);
  }
  cand.sort((a, b) => c[b] - c[a] || a - b);
  const taken: number[] = [];
  for (const i of cand) if (taken.every((j) => Math.abs(i - j) > k)) taken.push(i);
  return taken.map((i) => {
    let onset = Math.max(0, i - k), offset = Math.min(n - 1, i + k);
    const floor = extend * d[i];
    while (onset > 0 && d[onset - 1] >= floor && d[onset - 1] > 0) onset--;
    while (offset < n - 1 && d[offset + 1] >= floor && d[offset + 1] > 0) offset++;
    return { onset, apex: i, offset, strength: T > 0 ? c[i] / T : Number.POSITIVE_INFINITY };
  });
}

/** What {@link spot} returns: the intervals and, per frame, each pass's contrast and threshold. */
export interface SpotResult {
  intervals: SpottedInterval[];
  /** Per frame, the motion score: the larger of the two passes' contrast over their threshold. */
  score: Float64Array;
  passes: Array<{ name: 'micro' | 'macro'; k: number; threshold: number; contrast: Float64Array; difference: Float64Array }>;
}

/** One pass's motion m[j] (frames j - k to j) for every j, from the flow. */
export function passMotion(frames: readonly Float32Array[], width: number, height: number, k: number, flow: FlowFn, o: Pick<SpotOptions, 'grid' | 'topCells'>, progress?: (done: number) => void): Float64Array {
  const m = new Float64Array(frames.length);
  for (let j = k; j < frames.length; j++) {
    const f = flow(frames[j - k], frames[j], width, height);
    m[j] = regionMotion(f.u, f.v, width, height, o.grid, o.topCells);
    progress?.(1);
  }
  return m;
}

/** One pass's per-frame difference and contrast: the costly part of spotting (the flow), kept so that thresholds can be tried cheaply. */
export interface SpotPass {
  name: 'micro' | 'macro';
  k: number;
  difference: Float64Array;
  contrast: Float64Array;
}

/** The two passes' difference and contrast over aligned grey face frames (each width x height). */
export function spotPasses(frames: readonly Float32Array[], width: number, height: number, flow: FlowFn, options: Partial<SpotOptions> & { fps: number }, progress?: (done: number) => void): SpotPass[] {
  const o = resolveSpotOptions(options);
  for (const [i, f] of frames.entries()) {
    if (f.length !== width * height) throw new Error(`spot: frame ${i} has ${f.length} values, expected ${width}x${height} = ${width * height}`);
  }
  return (
    [
      ['micro', o.microWindow],
      ['macro', o.macroWindow],
    ] as const
  ).map(([name, seconds]) => {
    const k = halfWindow(seconds, o.fps);
    const { d, c } = differenceAndContrast(passMotion(frames, width, height, k, flow, o, progress), k);
    return { name, k, difference: d, contrast: c };
  });
}

/** Intervals from the passes under `options` (threshold p, widening, kinds); see {@link spot}. */
export function spotFromPasses(passes: readonly SpotPass[], options: Partial<SpotOptions> & { fps: number }): SpotResult {
  const o = resolveSpotOptions(options);
  const found: Record<'micro' | 'macro', SpottedInterval[]> = { micro: [], macro: [] };
  const out: SpotResult['passes'] = [];
  for (const pass of passes) {
    const T = threshold(pass.contrast, pass.k, o.p);
    out.push({ name: pass.name, k: pass.k, threshold: T, contrast: pass.contrast, difference: pass.difference });
    for (const p of peakIntervals(pass.difference, pass.contrast, pass.k, T, o.extend)) {
      const kind: ExpressionKind = (p.offset - p.onset + 1) / o.fps <= o.microMaxSeconds ? 'micro' : 'macro';
      found[pass.name].push({ onset: p.onset, apex: p.apex, offset: p.offset, score: p.strength, kind });
    }
  }
  const n = passes[0]?.contrast.length ?? 0;
  const score = new Float64Array(n);
  for (const p of out) for (let i = 0; i < n; i++) if (p.threshold > 0) score[i] = Math.max(score[i], p.contrast[i] / p.threshold);
  return { intervals: resolveOverlaps(mergePasses(found.micro, found.macro)), score, passes: out };
}

/**
 * Spots movements in aligned grey face frames (each width x height). Intervals are sorted by onset;
 * overlapping candidates of the two passes are merged as {@link mergePasses} says, then the stronger kept.
 */
export function spot(frames: readonly Float32Array[], width: number, height: number, flow: FlowFn, options: Partial<SpotOptions> & { fps: number }, progress?: (done: number) => void): SpotResult {
  return spotFromPasses(spotPasses(frames, width, height, flow, options, progress), options);
}

const overlaps = (a: { onset: number; offset: number }, b: { onset: number; offset: number }): boolean => a.onset <= b.offset && b.onset <= a.offset;

/**
 * Both passes fire on most movements. A macro-expression gives the short window two transients,
 * its rise and its fall, while a micro-expression gives it one: a macro-pass candidate that holds
 * two or more micro-pass candidates stands for the movement (they are dropped), one that holds a
 * single one gives way to it, and one that holds none stands.
 */
export function mergePasses(micro: readonly SpottedInterval[], macro: readonly SpottedInterval[]): SpottedInterval[] {
  const dropped = new Set<SpottedInterval>();
  const kept: SpottedInterval[] = [];
  for (const m of macro) {
    const inside = micro.filter((c) => overlaps(c, m));
    if (inside.length >= 2) {
      for (const c of inside) dropped.add(c);
      kept.push(m);
    } else if (inside.length === 0) kept.push(m);
  }
  return [...kept, ...micro.filter((c) => !dropped.has(c))];
}

/** Keeps, among overlapping intervals, the strongest (earlier onset on ties); returns them by onset. */
export function resolveOverlaps(cands: readonly SpottedInterval[]): SpottedInterval[] {
  const order = [...cands].sort((a, b) => b.score - a.score || a.onset - b.onset);
  const kept: SpottedInterval[] = [];
  for (const c of order) if (kept.every((k) => c.offset < k.onset || c.onset > k.offset)) kept.push(c);
  return kept.sort((a, b) => a.onset - b.onset);
}
