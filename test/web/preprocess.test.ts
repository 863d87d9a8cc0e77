/** The page's DOM-free preprocessing against sharp and TensorFlow.js. */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { centreSquare, frameBytes, greyLevel, naturalCompare, resampleClip, resizeBilinearRgb, rgbToGrey } from '../../web/src/preprocess.js';
import { parseMeta } from '../../web/src/model.js';
import { Rng } from '../../src/util/rng.js';
import { useCpu } from '../helpers.js';

beforeAll(useCpu);

function randomRgba(w: number, h: number, seed: number): { data: Uint8Array; width: number; height: number } {
  const rng = new Rng(seed);
  const data = new Uint8Array(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : rng.int(256);
  return { data, width: w, height: h };
}

describe('grey conversion', () => {
  it("agrees with sharp's greyscale() on a grid over the RGB cube, off by one level at most on rounding edges", async () => {
    const levels = Array.from({ length: 52 }, (_, i) => i * 5); // 0, 5, ..., 255
    const n = levels.length ** 3;
    const rgb = new Uint8Array(n * 3);
    let k = 0;
    for (const r of levels) for (const g of levels) for (const b of levels) rgb.set([r, g, b], 3 * k++);
    const ref = await sharp(rgb, { raw: { width: n, height: 1, channels: 3 } }).greyscale().raw().toBuffer();
    const ours = rgbToGrey(rgb);
    let off = 0;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(ours[i]! - ref[i]!);
      worst = Math.max(worst, d);
      off += d;
    }
    expect(worst).toBeLessThanOrEqual(1);
    // 114 of all 2^24 colours differ; a handful at most on this grid
    expect(off).toBeLessThanOrEqual(5);
  });

  it('is Rec. 709 luminance in linear light, not BT.601 luma on gamma values', () => {
    // pure red: BT.601 luma gives 76; linear-light luminance 0.2126 encodes to 127
    expect(greyLevel(255, 0, 0)).toBe(127);
    expect(greyLevel(0, 255, 0)).toBe(220);
    expect(greyLevel(0, 0, 255)).toBe(76);
    for (const v of [0, 1, 17, 128, 254, 255]) expect(greyLevel(v, v, v)).toBe(v);
  });
});

describe('resize', () => {
  it('equals TensorFlow.js bilinear with half-pixel centres, rounded to bytes', () => {
    const img = randomRgba(37, 23, 4);
    for (const out of [16, 23, 50]) {
      const ours = resizeBilinearRgb(img, out);
      const rgb = new Float32Array(37 * 23 * 3);
      for (let i = 0; i < 37 * 23; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = img.data[4 * i + c]!;
      const ref = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(rgb, [23, 37, 3]), [out, out], false, true).dataSync());
      let worst = 0;
      ours.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ref[i]!))));
      // both sample the same points; only the final rounding to a byte separates them
      expect(worst).toBeLessThanOrEqual(0.5 + 1e-4);
    }
  });

  it('copies exactly at the same size, and crops the centre square', () => {
    const img = randomRgba(12, 8, 5);
    const same = resizeBilinearRgb({ ...img, width: 12, height: 8, data: img.data.subarray(0, 12 * 8 * 4) }, 8, { x: 2, y: 0, width: 8, height: 8 });
    const sq = centreSquare(12, 8);
    expect(sq).toEqual({ x: 2, y: 0, width: 8, height: 8 });
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) for (let c = 0; c < 3; c++) expect(same[(y * 8 + x) * 3 + c]).toBe(img.data[(y * 12 + x + 2) * 4 + c]);
    expect(() => resizeBilinearRgb(img, 4, { x: 6, y: 0, width: 8, height: 8 })).toThrow(/does not fit a 12x8 image/);
    expect(frameBytes(img, 8, 1, sq)).toEqual(rgbToGrey(same));
  });
});

describe('clip assembly', () => {
  it('resamples onset..apex with blended, rounded frames: first is the onset, last the apex', () => {
    const f = [0, 10, 40].map((v) => new Uint8Array([v, 2 * v]));
    // 3 frames -> 5: positions 0, 0.5, 1, 1.5, 2
    expect([...resampleClip(f, 5)]).toEqual([0, 0, 5, 10, 10, 20, 25, 50, 40, 80]);
    expect(() => resampleClip([new Uint8Array(2), new Uint8Array(3)], 2)).toThrow(/expected 2/);
  });

  it('sorts frame names as a person would', () => {
    expect(['f10.png', 'f2.png', 'f1.png'].sort(naturalCompare)).toEqual(['f1.png', 'f2.png', 'f10.png']);
  });
});

describe('mimanet.json checks', () => {
  const good = { format: 'mimanet-checkpoint', version: 1, labels: ['a', 'b'], net: { size: 32, channels: 1, frames: 4 }, temporal: 'mean', normalization: { mean: [0.5], std: [0.5] } };
  it('accepts a checkpoint description and names the bad field otherwise', () => {
    expect(parseMeta(good).net).toMatchObject({ size: 32, channels: 1, frames: 4 });
    expect(() => parseMeta({ ...good, format: 'x' })).toThrow('mimanet.json: field "format" is "x": expected "mimanet-checkpoint"');
    expect(() => parseMeta({ ...good, net: { ...good.net, channels: 2 } })).toThrow('field "net.channels" is 2: expected 1 or 3');
    expect(() => parseMeta({ ...good, normalization: { mean: [0.5], std: [0] } })).toThrow('field "normalization.std[0]" is 0: expected a positive number');
    expect(() => parseMeta({ ...good, normalization: { mean: [0.1, 0.2], std: [0.5] } })).toThrow('field "normalization.mean" is [0.1,0.2]: expected one number');
  });
});
