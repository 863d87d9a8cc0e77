/**
 * TV-L1 optical flow: the duality-based method of Zach, Pock and Bischof ("A Duality Based
 * Approach for Realtime TV-L1 Optical Flow", DAGM 2007), in the discretisation analysed by
 * Sánchez Pérez, Meinhardt-Llopis and Facciolo ("TV-L1 Optical Flow Estimation", IPOL 2013),
 * with the median filtering of the flow between outer iterations of Wedel et al. ("An Improved
 * Algorithm for TV-L1 Optical Flow", 2009) as OpenCV's DualTVL1 applies it.
 *
 * The energy is  E(u) = Σ |∇u1| + |∇u2| + λ |I1(x + u) − I0(x)|,  relaxed with an auxiliary
 * field v and coupling 1/(2θ) |u − v|², and minimised by alternating
 *   - the pointwise thresholding step for v on the linearised residual ρ ({@link thresholdingStep}),
 *   - the primal update u = v + θ div p ({@link primalUpdate}),
 *   - Chambolle's projection for the dual field p ({@link dualProjection}),
 * around a linearisation of I1 at the current flow that is renewed `warps` times per level of a
 * coarse-to-fine pyramid. Intensities are in 0..255 (λ = 0.15 assumes that range).
 *
 * Browser-safe, no Node imports. The native addon (native/tvl1.cc) runs the same steps in the same
 * order and the same arithmetic (values stored as float32, computed in float64, sums in four
 * lanes then rows in order), so the two give the same flow; a test compares them.
 */

/** Parameters of TV-L1; defaults are OpenCV's DualTVL1 (tau, lambda, theta, scales, warps, epsilon as in Zach et al. and IPOL). */
export interface Tvl1Params {
  /** Time step of the dual update; Chambolle's scheme converges for tau <= 0.25. Default 0.25. */
  tau: number;
  /** Weight of the data term against total variation, for intensities in 0..255; smaller gives smoother flow. Default 0.15. */
  lambda: number;
  /** Coupling of u and v (the tighter, the smaller); also the step of the primal update. Default 0.3. */
  theta: number;
  /** Pyramid levels; fewer when a level would be under 16 px on a side. Default 5. */
  scales: number;
  /** Linearisations (warps of I1 by the current flow) per level. Default 5. */
  warps: number;
  /** A warp's iterations stop once the mean over pixels of |u_new − u|² is at most epsilon². Default 0.01. */
  epsilon: number;
  /** Iterations between two median filterings. Default 30 (OpenCV). */
  innerIterations: number;
  /** Median filterings per warp, so at most inner x outer iterations per warp. Default 10 (OpenCV). */
  outerIterations: number;
  /**
   * Side ratio of consecutive pyramid levels. Default 0.8 (OpenCV's DualTVL1); IPOL's code uses 0.5,
   * which needs fewer iterations but resolves large motions less well.
   */
  scaleStep: number;
  /** Side of the median filter applied to u1 and u2 before each outer iteration; 1 switches it off. Default 5 (OpenCV). */
  medianFiltering: number;
}

export const DEFAULT_TVL1_PARAMS: Readonly<Tvl1Params> = Object.freeze({
  tau: 0.25,
  lambda: 0.15,
  theta: 0.3,
  scales: 5,
  warps: 5,
  epsilon: 0.01,
  innerIterations: 30,
  outerIterations: 10,
  scaleStep: 0.8,
  medianFiltering: 5,
});

/** Smallest side of a pyramid level (OpenCV's and IPOL's rule). */
export const MIN_LEVEL_SIDE = 16;

/** A dense flow field: pixel (x, y) of the first image moves to (x + u, y + v) in the second. */
export interface FlowField {
  width: number;
  height: number;
  /** Horizontal displacement in pixels, row-major. */
  u: Float32Array;
  /** Vertical displacement in pixels (down is positive), row-major. */
  v: Float32Array;
}

function quoteValue(v: unknown): string {
  return typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v);
}

