/**
 * Expression intervals in frame indices: what a spotter reports, what the
 * long-video generator records as ground truth, and what the MEGC spotting
 * metric (./spot-metric.ts) compares. Browser-safe: no Node imports.
 */

/** The two kinds MEGC spotting scores separately. */
export const EXPRESSION_KINDS = ['micro', 'macro'] as const;
export type ExpressionKind = (typeof EXPRESSION_KINDS)[number];

/**
 * Longest micro-expression, in seconds. The spotting datasets draw the line
 * here: CAS(ME)^2 calls an expression micro when it lasts at most 0.5 s, and
 * SAMM Long Videos labels its micro-expressions "Micro - 1/2" (half a second)
 * after the same bound (Yan et al., "How fast are the leaked facial
 * expressions", 2013, measured micro-expressions under 500 ms).
 */
export const MICRO_MAX_SECONDS = 0.5;

/** An inclusive range of frame indices: frames onset, onset + 1, ..., offset. */
export interface FrameInterval {
  onset: number;
  offset: number;
}

export function isExpressionKind(value: unknown): value is ExpressionKind {
  return value === 'micro' || value === 'macro';
}

/** Number of frames an inclusive interval holds. */
export function intervalFrames(a: FrameInterval): number {
  return a.offset - a.onset + 1;
}

/** Number of frames two inclusive intervals share (0 when apart; 1 when they touch at one frame). */
export function sharedFrames(a: FrameInterval, b: FrameInterval): number {
  return Math.max(0, Math.min(a.offset, b.offset) - Math.max(a.onset, b.onset) + 1);
}

/** Frames in the union of two intervals that overlap (when apart, the two lengths added). */
export function unionFrames(a: FrameInterval, b: FrameInterval): number {
  return intervalFrames(a) + intervalFrames(b) - sharedFrames(a, b);
}

/** Intersection over union in frames: shared frames / frames in the union. */
export function intervalIou(a: FrameInterval, b: FrameInterval): number {
  return sharedFrames(a, b) / unionFrames(a, b);
}

/**
 * Micro or macro by duration: micro when the interval lasts at most
 * MICRO_MAX_SECONDS, counting every frame it holds ((offset - onset + 1) / fps).
 * Counting frames, not frame gaps, is the stricter reading: an interval that
 * is micro here is micro under either.
 */
export function intervalKind(a: FrameInterval, fps: number): ExpressionKind {
  return intervalFrames(a) <= MICRO_MAX_SECONDS * fps ? 'micro' : 'macro';
}

/** Most frames a micro-expression may hold at `fps` (15 at 30 fps), the bound intervalKind applies. */
export function microMaxFrames(fps: number): number {
  return Math.floor(MICRO_MAX_SECONDS * fps);
}
