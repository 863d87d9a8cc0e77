/**
 * Image pairs with known motion, for checking and timing optical flow: a smooth random texture
 * (gratings with 1/f amplitudes, like the spectrum of natural images, plus soft blobs) sampled
 * before and after a known displacement field. The texture is a continuous function, so the second
 * image is sampled exactly where each point has moved, with no interpolation error. Browser-safe.
 */
import { Rng } from '../util/rng.js';
import type { FlowField } from './tvl1.js';

/** A known motion: u(x) such that the point x of the first image is at x + u(x) in the second. */
export type KnownMotion =
  | { kind: 'translation'; dx: number; dy: number }
  /** Rotation by `degrees` (counter-clockwise on screen) about the image centre. */
  | { kind: 'rotation'; degrees: number }
  /** Scaling by `factor` about the image centre. */
  | { kind: 'zoom'; factor: number }
  /** Gaussian displacement bumps: at (cx, cy) a shift (dx, dy) fading with standard deviation `sigma` px. */
  | { kind: 'bumps'; bumps: Array<{ cx: number; cy: number; dx: number; dy: number; sigma: number }> };

export interface KnownPair {
  width: number;
  height: number;
  /** Grey 0..255, row-major. */
  i0: Uint8Array;
  i1: Uint8Array;
  /** The true flow from i0 to i1. */
  truth: FlowField;
}

interface Grating { fx: number; fy: number; phase: number; amp: number }
interface Blob { x: number; y: number; s: number; amp: number }

/** The texture as a function of continuous pixel coordinates, values roughly in 0..255. */
function texture(seed: number, width: number, height: number): (x: number, y: number) => number {
  const rng = Rng.derive(seed, 'flow-texture');
  const gratings: Grating[] = [];
  for (let k = 0; k < 32; k++) {
    const f = 0.015 * Math.pow(0.22 / 0.015, rng.next()); // 0.015..0.22 cycles per pixel, log-uniform
    const a = rng.next() * Math.PI;
    gratings.push({ fx: 2 * Math.PI * f * Math.cos(a), fy: 2 * Math.PI * f * Math.sin(a), phase: 2 * Math.PI * rng.next(), amp: 0.02 / f });
  }
  const blobs: Blob[] = [];
  for (let k = 0; k < 12; k++) blobs.push({ x: rng.next() * width, y: rng.next() * height, s: 3 + 10 * rng.next(), amp: (rng.next() - 0.5) * 2 });
  const norm = gratings.reduce((s, g) => s + g.amp, 0) * 0.5 + 1;
  return (x, y) => {
    let v = 0;
    for (const g of gratings) v += g.amp * Math.sin(g.fx * x + g.fy * y + g.phase);
    for (const b of blobs) v += b.amp * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.s * b.s));
    return 127.5 + 110 * (v / norm);
  };
}

/** The displacement u(x) of a known motion at (x, y). */
export function motionAt(m: KnownMotion, width: number, height: number, x: number, y: number): [number, number] {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  switch (m.kind) {
    case 'translation':
      return [m.dx, m.dy];
    case 'rotation': {
      // counter-clockwise on screen with y pointing down: the angle is negated
      const a = (-m.degrees * Math.PI) / 180;
      const rx = x - cx;
      const ry = y - cy;
      return [Math.cos(a) * rx - Math.sin(a) * ry - rx, Math.sin(a) * rx + Math.cos(a) * ry - ry];
    }
    case 'zoom':
      return [(m.factor - 1) * (x - cx), (m.factor - 1) * (y - cy)];
    case 'bumps': {
      let u = 0;
      let v = 0;
      for (const b of m.bumps) {
        const g = Math.exp(-((x - b.cx) ** 2 + (y - b.cy) ** 2) / (2 * b.sigma * b.sigma));
        u += b.dx * g;
        v += b.dy * g;
      }
      return [u, v];
    }
  }
}

/** The point of the first image that lands on (x, y) of the second: solves p + u(p) = (x, y). */
function preimage(m: KnownMotion, width: number, height: number, x: number, y: number): [number, number] {
  let px = x;
  let py = y;
  for (let k = 0; k < 50; k++) {
    const [u, v] = motionAt(m, width, height, px, py);
    const nx = x - u;
    const ny = y - v;
    if (Math.abs(nx - px) < 1e-9 && Math.abs(ny - py) < 1e-9) return [nx, ny];
    px = nx;
    py = ny;
  }
  return [px, py];
}