/** Fills the defaults and checks every field; errors name the field and quote the bad value. */
export function resolveTvl1Params(p: Partial<Tvl1Params> = {}, where = 'TV-L1 parameters'): Tvl1Params {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new Error(`${where}: expected an object of TV-L1 parameters, got ${quoteValue(p)}`);
  for (const k of Object.keys(p)) {
    if (!(k in DEFAULT_TVL1_PARAMS)) throw new Error(`${where}: unknown field "${k}" (expected ${Object.keys(DEFAULT_TVL1_PARAMS).join(', ')})`);
  }
  const r: Tvl1Params = { ...DEFAULT_TVL1_PARAMS, ...p };
  const num = (k: keyof Tvl1Params, lo: number, hi: number, openLo = true): void => {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v > hi || v < lo || (openLo && v === lo)) {
      throw new Error(`${where}: ${k} is ${quoteValue(v)}, expected a number in ${openLo ? '(' : '['}${lo}, ${hi}]`);
    }
  };
  const int = (k: keyof Tvl1Params, lo: number, hi: number): void => {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new Error(`${where}: ${k} is ${quoteValue(v)}, expected an integer in [${lo}, ${hi}]`);
  };
  num('tau', 0, 0.25);
  num('lambda', 0, 1e6);
  num('theta', 0, 1e6);
  int('scales', 1, 64);
  int('warps', 1, 1000);
  num('epsilon', 0, 1e6, false);
  int('innerIterations', 1, 100000);
  int('outerIterations', 1, 100000);
  num('scaleStep', 0, 1);
  if (r.scaleStep === 1 && r.scales > 1) throw new Error(`${where}: scaleStep is 1 with ${r.scales} scales, expected a ratio under 1`);
  int('medianFiltering', 1, 15);
  if (r.medianFiltering % 2 === 0) throw new Error(`${where}: medianFiltering is ${r.medianFiltering}, expected an odd side (1 = off)`);
  return r;
}

/** Width and height of each pyramid level, finest first: each side round(previous x scaleStep), stopping before one under 16 px. */
export function pyramidSizes(width: number, height: number, p: Pick<Tvl1Params, 'scales' | 'scaleStep'>): Array<[number, number]> {
  const sizes: Array<[number, number]> = [[width, height]];
  for (let s = 1; s < p.scales; s++) {
    const [w, h] = sizes[s - 1];
    const nw = Math.floor(w * p.scaleStep + 0.5);
    const nh = Math.floor(h * p.scaleStep + 0.5);
    if (nw < MIN_LEVEL_SIDE || nh < MIN_LEVEL_SIDE) break;
    sizes.push([nw, nh]);
  }
  return sizes;
}

/** Checks an image pair and returns the pixels as float32. */
function toFloatImage(img: ArrayLike<number>, width: number, height: number, name: string): Float32Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 3 || height < 3) {
    throw new Error(`optical flow: image size ${quoteValue(width)}x${quoteValue(height)}, expected integers of at least 3`);
  }
  if (img.length !== width * height) throw new Error(`optical flow: ${name} has ${img.length} pixels, expected ${width}x${height} = ${width * height} (one grey channel)`);
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = img[i];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Resampling: the pyramid and the warps.

/**
 * One axis of a bilinear resampling from n to m samples, pixel centres aligned ((k + 0.5) n / m - 0.5,
 * clamped to the image): for each output sample the two source samples and the second one's weight.
 */
export function bilinearAxis(n: number, m: number): { i0: Int32Array; i1: Int32Array; f: Float64Array } {
  const r = n / m;
  const i0 = new Int32Array(m);
  const i1 = new Int32Array(m);
  const f = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    let s = (k + 0.5) * r - 0.5;
    if (s < 0) s = 0;
    let a = Math.floor(s);
    if (a > n - 1) a = n - 1;
    i0[k] = a;
    i1[k] = a < n - 1 ? a + 1 : n - 1;
    f[k] = s - a > 1 ? 1 : s - a;
  }
  return { i0, i1, f };
}

