/**
 * Face alignment on the eye centres: rotate so the eyes are level, scale to a
 * fixed inter-ocular distance, crop W x H around them. One transform per clip
 * (found on one frame), applied to all its frames, so the face does not
 * jitter between frames and the small motions of a micro-expression survive.
 *
 * Coordinates are pixel centres: pixel (i, j) is at x = i, y = j.
 */
import type { Point } from './face.js';
import { DEFAULT_EYE_DISTANCE, DEFAULT_EYE_Y } from './recipe.js';

export { DEFAULT_EYE_DISTANCE, DEFAULT_EYE_Y };

export interface AlignOptions {
  /** Inter-ocular distance as a fraction of the output width. Default {@link DEFAULT_EYE_DISTANCE}. */
  eyeDistance?: number;
  /** Height of the eye line as a fraction of the output height (0 = top). Default {@link DEFAULT_EYE_Y}. */
  eyeY?: number;
}

/**
 * A similarity transform from output pixel (u, v) to source pixel (x, y):
 *   x = a (u - cu) - b (v - cv) + cx,   y = b (u - cu) + a (v - cv) + cy
 */
export interface Alignment {
  a: number;
  b: number;
  /** Output point that maps to the source eye midpoint. */
  cu: number;
  cv: number;
  /** Source eye midpoint. */
  cx: number;
  cy: number;
  /** Angle of the source eye line in degrees (positive: the image-right eye is lower). */
  angleDeg: number;
  /** Source inter-ocular distance in pixels. */
  eyeDistancePx: number;
  outWidth: number;
  outHeight: number;
}

function mean(points: Point[]): Point {
  const s = points.reduce((acc, p) => ({ x: acc.x + p.x, y: acc.y + p.y }), { x: 0, y: 0 });
  return { x: s.x / points.length, y: s.y / points.length };
}

/** Centres of the two eyes from 68 landmarks: `left` is the one on the image's left (points 36-41). */
export function eyeCentres(points: readonly Point[]): { left: Point; right: Point } {
  if (points.length !== 68) throw new Error(`expected 68 landmarks, got ${points.length}`);
  return { left: mean(points.slice(36, 42)), right: mean(points.slice(42, 48)) };
}

/** Angle of the line from `left` to `right` in degrees. */
export function eyeAngleDeg(left: Point, right: Point): number {
  return (Math.atan2(right.y - left.y, right.x - left.x) * 180) / Math.PI;
}

export function alignmentFromEyes(left: Point, right: Point, outWidth: number, outHeight: number, opts: AlignOptions = {}): Alignment {
  const eyeDistance = opts.eyeDistance ?? DEFAULT_EYE_DISTANCE;
  const eyeY = opts.eyeY ?? DEFAULT_EYE_Y;
  if (!(eyeDistance > 0 && eyeDistance < 1)) throw new Error(`align eyeDistance must be in (0, 1), got ${eyeDistance}`);
  if (!(eyeY > 0 && eyeY < 1)) throw new Error(`align eyeY must be in (0, 1), got ${eyeY}`);
  const dx = right.x - left.x;
  const dy = right.y - left.y;
  const d = Math.hypot(dx, dy);
  if (!(d > 1)) throw new Error(`eye centres ${d.toFixed(2)} px apart: no usable face`);
  const theta = Math.atan2(dy, dx);
  // Source pixels per output pixel.
  const inv = d / (eyeDistance * outWidth);
  return {
    a: Math.cos(theta) * inv,
    b: Math.sin(theta) * inv,
    cu: (outWidth - 1) / 2,
    cv: eyeY * (outHeight - 1),
    cx: (left.x + right.x) / 2,
    cy: (left.y + right.y) / 2,
    angleDeg: (theta * 180) / Math.PI,
    eyeDistancePx: d,
    outWidth,
    outHeight,
  };
}

/** Source position of output pixel (u, v). */
export function mapToSource(al: Alignment, u: number, v: number): Point {
  const du = u - al.cu;
  const dv = v - al.cv;
  return { x: al.a * du - al.b * dv + al.cx, y: al.b * du + al.a * dv + al.cy };
}

