/**
 * The camera of the synthetic data: what happens to a drawn face between the
 * rasteriser and the bytes (lighting field, contrast, brightness, colour
 * cast, saturation, optical blur, sensor noise). One recording session keeps
 * its background, lighting and per-session variation fixed; the clips of
 * ./generate.ts and the long videos of ./long-video.ts are both shot this way.
 */
import type { Rng } from '../../util/rng.js';
import { type FaceGeometry, type FaceIdentity, drawFace } from './faces.js';
import { type Rgb, Canvas, gaussianTable } from './raster.js';

/** How a camera/session renders a face; applied after drawing, before noise. */
export interface AppearanceStyle {
  /** Added after contrast, in 0..1 units. */
  brightness: number;
  /** Contrast about mid grey. */
  contrast: number;
  /** Per-channel colour cast (grey frames take its luminance). */
  gain: Rgb;
  /** 1 = full colour, 0 = a grey camera (matters only for RGB output). */
  saturation: number;
  /** Optical/resolution blur std, face units (so it scales with frame size). */
  blur: number;
  /** Amplitude of a linear lighting gradient across the frame. */
  gradient: number;
  background: Rgb;
}

/** Where the face sits in the frame: face coordinate q maps to q * scale + (ox, oy). */
export interface FaceView {
  ox: number;
  oy: number;
  scale: number;
}

function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(2.5 * sigma));
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= s;
  return k;
}

/** Separable blur with clamped edges, in place; `line` is scratch of length n + kernel length. */
function blurInPlace(img: Float32Array, line: Float32Array, n: number, C: number, k: Float32Array): void {
  const r = (k.length - 1) >> 1;
  // stride between neighbours along the pass, stride between lines
  const pass = (step: number, lineStep: number) => {
    for (let l = 0; l < n; l++) {
      for (let c = 0; c < C; c++) {
        const base = l * lineStep + c;
        // Copy the line with r clamped pixels on each side, then convolve without bounds checks.
        for (let x = -r; x < n + r; x++) line[x + r] = img[base + (x < 0 ? 0 : x >= n ? n - 1 : x) * step];
        for (let x = 0; x < n; x++) {
          let s = 0;
          for (let t = 0; t < k.length; t++) s += k[t] * line[x + t];
          img[base + x * step] = s;
        }
      }
    }
  };
  pass(C, n * C);
  pass(n * C, C);
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * One recording session of a camera style: draws from `rng` the session's
 * brightness, contrast and lighting direction (in that order) when opened,
 * then sensor noise for every frame shot.
 */
export class CameraSession {
  private readonly cv: Canvas;
  private readonly background: Float32Array;
  private readonly light: Float32Array;
  private readonly brightness: number;
  private readonly contrast: number;
  private readonly sat: number;
  private readonly greyGain: number;
  private readonly kernel: Float32Array | null;
  private readonly line: Float32Array | null;
  private readonly noiseSd: number;

  constructor(
    private readonly style: AppearanceStyle,
    readonly size: number,
    readonly channels: number,
    /** Std of per-pixel sensor noise in grey levels (0..255). */
    noise: number,
    rng: Rng,
  ) {
    const C = channels;
    // Per-session variation around the camera style.
    this.brightness = style.brightness + rng.range(-0.02, 0.02);
    this.contrast = style.contrast * rng.range(0.97, 1.03);
    const angle = rng.range(0, 2 * Math.PI);
    const gx = style.gradient * Math.cos(angle);
    const gy = style.gradient * Math.sin(angle);
    this.sat = C === 3 ? style.saturation : 1;
    const gain = style.gain;
    this.greyGain = 0.299 * gain[0] + 0.587 * gain[1] + 0.114 * gain[2];
    const blurPx = (style.blur * size) / 2;
    this.kernel = blurPx >= 0.15 ? gaussianKernel(blurPx) : null;
    this.line = this.kernel ? new Float32Array(size + this.kernel.length) : null;
    this.noiseSd = noise / 255;

    this.cv = new Canvas(size, C);
    const npx = size * size;
    // Background and lighting field are fixed in frame coordinates: the camera does not move.
    this.background = new Float32Array(npx * C);
    this.light = new Float32Array(npx);
    const bg = this.cv.colour(style.background);
    for (let j = 0; j < size; j++) {
      const v = ((j + 0.5) / size) * 2 - 1;
      for (let i = 0; i < size; i++) {
        const u = ((i + 0.5) / size) * 2 - 1;
        const p = j * size + i;
        this.light[p] = 1 + gx * u + gy * v;
        const vig = 1 - 0.06 * v;
        for (let c = 0; c < C; c++) this.background[p * C + c] = bg[c] * vig;
      }
    }
  }

  /**
   * Draws the face at `view`, applies the camera with a global gain `flick`
   * (lamp flicker, 1 = none) and writes size*size*channels bytes to `out` at
   * `base`, drawing the sensor noise from `rng`.
   */
  shoot(id: FaceIdentity, geometry: FaceGeometry, view: FaceView, flick: number, rng: Rng, out: Uint8Array, base: number): void {
    const { cv, size, channels: C, brightness, contrast, sat, greyGain } = this;
    const gain = this.style.gain;
    const npx = size * size;
    cv.data.set(this.background);
    cv.setView(view.ox, view.oy, view.scale);
    drawFace(cv, id, geometry);

    const d = cv.data;
    const light = this.light;
    for (let p = 0; p < npx; p++) {
      const l = light[p] * flick;
      if (C === 1) {
        d[p] = (0.5 + (d[p] * l - 0.5) * contrast + brightness) * greyGain;
      } else {
        const k = p * 3;
        let r = 0.5 + (d[k] * l - 0.5) * contrast + brightness;
        let g = 0.5 + (d[k + 1] * l - 0.5) * contrast + brightness;
        let b = 0.5 + (d[k + 2] * l - 0.5) * contrast + brightness;
        const y = 0.299 * r + 0.587 * g + 0.114 * b;
        r = y + sat * (r - y);
        g = y + sat * (g - y);
        b = y + sat * (b - y);
        d[k] = r * gain[0];
        d[k + 1] = g * gain[1];
        d[k + 2] = b * gain[2];
      }
    }
    if (this.kernel && this.line) blurInPlace(d, this.line, size, C, this.kernel);

    const len = npx * C;
    const amp = this.noiseSd * 255;
    const table = gaussianTable();
    for (let q = 0; q < len; q += 2) {
      // Two 16-bit table indices per PRNG draw; Uint8Array stores truncate, so +0.5 rounds.
      const bits = rng.u32();
      out[base + q] = clamp255(d[q] * 255 + amp * table[bits & 0xffff] + 0.5);
      if (q + 1 < len) out[base + q + 1] = clamp255(d[q + 1] * 255 + amp * table[bits >>> 16] + 0.5);
    }
  }
}