/** Bilinear resampling of a w x h image to nw x nh ({@link bilinearAxis}), multiplied by `scale` (the flow's zoom factor when upsampling). */
export function resizeBilinear(src: Float32Array, w: number, h: number, dst: Float32Array, nw: number, nh: number, scale = 1): void {
  const ax = bilinearAxis(w, nw);
  const ay = bilinearAxis(h, nh);
  for (let y = 0; y < nh; y++) {
    const r0 = ay.i0[y] * w;
    const r1 = ay.i1[y] * w;
    const fy = ay.f[y];
    for (let x = 0; x < nw; x++) {
      const x0 = ax.i0[x];
      const x1 = ax.i1[x];
      const fx = ax.f[x];
      const a = src[r0 + x0] + fx * (src[r0 + x1] - src[r0 + x0]);
      const b = src[r1 + x0] + fx * (src[r1 + x1] - src[r1 + x0]);
      dst[y * nw + x] = (a + fy * (b - a)) * scale;
    }
  }
}

/** Centred differences of I1, one-sided (halved) at the borders, as IPOL and OpenCV take them. */
export function centredGradient(src: Float32Array, w: number, h: number, dx: Float32Array, dy: Float32Array): void {
  for (let y = 0; y < h; y++) {
    const up = y > 0 ? y - 1 : 0;
    const down = y < h - 1 ? y + 1 : h - 1;
    for (let x = 0; x < w; x++) {
      const left = x > 0 ? x - 1 : 0;
      const right = x < w - 1 ? x + 1 : w - 1;
      const i = y * w + x;
      dx[i] = 0.5 * (src[y * w + right] - src[y * w + left]);
      dy[i] = 0.5 * (src[down * w + x] - src[up * w + x]);
    }
  }
}

/** Cubic convolution of four samples at fraction t (Keys' kernel with a = −0.5, as IPOL's bicubic). */
function cubic(p0: number, p1: number, p2: number, p3: number, t: number): number {
  return p1 + 0.5 * t * (p2 - p0 + t * (2 * p0 - 5 * p1 + 4 * p2 - p3 + t * (3 * (p1 - p2) + p3 - p0)));
}

/**
 * The warp: I1, ∂xI1 and ∂yI1 sampled at x + u by bicubic interpolation, coordinates clamped to the
 * image (IPOL's Neumann boundary), then the constant part of the linearised residual
 *   ρ(u) = I1(x + u0) + ∇I1(x + u0)·(u − u0) − I0(x) = rhoC + I1wx u1 + I1wy u2
 * and |∇I1(x + u0)|².
 */
