/**
 * Optical flow in Node: TV-L1 on the native addon when it is built (native/tvl1.cc, threads and
 * SIMD), else the TypeScript implementation (./tvl1.ts). The two run the same arithmetic and give
 * the same flow (a test compares them), so which one ran never changes a result. Pages use
 * `opticalFlow` of `mimanet/browser`, the TypeScript one.
 */
import { loadNativeAddon, type NativeAddon } from '../backend/native.js';
import { resolveTvl1Params, tvl1FlowTs, type FlowField, type Tvl1Params } from './tvl1.js';

/** Which implementation computes the flow. */
export type FlowImplementation = 'auto' | 'native' | 'ts';

export interface FlowRunOptions {
  /** Threads of the native implementation (the flow is the same for any count). Default 1. */
  threads?: number;
  /** 'auto' (default): native when the addon is built, else TypeScript; 'native' fails without the addon. */
  implementation?: FlowImplementation;
}

let nativeFlow: NativeAddon['tvl1Flow'] | null | undefined;

/** The addon's tvl1Flow, or null (with why) when the addon is missing or older than TV-L1. */
function nativeTvl1(): { fn: NativeAddon['tvl1Flow'] | null; why?: string } {
  if (nativeFlow !== undefined) return { fn: nativeFlow };
  try {
    const addon = loadNativeAddon();
    nativeFlow = typeof addon.tvl1Flow === 'function' ? addon.tvl1Flow.bind(addon) : null;
    return nativeFlow ? { fn: nativeFlow } : { fn: null, why: 'the native addon predates TV-L1; rebuild it with `node native/build.mjs`' };
  } catch (e) {
    nativeFlow = null;
    return { fn: null, why: (e as Error).message };
  }
}

/** Whether `opticalFlow` runs natively here; `why` says why not. */
export function nativeFlowAvailable(): { available: boolean; why?: string } {
  const { fn, why } = nativeTvl1();
  return fn ? { available: true } : { available: false, why: why ?? 'the native addon is not available' };
}

function toF32(img: ArrayLike<number>): Float32Array {
  return img instanceof Float32Array ? img : Float32Array.from(img);
}

/**
 * TV-L1 optical flow from grey image `i0` to `i1` (width x height, intensities 0..255,
 * row-major): pixel (x, y) of i0 is at (x + u, y + v) in i1. Parameters default to
 * {@link DEFAULT_TVL1_PARAMS} (OpenCV's DualTVL1 defaults).
 */
export function opticalFlow(i0: ArrayLike<number>, i1: ArrayLike<number>, width: number, height: number, params: Partial<Tvl1Params> = {}, opts: FlowRunOptions = {}): FlowField {
  const impl = opts.implementation ?? 'auto';
  if (impl !== 'auto' && impl !== 'native' && impl !== 'ts') throw new Error(`optical flow: implementation is ${JSON.stringify(impl)}, expected "auto", "native" or "ts"`);
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new Error(`optical flow: threads is ${JSON.stringify(threads)}, expected an integer in [1, 256]`);
  if (impl === 'ts') return tvl1FlowTs(i0, i1, width, height, params);
  const { fn, why } = nativeTvl1();
  if (!fn) {
    if (impl === 'native') throw new Error(`optical flow: the native implementation is not available (${why})`);
    return tvl1FlowTs(i0, i1, width, height, params);
  }
  const p = resolveTvl1Params(params);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 3 || height < 3) {
    throw new Error(`optical flow: image size ${JSON.stringify(width)}x${JSON.stringify(height)}, expected integers of at least 3`);
  }
  const n = width * height;
  if (i0.length !== n) throw new Error(`optical flow: the first image has ${i0.length} pixels, expected ${width}x${height} = ${n} (one grey channel)`);
  if (i1.length !== n) throw new Error(`optical flow: the second image has ${i1.length} pixels, expected ${width}x${height} = ${n} (one grey channel)`);
  const u = new Float32Array(n);
  const v = new Float32Array(n);
  const q = Float64Array.of(p.tau, p.lambda, p.theta, p.scales, p.warps, p.epsilon, p.innerIterations, p.outerIterations, p.scaleStep, p.medianFiltering);
  fn(toF32(i0), toF32(i1), width, height, q, threads, u, v);
  return { width, height, u, v };
}