/** A textured pair of `width` x `height` grey images with motion `m`, the texture drawn from `seed`. */
export function knownMotionPair(m: KnownMotion, seed: number, width = 128, height = 128): KnownPair {
  const t = texture(seed, width, height);
  const n = width * height;
  const i0 = new Uint8Array(n);
  const i1 = new Uint8Array(n);
  const u = new Float32Array(n);
  const v = new Float32Array(n);
  const clamp = (z: number): number => Math.max(0, Math.min(255, Math.round(z)));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      i0[i] = clamp(t(x, y));
      const [px, py] = preimage(m, width, height, x, y);
      i1[i] = clamp(t(px, py));
      const [du, dv] = motionAt(m, width, height, x, y);
      u[i] = du;
      v[i] = dv;
    }
  }
  return { width, height, i0, i1, truth: { width, height, u, v } };
}

/** Endpoint errors |flow − truth| of the pixels at least `margin` px from the border. */
export function endpointErrors(flow: FlowField, truth: FlowField, margin = 0): Float64Array {
  const { width: w, height: h } = truth;
  if (flow.width !== w || flow.height !== h) throw new Error(`endpoint error: flow is ${flow.width}x${flow.height}, truth ${w}x${h}`);
  const out: number[] = [];
  for (let y = margin; y < h - margin; y++) {
    for (let x = margin; x < w - margin; x++) {
      const i = y * w + x;
      out.push(Math.hypot(flow.u[i] - truth.u[i], flow.v[i] - truth.v[i]));
    }
  }
  return Float64Array.from(out);
}

/** Median of a list of numbers. */
export function median(xs: ArrayLike<number>): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The standard set of test pairs (128 x 128 unless given): translations, rotations, zooms and
 * local bumps of about a pixel, the size of a mouth-corner movement in a 128 px face.
 */
export function standardPairs(width = 128, height = 128): Array<{ name: string; motion: KnownMotion; seed: number }> {
  const bumps = (s: number): KnownMotion => ({
    kind: 'bumps',
    bumps: [
      { cx: 0.33 * width, cy: 0.7 * height, dx: -0.9 * s, dy: -0.6 * s, sigma: 0.07 * width },
      { cx: 0.67 * width, cy: 0.7 * height, dx: 0.9 * s, dy: -0.6 * s, sigma: 0.07 * width },
      { cx: 0.5 * width, cy: 0.3 * height, dx: 0, dy: -0.8 * s, sigma: 0.1 * width },
    ],
  });
  return [
    { name: 'translation (1.5, -0.7)', motion: { kind: 'translation', dx: 1.5, dy: -0.7 }, seed: 1 },
    { name: 'translation (-0.4, 2.3)', motion: { kind: 'translation', dx: -0.4, dy: 2.3 }, seed: 2 },
    { name: 'rotation 2 degrees', motion: { kind: 'rotation', degrees: 2 }, seed: 3 },
    { name: 'rotation -1.5 degrees', motion: { kind: 'rotation', degrees: -1.5 }, seed: 4 },
    { name: 'zoom 3%', motion: { kind: 'zoom', factor: 1.03 }, seed: 5 },
    { name: 'zoom -2%', motion: { kind: 'zoom', factor: 0.98 }, seed: 6 },
    { name: 'bumps 1 px', motion: bumps(1), seed: 7 },
    { name: 'bumps 1.5 px', motion: bumps(1.5), seed: 8 },
  ];
}

/** A grey photo, 0..255 row-major. */
export interface GreyImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The photo at continuous source coordinates (pixel centres at integers), bilinear, edges clamped. */
function bilinear(p: GreyImage, x: number, y: number): number {
  const cx = Math.max(0, Math.min(p.width - 1, x));
  const cy = Math.max(0, Math.min(p.height - 1, y));
  const x0 = Math.min(p.width - 2, Math.floor(cx));
  const y0 = Math.min(p.height - 2, Math.floor(cy));
  const fx = cx - x0;
  const fy = cy - y0;
  const i = y0 * p.width + x0;
  const d = p.data;
  return (1 - fy) * ((1 - fx) * d[i] + fx * d[i + 1]) + fy * ((1 - fx) * d[i + p.width] + fx * d[i + p.width + 1]);
}