export function warpAndLinearise(
  i0: Float32Array, i1: Float32Array, i1x: Float32Array, i1y: Float32Array, w: number, h: number,
  u1: Float32Array, u2: Float32Array, i1wx: Float32Array, i1wy: Float32Array, grad: Float32Array, rhoC: Float32Array,
): void {
  const xi = [0, 0, 0, 0];
  const yi = [0, 0, 0, 0];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const px = x + u1[i];
      const py = y + u2[i];
      const fx0 = Math.floor(px);
      const fy0 = Math.floor(py);
      const tx = px - fx0;
      const ty = py - fy0;
      for (let k = 0; k < 4; k++) {
        const cx = fx0 - 1 + k;
        const cy = fy0 - 1 + k;
        xi[k] = cx < 0 ? 0 : cx > w - 1 ? w - 1 : cx;
        yi[k] = (cy < 0 ? 0 : cy > h - 1 ? h - 1 : cy) * w;
      }
      const sample = (img: Float32Array): number => cubic(
        cubic(img[yi[0] + xi[0]], img[yi[0] + xi[1]], img[yi[0] + xi[2]], img[yi[0] + xi[3]], tx),
        cubic(img[yi[1] + xi[0]], img[yi[1] + xi[1]], img[yi[1] + xi[2]], img[yi[1] + xi[3]], tx),
        cubic(img[yi[2] + xi[0]], img[yi[2] + xi[1]], img[yi[2] + xi[2]], img[yi[2] + xi[3]], tx),
        cubic(img[yi[3] + xi[0]], img[yi[3] + xi[1]], img[yi[3] + xi[2]], img[yi[3] + xi[3]], tx),
        ty,
      );
      const iw = Math.fround(sample(i1));
      const ix = Math.fround(sample(i1x));
      const iy = Math.fround(sample(i1y));
      i1wx[i] = ix;
      i1wy[i] = iy;
      grad[i] = ix * ix + iy * iy;
      rhoC[i] = iw - ix * u1[i] - iy * u2[i] - i0[i];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// One iteration: thresholding, primal update, dual projection.

/**
 * The thresholding step (Zach et al.; IPOL's TH operator): the v that minimises
 * 1/(2θ)|u − v|² + λ|ρ(v)| pointwise, for the residual ρ linearised at u0 (ρ = rhoC + ∇I1w·u):
 *   v = u + λθ ∇I1w            if ρ < −λθ |∇I1w|²
 *   v = u − λθ ∇I1w            if ρ >  λθ |∇I1w|²
 *   v = u − ρ ∇I1w / |∇I1w|²   otherwise (v = u where the gradient vanishes)
 * Returns the component `c` (0: v1, 1: v2) through `out`.
 */
export function thresholdingStep(rhoC: number, ix: number, iy: number, g: number, u1: number, u2: number, lt: number, out: number[]): void {
  const rho = rhoC + (ix * u1 + iy * u2);
  let d1 = 0;
  let d2 = 0;
  if (rho < -lt * g) {
    d1 = lt * ix;
    d2 = lt * iy;
  } else if (rho > lt * g) {
    d1 = -lt * ix;
    d2 = -lt * iy;
  } else if (g > GRAD_IS_ZERO) {
    const fi = -rho / g;
    d1 = fi * ix;
    d2 = fi * iy;
  }
  out[0] = u1 + d1;
  out[1] = u2 + d2;
}

/** |∇I1w|² under which the thresholding step leaves u as it is (float32 epsilon, as OpenCV). */
export const GRAD_IS_ZERO = 1.1920928955078125e-7;

/**
 * Divergence of a dual field (p1, p2) at pixel (x, y): backward differences, the negative adjoint
 * of {@link forwardGradient} (p1 taken as 0 left of the image, p2 above it).
 */
export function divergence(p1: Float32Array, p2: Float32Array, w: number, x: number, y: number): number {
  const i = y * w + x;
  const a = x > 0 ? p1[i] - p1[i - 1] : p1[i];
  const b = y > 0 ? p2[i] - p2[i - w] : p2[i];
  return a + b;
}

/**
 * Thresholding, then the primal update u = v + θ div p (IPOL's u-step), for every pixel of rows
 * [y0, y1). Returns the sum of |u_new − u|² of each row in `rowError` (four lanes by x mod 4,
 * added as (l0 + l1) + (l2 + l3), so that the native code can add them the same way in SIMD).
 */
export function primalUpdate(
  s: LevelState, w: number, y0: number, y1: number, lt: number, theta: number, rowError: Float64Array,
): void {
  const { u1, u2, p11, p12, p21, p22, i1wx, i1wy, grad, rhoC } = s;
  const v = [0, 0];
  for (let y = y0; y < y1; y++) {
    let l0 = 0, l1 = 0, l2 = 0, l3 = 0;
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const a = u1[i];
      const b = u2[i];
      thresholdingStep(rhoC[i], i1wx[i], i1wy[i], grad[i], a, b, lt, v);
      const n1 = Math.fround(v[0] + theta * divergence(p11, p12, w, x, y));
      const n2 = Math.fround(v[1] + theta * divergence(p21, p22, w, x, y));
      u1[i] = n1;
      u2[i] = n2;
      const e = (n1 - a) * (n1 - a) + (n2 - b) * (n2 - b);
      switch (x & 3) {
        case 0: l0 += e; break;
        case 1: l1 += e; break;
        case 2: l2 += e; break;
        default: l3 += e;
      }
    }
    rowError[y] = (l0 + l1) + (l2 + l3);
  }
}

