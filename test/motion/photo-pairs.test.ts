/**
 * Pairs cut from real photos with a known motion (`mimanet bench --flow --against-opencv --photos`):
 * the sampling adds no motion of its own, and the flow finds the motion that was applied.
 */
import { describe, expect, it } from 'vitest';
import { photoPairs, defaultPhotoDir } from '../../src/cli/bench-flow.js';
import { photoMotionPair, photoMotions, endpointErrors, median, type GreyImage } from '../../src/motion/pairs.js';
import { opticalFlow } from '../../src/motion/flow.js';
import sharp from 'sharp';
import { join } from 'node:path';

async function demoPhoto(name: string): Promise<GreyImage> {
  const { data, info } = await sharp(join(defaultPhotoDir(), name)).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, info.width * info.height) };
}

describe('photo pairs with known motion', () => {
  it('no motion gives two equal images; a whole-pixel shift gives the first image shifted', async () => {
    const photo = await demoPhoto('sample1.jpg');
    const still = photoMotionPair(photo, { kind: 'translation', dx: 0, dy: 0 }, 64);
    expect(Buffer.from(still.i1).equals(Buffer.from(still.i0))).toBe(true);
    // the content at x moves to x + 1 and y + 2: every sample point lands on one of the first image's
    const moved = photoMotionPair(photo, { kind: 'translation', dx: 1, dy: 2 }, 64);
    let differing = 0;
    for (let y = 2; y < 64; y++) for (let x = 1; x < 64; x++) if (moved.i1[y * 64 + x] !== moved.i0[(y - 2) * 64 + x - 1]) differing++;
    expect(differing).toBe(0);
    expect(moved.truth.u.every((u) => u === 1) && moved.truth.v.every((v) => v === 2)).toBe(true);
    // and the photo is not flat: a shift does change the pixels
    let changed = 0;
    for (let i = 0; i < 64 * 64; i++) if (moved.i1[i] !== moved.i0[i]) changed++;
    expect(changed).toBeGreaterThan(64 * 64 * 0.5);
  });

  it('the twelve pairs cycle through the demo photos, two motions of different kinds each', async () => {
    const motions = photoMotions();
    expect(motions).toHaveLength(12);
    expect(motions.filter((m) => m.motion.kind === 'translation')).toHaveLength(3);
    expect(motions.filter((m) => m.motion.kind === 'bumps')).toHaveLength(3);
    const pairs = await photoPairs(defaultPhotoDir(), 32);
    expect(pairs.map((p) => p.name.split(':')[0])).toEqual([1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6].map((k) => `sample${k}.jpg`));
  });

  it('TV-L1 recovers a sub-pixel translation of a photo within 0.05 px (median)', async () => {
    const photo = await demoPhoto('sample3.jpg');
    const pair = photoMotionPair(photo, { kind: 'translation', dx: 0.8, dy: 1.2 }, 128);
    const f = opticalFlow(pair.i0, pair.i1, 128, 128, {}, { implementation: 'ts' });
    expect(median(endpointErrors(f, pair.truth, 8))).toBeLessThan(0.05);
  });

  it('a folder without photos is refused with its name', async () => {
    await expect(photoPairs('/nonexistent-photos', 32)).rejects.toThrow('/nonexistent-photos not found');
    await expect(photoPairs(join(defaultPhotoDir(), '..', 'dist'), 32)).rejects.toThrow(/holds no \.jpg, \.jpeg or \.png photo/);
  });
});