/**
 * A `size` x `size` pair cut from a real photo, moved by `m` (in output pixels). The photo is far
 * larger than the output (the centre square of `cropShare` of its shorter side), so each output
 * pixel is the mean of q x q samples over its footprint: the photo's own interpolation error shrinks
 * by the downscaling factor, and both images go through the same sampling, so the difference
 * between them is the motion alone. Browser-safe.
 */
export function photoMotionPair(photo: GreyImage, m: KnownMotion, size = 128, cropShare = 0.6): KnownPair {
  if (photo.width < 2 || photo.height < 2 || photo.data.length !== photo.width * photo.height) {
    throw new Error(`photo pair: expected a grey image of width x height bytes, got ${photo.width}x${photo.height} with ${photo.data.length} bytes`);
  }
  const side = Math.min(photo.width, photo.height) * cropShare;
  const scale = side / size;
  if (scale < 2) throw new Error(`photo pair: the crop (${side.toFixed(0)} px) should be at least twice the output size ${size}`);
  const x0 = (photo.width - side) / 2;
  const y0 = (photo.height - side) / 2;
  const q = Math.min(8, Math.ceil(scale));
  // output coordinates (pixel centres at integers) to source coordinates
  const src = (x: number, y: number): number => bilinear(photo, x0 + (x + 0.5) * scale - 0.5, y0 + (y + 0.5) * scale - 0.5);
  const n = size * size;
  const i0 = new Uint8Array(n);
  const i1 = new Uint8Array(n);
  const u = new Float32Array(n);
  const v = new Float32Array(n);
  const clamp = (z: number): number => Math.max(0, Math.min(255, Math.round(z)));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let a = 0;
      let b = 0;
      for (let sy = 0; sy < q; sy++) {
        for (let sx = 0; sx < q; sx++) {
          const px = x + (sx + 0.5) / q - 0.5;
          const py = y + (sy + 0.5) / q - 0.5;
          a += src(px, py);
          const [qx, qy] = preimage(m, size, size, px, py);
          b += src(qx, qy);
        }
      }
      const i = y * size + x;
      i0[i] = clamp(a / (q * q));
      i1[i] = clamp(b / (q * q));
      const [du, dv] = motionAt(m, size, size, x, y);
      u[i] = du;
      v[i] = dv;
    }
  }
  return { width: size, height: size, i0, i1, truth: { width: size, height: size, u, v } };
}

/**
 * The twelve photo motions, none of them among {@link standardPairs}: three each of translation,
 * rotation, zoom and local bumps, at sizes from a fraction of a pixel to about three pixels.
 * Photo k of n takes motions k, k + n, ...
 */
export function photoMotions(size = 128): Array<{ name: string; motion: KnownMotion }> {
  const bumps = (s: number, cy: number): KnownMotion => ({
    kind: 'bumps',
    bumps: [
      { cx: 0.3 * size, cy: cy * size, dx: -0.8 * s, dy: 0.6 * s, sigma: 0.08 * size },
      { cx: 0.7 * size, cy: cy * size, dx: 0.8 * s, dy: 0.6 * s, sigma: 0.08 * size },
      { cx: 0.5 * size, cy: (cy - 0.35) * size, dx: 0.3 * s, dy: -0.9 * s, sigma: 0.12 * size },
    ],
  });
  return [
    { name: 'translation (0.8, 1.2)', motion: { kind: 'translation', dx: 0.8, dy: 1.2 } },
    { name: 'rotation 1 degree', motion: { kind: 'rotation', degrees: 1 } },
    { name: 'zoom 2%', motion: { kind: 'zoom', factor: 1.02 } },
    { name: 'bumps 0.8 px', motion: bumps(0.8, 0.65) },
    { name: 'translation (-1.7, -0.5)', motion: { kind: 'translation', dx: -1.7, dy: -0.5 } },
    { name: 'rotation -2.5 degrees', motion: { kind: 'rotation', degrees: -2.5 } },
    { name: 'zoom -3%', motion: { kind: 'zoom', factor: 0.97 } },
    { name: 'bumps 1.2 px', motion: bumps(1.2, 0.7) },
    { name: 'translation (2.6, 0.9)', motion: { kind: 'translation', dx: 2.6, dy: 0.9 } },
    { name: 'rotation 3 degrees', motion: { kind: 'rotation', degrees: 3 } },
    { name: 'zoom 4%', motion: { kind: 'zoom', factor: 1.04 } },
    { name: 'bumps 2 px', motion: bumps(2, 0.6) },
  ];
}
