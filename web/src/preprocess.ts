/**
 * Frames of an already-aligned clip -> the bytes MiNet was trained on, with no
 * DOM in sight so Node can run the very same code to check the page.
 *
 *   decode (RGBA, native size) -> bilinear resize of RGB to size x size
 *   -> grey (when channels = 1) -> onset..apex resampled to T frames
 *
 * Normalisation and the apex/frames split are left to `makeBatch`
 * (src/data/batches.ts, through src/browser.ts), the function training and evaluation use.
 */
import { DEFAULT_RESAMPLE, type ResampleMode, blendInto, resamplePlan } from '../../src/browser.js';

/** Pixels as a canvas hands them out: RGBA, rows top to bottom. */
export interface RgbaImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/** A crop rectangle in source pixels. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The largest centred square: what the webcam shows inside its guide box. */
export function centreSquare(width: number, height: number): Rect {
  const side = Math.min(width, height);
  return { x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), width: side, height: side };
}

/**
 * RGB of `img` (or of `crop` within it) at `out` x `out`, bilinear with pixel
 * centres at half-integers and edges clamped, rounded to bytes. Same size and
 * no crop is an exact copy.
 */
export function resizeBilinearRgb(img: RgbaImage, out: number, crop?: Rect): Uint8Array {
  const { data, width } = img;
  const r = crop ?? { x: 0, y: 0, width: img.width, height: img.height };
  if (!(r.width > 0 && r.height > 0 && r.x >= 0 && r.y >= 0 && r.x + r.width <= img.width && r.y + r.height <= img.height)) {
    throw new Error(`crop ${JSON.stringify(r)} does not fit a ${img.width}x${img.height} image`);
  }
  const dst = new Uint8Array(out * out * 3);
  const sx = r.width / out;
  const sy = r.height / out;
  const maxX = r.width - 1;
  const maxY = r.height - 1;
  let o = 0;
  for (let v = 0; v < out; v++) {
    let y = (v + 0.5) * sy - 0.5;
    y = y < 0 ? 0 : y > maxY ? maxY : y;
    const y0 = Math.floor(y);
    const y1 = y0 < maxY ? y0 + 1 : y0;
    const fy = y - y0;
    const row0 = (r.y + y0) * width;
    const row1 = (r.y + y1) * width;
    for (let u = 0; u < out; u++) {
      let x = (u + 0.5) * sx - 0.5;
      x = x < 0 ? 0 : x > maxX ? maxX : x;
      const x0 = Math.floor(x);
      const x1 = x0 < maxX ? x0 + 1 : x0;
      const fx = x - x0;
      const p00 = (row0 + r.x + x0) * 4;
      const p01 = (row0 + r.x + x1) * 4;
      const p10 = (row1 + r.x + x0) * 4;
      const p11 = (row1 + r.x + x1) * 4;
      for (let c = 0; c < 3; c++) {
        const top = data[p00 + c]! + (data[p01 + c]! - data[p00 + c]!) * fx;
        const bottom = data[p10 + c]! + (data[p11 + c]! - data[p10 + c]!) * fx;
        dst[o++] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return dst;
}

/*
 * Grey as sharp's `greyscale()` makes it (libvips sRGB -> B_W): each channel
 * to linear light through the sRGB curve, Y = 0.2126 R + 0.7152 G + 0.0722 B
 * (Rec. 709 luminance, not BT.601 luma), back through the sRGB curve by a
 * 256-entry table with linear interpolation. Computed in float32 like libvips;
 * over all 2^24 colours it agrees with sharp 0.34 except 114 colours that sit
 * on a rounding edge and come out one grey level apart.
 */
const f32 = Math.fround;
const SRGB_TO_LINEAR = new Float32Array(256);
const LINEAR_TO_SRGB = new Int32Array(257);
for (let i = 0; i < 256; i++) {
  const v = f32(i / 255);
  SRGB_TO_LINEAR[i] = v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  LINEAR_TO_SRGB[i] = Math.round(255 * f32(v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(v, 1 / 2.4) - 0.055));
}
LINEAR_TO_SRGB[256] = LINEAR_TO_SRGB[255]!; // lets the interpolation read index + 1 at the top
const KR = f32(0.2126);
const KG = f32(0.7152);
const KB = f32(0.0722);

/** One grey level from 8-bit sRGB, as sharp's `greyscale()` computes it. */
export function greyLevel(r: number, g: number, b: number): number {
  const y = f32(f32(f32(KR * SRGB_TO_LINEAR[r]!) + f32(KG * SRGB_TO_LINEAR[g]!)) + f32(KB * SRGB_TO_LINEAR[b]!));
  let p = f32(y * 255);
  p = p < 0 ? 0 : p > 255 ? 255 : p;
  const i = Math.trunc(p);
  const lo = LINEAR_TO_SRGB[i]!;
  return Math.trunc(f32(lo + f32((LINEAR_TO_SRGB[i + 1]! - lo) * f32(p - i))) + 0.5);
}

/** Packed RGB bytes -> grey bytes. */
export function rgbToGrey(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0, j = 0; i < out.length; i++, j += 3) out[i] = greyLevel(rgb[j]!, rgb[j + 1]!, rgb[j + 2]!);
  return out;
}

/** One decoded frame -> size x size x channels bytes. */
export function frameBytes(img: RgbaImage, size: number, channels: 1 | 3, crop?: Rect): Uint8Array {
  const rgb = resizeBilinearRgb(img, size, crop);
  return channels === 1 ? rgbToGrey(rgb) : rgb;
}

/**
 * An onset..apex run of `n` frames (each size x size x channels bytes) ->
 * T frames, frame-major, by the resampling rule of the preprocessing
 * pipeline. `frameAt` is asked only for the frames the plan reads.
 */
export function resampleRun(n: number, frameAt: (i: number) => Uint8Array, T: number, mode: ResampleMode = DEFAULT_RESAMPLE): Uint8Array {
  const plan = resamplePlan(n, T, mode);
  const first = frameAt(plan[0]!.i0);
  const out = new Uint8Array(T * first.length);
  plan.forEach((p, t) => {
    const a = frameAt(p.i0);
    const b = frameAt(p.i1);
    if (a.length !== first.length || b.length !== first.length) throw new Error(`frames ${p.i0} and ${p.i1} have ${a.length} and ${b.length} bytes, expected ${first.length}`);
    blendInto(out, t * first.length, a, b, p.w);
  });
  return out;
}

/** {@link resampleRun} over an array of frames. */
export function resampleClip(frames: readonly Uint8Array[], T: number, mode: ResampleMode = DEFAULT_RESAMPLE): Uint8Array {
  if (frames.length === 0) throw new Error('no frames to resample');
  return resampleRun(frames.length, (i) => frames[i]!, T, mode);
}

/** Names in the order a person reads them: frame2 before frame10. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });
}