/** Forward differences of u at pixel i, zero across the last column and row (IPOL, OpenCV). */
export function forwardGradient(u: Float32Array, w: number, h: number, x: number, y: number, out: number[]): void {
  const i = y * w + x;
  out[0] = x < w - 1 ? u[i + 1] - u[i] : 0;
  out[1] = y < h - 1 ? u[i + w] - u[i] : 0;
}

/**
 * Chambolle's projection for the dual fields, for rows [y0, y1):
 *   p = (p + τ/θ ∇u) / (1 + τ/θ |∇u|)
 * for p1 = (p11, p12) of u1 and p2 = (p21, p22) of u2.
 */
export function dualProjection(s: LevelState, w: number, h: number, y0: number, y1: number, taut: number): void {
  const { u1, u2, p11, p12, p21, p22 } = s;
  const g = [0, 0];
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      forwardGradient(u1, w, h, x, y, g);
      const ng1 = 1 + taut * Math.sqrt(g[0] * g[0] + g[1] * g[1]);
      p11[i] = (p11[i] + taut * g[0]) / ng1;
      p12[i] = (p12[i] + taut * g[1]) / ng1;
      forwardGradient(u2, w, h, x, y, g);
      const ng2 = 1 + taut * Math.sqrt(g[0] * g[0] + g[1] * g[1]);
      p21[i] = (p21[i] + taut * g[0]) / ng2;
      p22[i] = (p22[i] + taut * g[1]) / ng2;
    }
  }
}

/**
 * Median of the k x k neighbourhood of every pixel, borders replicated (Wedel et al.'s median
 * filtering of the flow; OpenCV's medianBlur). `padded` holds the field with its borders
 * replicated, (w + k - 1) x (h + k - 1) values.
 */
export function medianFilter(u: Float32Array, w: number, h: number, k: number, padded: Float32Array, win: Float64Array): void {
  const r = (k - 1) >> 1;
  const pw = w + 2 * r;
  for (let y = -r; y < h + r; y++) {
    const sy = y < 0 ? 0 : y > h - 1 ? h - 1 : y;
    const row = (y + r) * pw + r;
    for (let x = -r; x < w + r; x++) padded[row + x] = u[sy * w + (x < 0 ? 0 : x > w - 1 ? w - 1 : x)];
  }
  const n = k * k;
  const mid = (n - 1) >> 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let m = 0;
      for (let dy = 0; dy < k; dy++) {
        const base = (y + dy) * pw + x;
        for (let dx = 0; dx < k; dx++) win[m++] = padded[base + dx];
      }
      u[y * w + x] = select(win, n, mid);
    }
  }
}

/** The k-th smallest of a[0..n) (Hoare's selection; reorders a). */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i]; a[i] = a[j]; a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

// ---------------------------------------------------------------------------------------------
// One level, then the pyramid.

/** The buffers of one pyramid level (sized for the finest level and reused). */
export interface LevelState {
  u1: Float32Array; u2: Float32Array;
  p11: Float32Array; p12: Float32Array; p21: Float32Array; p22: Float32Array;
  i1x: Float32Array; i1y: Float32Array; i1wx: Float32Array; i1wy: Float32Array;
  grad: Float32Array; rhoC: Float32Array;
  padded: Float32Array; rowError: Float64Array; window: Float64Array;
}

function newLevelState(w: number, h: number, k: number): LevelState {
  const n = w * h;
  const f = (): Float32Array => new Float32Array(n);
  return {
    u1: f(), u2: f(), p11: f(), p12: f(), p21: f(), p22: f(), i1x: f(), i1y: f(), i1wx: f(), i1wy: f(), grad: f(), rhoC: f(),
    padded: new Float32Array((w + k - 1) * (h + k - 1)),
    rowError: new Float64Array(h), window: new Float64Array(k * k),
  };
}

