/**
 * Exact t-SNE (van der Maaten and Hinton, 2008) for the report's feature
 * maps: a few hundred points, so the O(n^2) form is fast enough and needs no
 * approximation. Deterministic for a given seed.
 *
 *   p_{j|i} ~ exp(-beta_i ||x_i - x_j||^2), beta_i set so that 2^H(P_i) = perplexity
 *   P = (P_{j|i} + P_{i|j}) / 2n;  q_ij ~ (1 + ||y_i - y_j||^2)^-1
 *   gradient descent on KL(P || Q) with momentum, per-parameter gains and early exaggeration
 */
import { Rng } from '../util/rng.js';

export interface TsneOptions {
  /** Effective number of neighbours. Default {@link DEFAULT_PERPLEXITY}, lowered to (n - 1) / 3 for small n. */
  perplexity?: number;
  /** Gradient steps. Default {@link DEFAULT_TSNE_ITERATIONS}. */
  iterations?: number;
  /** Step size. Default max(n / early exaggeration, 50) (Belkina et al. 2019), at most 200. */
  learningRate?: number;
  /** Seed of the initial layout. Default 1. */
  seed?: number;
  /** Output dimensions. Default 2. */
  dims?: number;
}

export const DEFAULT_PERPLEXITY = 30;
export const DEFAULT_TSNE_ITERATIONS = 500;
const EXAGGERATION = 12;
const EXAGGERATION_ITERS = 100;
const MOMENTUM_SWITCH = 250;

function squaredDistances(x: number[][]): Float64Array {
  const n = x.length;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    for (let j = i + 1; j < n; j++) {
      const xj = x[j];
      let s = 0;
      for (let k = 0; k < xi.length; k++) {
        const t = xi[k] - xj[k];
        s += t * t;
      }
      d[i * n + j] = s;
      d[j * n + i] = s;
    }
  }
  return d;
}

/**
 * Conditional probabilities p_{j|i} (row i, p_{i|i} = 0), each row's
 * Gaussian width found by bisection so that its perplexity is `perplexity`.
 */
export function conditionalP(dist2: Float64Array, n: number, perplexity: number): Float64Array {
  const P = new Float64Array(n * n);
  const target = Math.log(perplexity);
  for (let i = 0; i < n; i++) {
    let beta = 1;
    let lo = -Infinity;
    let hi = Infinity;
    // scale by the row's nearest distance so that exp() neither underflows nor stays flat
    let minD = Infinity;
    for (let j = 0; j < n; j++) if (j !== i && dist2[i * n + j] < minD) minD = dist2[i * n + j];
    for (let iter = 0; iter < 200; iter++) {
      let sum = 0;
      let dot = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const dd = dist2[i * n + j] - minD;
        const e = Math.exp(-beta * dd);
        P[i * n + j] = e;
        sum += e;
        dot += dd * e;
      }
      // H = log(sum) + beta <d>, with d shifted by minD (the shift cancels in p)
      const H = Math.log(sum) + (beta * dot) / sum;
      for (let j = 0; j < n; j++) P[i * n + j] /= sum;
      const diff = H - target;
      if (Math.abs(diff) < 1e-5) break;
      if (diff > 0) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2;
      }
    }
  }
  return P;
}

/** Entropy (nats) of row i of a conditional P. */
export function rowEntropy(P: Float64Array, n: number, i: number): number {
  let h = 0;
  for (let j = 0; j < n; j++) {
    const p = P[i * n + j];
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

/** Joint P = (P_{j|i} + P_{i|j}) / 2n, floored at 1e-12. */
export function jointP(x: number[][], perplexity: number): Float64Array {
  const n = x.length;
  const cond = conditionalP(squaredDistances(x), n, perplexity);
  const P = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      P[i * n + j] = Math.max((cond[i * n + j] + cond[j * n + i]) / (2 * n), 1e-12);
    }
  }
  return P;
}

/** Gaussian sample by Box-Muller from a seeded generator. */
function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Embeds the rows of `x` (all of one length) in `dims` dimensions. */
export function tsne(x: number[][], opts: TsneOptions = {}): number[][] {
  const n = x.length;
  const dims = opts.dims ?? 2;
  if (n === 0) return [];
  const width = x[0].length;
  x.forEach((row, i) => {
    if (row.length !== width) throw new Error(`tsne: point ${i} has ${row.length} values, point 0 has ${width}`);
    if (row.some((v) => !Number.isFinite(v))) throw new Error(`tsne: point ${i} has a non-finite value`);
  });
  if (n === 1) return [new Array<number>(dims).fill(0)];
  const perplexity = Math.max(1, Math.min(opts.perplexity ?? DEFAULT_PERPLEXITY, (n - 1) / 3));
  const iterations = opts.iterations ?? DEFAULT_TSNE_ITERATIONS;
  const lr = opts.learningRate ?? Math.min(200, Math.max(n / EXAGGERATION, 50));
  const P = jointP(x, perplexity);
  const rng = new Rng(opts.seed ?? 1);
  const Y = new Float64Array(n * dims);
  for (let i = 0; i < Y.length; i++) Y[i] = 1e-4 * gaussian(rng);
  const update = new Float64Array(n * dims);
  const gains = new Float64Array(n * dims).fill(1);
  const grad = new Float64Array(n * dims);
  // grad_i = 4 sum_j (exag p_ij - q_ij / Z) w_ij (y_i - y_j), w = (1 + d^2)^-1, q = w / Z: the attractive
  // part (p w) and the repulsive part (w^2) are summed in one pass over the pairs, then combined with Z
  const attract = new Float64Array(n * dims);
  const repel = new Float64Array(n * dims);
  const diff = new Float64Array(dims);
  for (let iter = 0; iter < iterations; iter++) {
    const exag = iter < EXAGGERATION_ITERS ? EXAGGERATION : 1;
    const momentum = iter < MOMENTUM_SWITCH ? 0.5 : 0.8;
    let Z = 0;
    attract.fill(0);
    repel.fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        let d = 0;
        for (let k = 0; k < dims; k++) {
          const t = Y[i * dims + k] - Y[j * dims + k];
          diff[k] = t;
          d += t * t;
        }
        const w = 1 / (1 + d);
        Z += 2 * w;
        const a = P[i * n + j] * w;
        const r = w * w;
        for (let k = 0; k < dims; k++) {
          attract[i * dims + k] += a * diff[k];
          attract[j * dims + k] -= a * diff[k];
          repel[i * dims + k] += r * diff[k];
          repel[j * dims + k] -= r * diff[k];
        }
      }
    }
    for (let a = 0; a < grad.length; a++) grad[a] = 4 * (exag * attract[a] - repel[a] / Z);
    for (let a = 0; a < Y.length; a++) {
      // gains grow where the step keeps its direction and shrink where it flips
      gains[a] = Math.sign(grad[a]) !== Math.sign(update[a]) ? gains[a] + 0.2 : Math.max(gains[a] * 0.8, 0.01);
      update[a] = momentum * update[a] - lr * gains[a] * grad[a];
      Y[a] += update[a];
    }
    // keep the layout centred
    for (let k = 0; k < dims; k++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += Y[i * dims + k];
      m /= n;
      for (let i = 0; i < n; i++) Y[i * dims + k] -= m;
    }
  }
  return Array.from({ length: n }, (_, i) => Array.from(Y.subarray(i * dims, (i + 1) * dims)));
}
