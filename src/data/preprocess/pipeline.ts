/**
 * One clip from its frame files to the T x H x W x C bytes of the clip cache:
 * detect the face once (onset frame; the apex frame when the onset shows
 * none), align every frame with that one transform, resample onset..apex to
 * T frames.
 */
import type { RawClip } from '../datasets/types.js';
import { type AlignOptions, type Alignment, alignmentFromEyes, eyeCentres, planWarp, warpBilinear } from './align.js';
import { type FrameInput, type RawImage, decodeRgb, frameSource, loadFrameInputs, toSharp } from './decode.js';
import type { FaceDetector } from './face.js';
import { DEFAULT_RESAMPLE, type ResampleMode, blendInto, planIndices, resamplePlan } from './resample.js';

export interface PreprocessOptions {
  /** Frames per clip (T). */
  frames: number;
  /** Output height and width in pixels. */
  size: number;
  /** 1 (grey) or 3 (RGB). */
  channels: 1 | 3;
  /** Temporal resampling. Default {@link DEFAULT_RESAMPLE}. */
  resample?: ResampleMode;
  align?: AlignOptions;
  /** Longer side the detection frame is shrunk to before detection. Default {@link DEFAULT_DETECT_MAX_SIDE}. */
  detectMaxSide?: number;
  /** Frames decoded at once. Default {@link DEFAULT_FRAME_CONCURRENCY}. */
  concurrency?: number;
}

export const DEFAULT_DETECT_MAX_SIDE = 640;
/** Enough frames in flight to keep sharp's threads busy while the detector holds the JS thread. */
export const DEFAULT_FRAME_CONCURRENCY = 8;

/** A failure tied to one clip (and maybe one file): prepare turns it into a problem line or stops with it. */
export class ClipError extends Error {
  constructor(
    readonly dataset: string,
    readonly clip: string,
    readonly problem: string,
    readonly file?: string,
  ) {
    super(`${dataset} clip ${clip}: ${problem}${file ? ` (${file})` : ''}`);
    this.name = 'ClipError';
  }
}

export interface PreprocessedClip {
  frames: Uint8Array;
  face: {
    /** Which frame the face was found on. */
    on: 'onset' | 'apex';
    score: number;
    /** Tilt of the source eye line that alignment removed, degrees. */
    angleDeg: number;
    eyeDistancePx: number;
  };
}

/** Border added around a frame, as a fraction of its longer side, when the plain frame shows no face. */
export const DETECT_RETRY_BORDER = 0.3;

/** `image` centred on a mid-grey canvas with `border` pixels on every side. */
export function padImage(image: RawImage, border: number): RawImage {
  const w = image.width + 2 * border;
  const h = image.height + 2 * border;
  const c = image.channels;
  const data = new Uint8Array(w * h * c).fill(128);
  for (let y = 0; y < image.height; y++) {
    data.set(image.data.subarray(y * image.width * c, (y + 1) * image.width * c), ((y + border) * w + border) * c);
  }
  return { data, width: w, height: h, channels: c };
}

/**
 * Finds the face on one frame and returns the clip's alignment, or null.
 * SSD MobileNet misses faces that fill the whole frame (CASME II's cropped
 * frames), so a frame without a face is tried once more inside a grey border.
 */
export async function findAlignment(
  input: FrameInput,
  detector: FaceDetector,
  opts: Pick<PreprocessOptions, 'size' | 'align' | 'detectMaxSide'>,
): Promise<{ alignment: Alignment; score: number; sourceWidth: number; sourceHeight: number } | null> {
  const { image, scale, sourceWidth, sourceHeight } = await decodeRgb(input, opts.detectMaxSide ?? DEFAULT_DETECT_MAX_SIDE);
  let offset = 0;
  let face = await detector.detect(image);
  if (!face) {
    offset = Math.round(DETECT_RETRY_BORDER * Math.max(image.width, image.height));
    face = await detector.detect(padImage(image, offset));
  }
  if (!face) return null;
  const points = face.points.map((p) => ({ x: (p.x - offset + 0.5) / scale - 0.5, y: (p.y - offset + 0.5) / scale - 0.5 }));
  const { left, right } = eyeCentres(points);
  return { alignment: alignmentFromEyes(left, right, opts.size, opts.size, opts.align), score: face.score, sourceWidth, sourceHeight };
}