/** Sum of the rows' errors, in row order (the native code adds them in the same order, whatever its threads). */
function totalError(rowError: Float64Array, h: number): number {
  let e = 0;
  for (let y = 0; y < h; y++) e += rowError[y];
  return e;
}

/**
 * TV-L1 at one level: `warps` linearisations, each iterated until the squared change of u falls to
 * epsilon² per pixel or inner x outer iterations have run, the flow median-filtered before each
 * outer iteration. The dual fields start at zero on each level. u1, u2 hold the initial flow and
 * receive the result. Returns the iterations run.
 */
export function tvl1Level(i0: Float32Array, i1: Float32Array, w: number, h: number, s: LevelState, p: Tvl1Params): number {
  const n = w * h;
  const scaledEpsilon = p.epsilon * p.epsilon * n;
  const lt = p.lambda * p.theta;
  const taut = p.tau / p.theta;
  centredGradient(i1, w, h, s.i1x, s.i1y);
  s.p11.fill(0, 0, n);
  s.p12.fill(0, 0, n);
  s.p21.fill(0, 0, n);
  s.p22.fill(0, 0, n);
  let iterations = 0;
  for (let warp = 0; warp < p.warps; warp++) {
    warpAndLinearise(i0, i1, s.i1x, s.i1y, w, h, s.u1, s.u2, s.i1wx, s.i1wy, s.grad, s.rhoC);
    let error = Infinity;
    for (let outer = 0; error > scaledEpsilon && outer < p.outerIterations; outer++) {
      if (p.medianFiltering > 1) {
        medianFilter(s.u1, w, h, p.medianFiltering, s.padded, s.window);
        medianFilter(s.u2, w, h, p.medianFiltering, s.padded, s.window);
      }
      for (let inner = 0; error > scaledEpsilon && inner < p.innerIterations; inner++) {
        primalUpdate(s, w, 0, h, lt, p.theta, s.rowError);
        error = totalError(s.rowError, h);
        dualProjection(s, w, h, 0, h, taut);
        iterations++;
      }
    }
  }
  return iterations;
}

/**
 * TV-L1 optical flow from grey image `i0` to `i1` (w x h, intensities 0..255, row-major), in
 * TypeScript. Most callers want `opticalFlow` (src/motion/flow.ts), which runs the native addon
 * when it is there.
 */
export function tvl1FlowTs(i0: ArrayLike<number>, i1: ArrayLike<number>, width: number, height: number, params: Partial<Tvl1Params> = {}): FlowField {
  const p = resolveTvl1Params(params);
  const a = toFloatImage(i0, width, height, 'the first image');
  const b = toFloatImage(i1, width, height, 'the second image');
  const sizes = pyramidSizes(width, height, p);
  const i0s = [a];
  const i1s = [b];
  for (let s = 1; s < sizes.length; s++) {
    const [pw, ph] = sizes[s - 1];
    const [nw, nh] = sizes[s];
    const da = new Float32Array(nw * nh);
    const db = new Float32Array(nw * nh);
    resizeBilinear(i0s[s - 1], pw, ph, da, nw, nh);
    resizeBilinear(i1s[s - 1], pw, ph, db, nw, nh);
    i0s.push(da);
    i1s.push(db);
  }
  const n = width * height;
  const state = newLevelState(width, height, p.medianFiltering);
  const up1 = new Float32Array(n);
  const up2 = new Float32Array(n);
  for (let s = sizes.length - 1; s >= 0; s--) {
    const [w, h] = sizes[s];
    tvl1Level(i0s[s], i1s[s], w, h, state, p);
    if (s === 0) break;
    const [fw, fh] = sizes[s - 1];
    // zoom the flow to the next finer level, its components scaled by the side ratios
    resizeBilinear(state.u1, w, h, up1, fw, fh, fw / w);
    resizeBilinear(state.u2, w, h, up2, fw, fh, fh / h);
    state.u1.set(up1.subarray(0, fw * fh));
    state.u2.set(up2.subarray(0, fw * fh));
  }
  return { width, height, u: state.u1.slice(0, n), v: state.u2.slice(0, n) };
}