/** Output position of source pixel (x, y) (the inverse of `mapToSource`). */
export function mapToOutput(al: Alignment, x: number, y: number): Point {
  const dx = x - al.cx;
  const dy = y - al.cy;
  const k = al.a * al.a + al.b * al.b;
  return { x: (al.a * dx + al.b * dy) / k + al.cu, y: (-al.b * dx + al.a * dy) / k + al.cv };
}

/**
 * How to cut one frame: the source region the output covers (clamped to the
 * image), the size to shrink it to first (so the final bilinear warp never
 * minifies and aliases), and the transform from output pixels to pixels of
 * that shrunk region.
 */
export interface WarpPlan {
  region: { left: number; top: number; width: number; height: number };
  /** Size of the region after the pre-shrink (equal to the region when no shrink is needed). */
  shrunk: { width: number; height: number };
  /** Output pixel -> shrunk-region pixel. */
  map: Alignment;
}

export function planWarp(al: Alignment, sourceWidth: number, sourceHeight: number): WarpPlan {
  const corners = [
    mapToSource(al, -0.5, -0.5),
    mapToSource(al, al.outWidth - 0.5, -0.5),
    mapToSource(al, -0.5, al.outHeight - 0.5),
    mapToSource(al, al.outWidth - 0.5, al.outHeight - 0.5),
  ];
  const pad = 2;
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c.x)) - pad));
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c.y)) - pad));
  const x1 = Math.min(sourceWidth - 1, Math.ceil(Math.max(...corners.map((c) => c.x)) + pad));
  const y1 = Math.min(sourceHeight - 1, Math.ceil(Math.max(...corners.map((c) => c.y)) + pad));
  if (x1 < x0 || y1 < y0) throw new Error(`the aligned face lies outside the ${sourceWidth}x${sourceHeight} image`);
  const region = { left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  const srcPerOut = Math.hypot(al.a, al.b);
  // Shrink so that one output pixel covers about one region pixel; never enlarge.
  const k = Math.min(1, 1 / srcPerOut);
  const shrunk = { width: Math.max(1, Math.round(region.width * k)), height: Math.max(1, Math.round(region.height * k)) };
  const kx = shrunk.width / region.width;
  const ky = shrunk.height / region.height;
  // Region pixel centre x maps to shrunk pixel centre (x + 0.5) * kx - 0.5; kx ~ ky, so the map stays a similarity.
  const ks = (kx + ky) / 2;
  const map: Alignment = {
    ...al,
    a: al.a * ks,
    b: al.b * ks,
    cx: (al.cx - x0 + 0.5) * kx - 0.5,
    cy: (al.cy - y0 + 0.5) * ky - 0.5,
  };
  return { region, shrunk, map };
}

/**
 * Bilinear warp of `src` (interleaved, `channels` per pixel) into an
 * outWidth x outHeight image; samples outside the source repeat its edge.
 */
export function warpBilinear(src: Uint8Array, width: number, height: number, channels: number, map: Alignment): Uint8Array {
  const { outWidth: W, outHeight: H } = map;
  const out = new Uint8Array(W * H * channels);
  const maxX = width - 1;
  const maxY = height - 1;
  let o = 0;
  for (let v = 0; v < H; v++) {
    const dv = v - map.cv;
    for (let u = 0; u < W; u++) {
      const du = u - map.cu;
      let x = map.a * du - map.b * dv + map.cx;
      let y = map.b * du + map.a * dv + map.cy;
      x = x < 0 ? 0 : x > maxX ? maxX : x;
      y = y < 0 ? 0 : y > maxY ? maxY : y;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const x1 = x0 < maxX ? x0 + 1 : x0;
      const y1 = y0 < maxY ? y0 + 1 : y0;
      const fx = x - x0;
      const fy = y - y0;
      const p00 = (y0 * width + x0) * channels;
      const p01 = (y0 * width + x1) * channels;
      const p10 = (y1 * width + x0) * channels;
      const p11 = (y1 * width + x1) * channels;
      for (let c = 0; c < channels; c++) {
        const top = src[p00 + c]! + (src[p01 + c]! - src[p00 + c]!) * fx;
        const bottom = src[p10 + c]! + (src[p11 + c]! - src[p10 + c]!) * fx;
        out[o++] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return out;
}