/**
 * Aligns one frame: cut the region, shrink it in sharp, warp it in JS.
 * `size` is the frame's size when known (all frames of a clip share the
 * detection frame's size), which saves reading the header; a frame of
 * another size then fails in sharp's extract and is reported.
 */
export async function alignFrame(input: FrameInput, alignment: Alignment, channels: 1 | 3, size?: { width: number; height: number }): Promise<Uint8Array> {
  const meta = size ?? ('file' in input ? await toSharp(input).metadata() : input.raw);
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (!(w > 0 && h > 0)) throw new Error('image has no size');
  const plan = planWarp(alignment, w, h);
  let chain = toSharp(input).extract(plan.region);
  if (plan.shrunk.width !== plan.region.width || plan.shrunk.height !== plan.region.height) {
    chain = chain.resize(plan.shrunk.width, plan.shrunk.height, { fit: 'fill' });
  }
  chain = channels === 1 ? chain.removeAlpha().greyscale() : chain.removeAlpha().toColourspace('srgb');
  const { data, info } = await chain.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`decoded to ${info.channels} channels, expected ${channels}`);
  return warpBilinear(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, channels, plan.map);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Preprocesses one clip. Throws a ClipError naming the clip (and the file)
 * when a frame cannot be read or no face is found.
 */
export async function preprocessClip(clip: RawClip, detector: FaceDetector, opts: PreprocessOptions): Promise<PreprocessedClip> {
  const n = clip.framePaths.length;
  const fail = (problem: string, file?: string): ClipError => new ClipError(clip.dataset, clip.id, problem, file);
  if (n === 0) throw fail('no frames');
  const plan = resamplePlan(n, opts.frames, opts.resample ?? DEFAULT_RESAMPLE);
  const needed = planIndices(plan);
  const refs = [...new Set([0, n - 1, ...needed])].sort((a, b) => a - b);
  let inputs: Map<number, FrameInput>;
  try {
    const loaded = await loadFrameInputs(refs.map((i) => clip.framePaths[i]!));
    inputs = new Map(refs.map((i, k) => [i, loaded[k]!]));
  } catch (e) {
    throw fail(`cannot read frames: ${(e as Error).message}`);
  }

  let found: Awaited<ReturnType<typeof findAlignment>> = null;
  let on: 'onset' | 'apex' = 'onset';
  for (const [which, index] of [['onset', 0], ['apex', n - 1]] as const) {
    if (which === 'apex' && n === 1) break;
    const input = inputs.get(index)!;
    try {
      found = await findAlignment(input, detector, opts);
    } catch (e) {
      throw fail(`cannot decode frame: ${(e as Error).message}`, frameSource(input));
    }
    if (found) {
      on = which;
      break;
    }
  }
  if (!found) throw fail('no face found on the onset or the apex frame', clip.framePaths[0]);

  const aligned = new Map<number, Uint8Array>();
  await mapLimit(needed, opts.concurrency ?? DEFAULT_FRAME_CONCURRENCY, async (i) => {
    const input = inputs.get(i)!;
    try {
      aligned.set(i, await alignFrame(input, found.alignment, opts.channels, { width: found.sourceWidth, height: found.sourceHeight }));
    } catch (e) {
      throw fail(`cannot decode frame: ${(e as Error).message}`, frameSource(input));
    }
  });
  const frameBytes = opts.size * opts.size * opts.channels;
  const out = new Uint8Array(opts.frames * frameBytes);
  plan.forEach((p, t) => blendInto(out, t * frameBytes, aligned.get(p.i0)!, aligned.get(p.i1)!, p.w));
  return {
    frames: out,
    face: { on, score: found.score, angleDeg: found.alignment.angleDeg, eyeDistancePx: found.alignment.eyeDistancePx },
  };
}
