/**
 * The software rasteriser of the synthetic faces: a float canvas with a view
 * transform and anti-aliased primitives. Geometry is in "face coordinates":
 * the frame spans [-1, 1] on both axes (y points down) when the face sits at
 * its reference placement. Every shape is drawn with box-filtered coverage one
 * pixel wide, so a feature that moves by a fraction of a pixel still changes
 * the pixel values; low-intensity (micro) motion would otherwise vanish at 32x32.
 */
import { Rng } from '../../util/rng.js';

export type Rgb = [number, number, number];

/** 64k standard normals drawn once; per-pixel noise indexes it with 16 random bits (much cheaper than Box-Muller). */
let normalTable: Float32Array | null = null;
export function gaussianTable(): Float32Array {
  if (!normalTable) {
    const rng = new Rng(0x9e3779b9);
    normalTable = new Float32Array(65536);
    for (let i = 0; i < normalTable.length; i++) normalTable[i] = rng.normal();
  }
  return normalTable;
}

/**
 * A float image being drawn (values nominally 0..1) with its view transform:
 * face coordinate q maps to frame coordinate u = q * scale + (ox, oy), and
 * frame coordinate u in [-1, 1] spans the pixels.
 */
export class Canvas {
  readonly data: Float32Array;
  /** One pixel in face coordinates: the width of every anti-aliasing ramp. */
  pw = 0;
  private ox = 0;
  private oy = 0;
  private scale = 1;
  /** Pixel centre in face coordinates: qx0 + i * pw. */
  private qx0 = 0;
  private qy0 = 0;

  constructor(
    readonly size: number,
    readonly channels: number,
  ) {
    this.data = new Float32Array(size * size * channels);
  }

  setView(ox: number, oy: number, scale: number): void {
    this.ox = ox;
    this.oy = oy;
    this.scale = scale;
    this.pw = 2 / this.size / scale;
    this.qx0 = (1 / this.size - 1 - ox) / scale;
    this.qy0 = (1 / this.size - 1 - oy) / scale;
  }

  /** Colour as stored: RGB, or its luminance on a grey canvas. */
  colour(c: Rgb): Rgb {
    if (this.channels === 3) return c;
    const y = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
    return [y, y, y];
  }

  qx(i: number): number {
    return this.qx0 + i * this.pw;
  }

  qy(j: number): number {
    return this.qy0 + j * this.pw;
  }

  /** Pixel index range [i0, i1) x [j0, j1) covering the face-coordinate box, clipped to the frame. */
  box(x0: number, y0: number, x1: number, y1: number): [number, number, number, number] {
    const n = this.size;
    const toPx = (q: number, o: number) => ((q * this.scale + o + 1) * n) / 2;
    const i0 = Math.max(0, Math.floor(toPx(x0, this.ox) - 1));
    const i1 = Math.min(n, Math.ceil(toPx(x1, this.ox) + 1));
    const j0 = Math.max(0, Math.floor(toPx(y0, this.oy) - 1));
    const j1 = Math.min(n, Math.ceil(toPx(y1, this.oy) + 1));
    return [i0, i1, j0, j1];
  }

  blend(p: number, c: Rgb, a: number): void {
    if (a <= 0) return;
    if (a > 1) a = 1;
    const d = this.data;
    if (this.channels === 1) {
      d[p] += (c[0] - d[p]) * a;
    } else {
      const k = p * 3;
      d[k] += (c[0] - d[k]) * a;
      d[k + 1] += (c[1] - d[k + 1]) * a;
      d[k + 2] += (c[2] - d[k + 2]) * a;
    }
  }
}

export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** Fraction of a pixel-wide box [d - pw/2, d + pw/2] inside the interval [lo, hi]. */
export function overlap(d: number, lo: number, hi: number, pw: number): number {
  const a = Math.max(d - pw / 2, lo);
  const b = Math.min(d + pw / 2, hi);
  return b > a ? (b - a) / pw : 0;
}

/** Filled ellipse; `bottomRy` lets the lower half differ (a jaw). */
export function fillEllipse(cv: Canvas, cx: number, cy: number, rx: number, ry: number, c: Rgb, alpha = 1, bottomRy = ry): void {
  const col = cv.colour(c);
  const [i0, i1, j0, j1] = cv.box(cx - rx, cy - ry, cx + rx, cy + bottomRy);
  const pw = cv.pw;
  for (let j = j0; j < j1; j++) {
    const dy = cv.qy(j) - cy;
    const ryy = dy > 0 ? bottomRy : ry;
    for (let i = i0; i < i1; i++) {
      const dx = cv.qx(i) - cx;
      const r = Math.sqrt((dx / rx) ** 2 + (dy / ryy) ** 2);
      const sd = (r - 1) * Math.min(rx, ryy);
      const cov = clamp01(0.5 - sd / pw);
      if (cov > 0) cv.blend(j * cv.size + i, col, cov * alpha);
    }
  }
}

/** Polyline stroke of half-thickness `r` (points as flat x,y pairs). */
export function strokePolyline(cv: Canvas, pts: readonly number[], r: number, c: Rgb, alpha: number): void {
  if (alpha <= 0.002) return;
  const col = cv.colour(c);
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let k = 0; k < pts.length; k += 2) {
    x0 = Math.min(x0, pts[k]);
    x1 = Math.max(x1, pts[k]);
    y0 = Math.min(y0, pts[k + 1]);
    y1 = Math.max(y1, pts[k + 1]);
  }
  const [i0, i1, j0, j1] = cv.box(x0 - r, y0 - r, x1 + r, y1 + r);
  const pw = cv.pw;
  for (let j = j0; j < j1; j++) {
    const qy = cv.qy(j);
    for (let i = i0; i < i1; i++) {
      const qx = cv.qx(i);
      let best = Infinity;
      for (let k = 0; k + 3 < pts.length; k += 2) {
        const ax = pts[k];
        const ay = pts[k + 1];
        const bx = pts[k + 2] - ax;
        const by = pts[k + 3] - ay;
        const px = qx - ax;
        const py = qy - ay;
        const len2 = bx * bx + by * by;
        const t = len2 > 0 ? clamp01((px * bx + py * by) / len2) : 0;
        const ex = px - t * bx;
        const ey = py - t * by;
        const d2 = ex * ex + ey * ey;
        if (d2 < best) best = d2;
      }
      const cov = overlap(Math.sqrt(best), -r, r, pw);
      if (cov > 0) cv.blend(j * cv.size + i, col, cov * alpha);
    }
  }
}

/** Soft Gaussian blob (shadows, blush, freckles). */
export function blob(cv: Canvas, cx: number, cy: number, sx: number, sy: number, c: Rgb, alpha: number): void {
  if (alpha <= 0.002) return;
  const col = cv.colour(c);
  const [i0, i1, j0, j1] = cv.box(cx - 3 * sx, cy - 3 * sy, cx + 3 * sx, cy + 3 * sy);
  for (let j = j0; j < j1; j++) {
    const dy = (cv.qy(j) - cy) / sy;
    for (let i = i0; i < i1; i++) {
      const dx = (cv.qx(i) - cx) / sx;
      const e = (dx * dx + dy * dy) / 2;
      if (e < 4.5) cv.blend(j * cv.size + i, col, alpha * Math.exp(-e));
    }
  }
}
