import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawClip } from '../../src/data/datasets/types.js';
import { videoFrameRef } from '../../src/data/datasets/types.js';
import { alignmentFromEyes, eyeAngleDeg, eyeCentres, mapToOutput, mapToSource, planWarp, warpBilinear, type Alignment } from '../../src/data/preprocess/align.js';
import { decodeBmpFile, decodeRgb, loadFrameInputs } from '../../src/data/preprocess/decode.js';
import { type FaceDetector, createFaceDetector } from '../../src/data/preprocess/face.js';
import { ClipError, alignFrame, findAlignment, padImage, preprocessClip } from '../../src/data/preprocess/pipeline.js';
import { blendInto, planIndices, resamplePlan } from '../../src/data/preprocess/resample.js';
import { ffmpegPath, probeVideo } from '../../src/data/preprocess/video.js';
import { FACE_API_DEMO, blankFrame, faceFrame, pattern, tmpTree, writeBmp, writeImage, removeTrees } from './fixtures.js';

afterAll(removeTrees);

describe('temporal resampling', () => {
  it('linear: onset first, apex last, fractional positions between', () => {
    // n = 5 to T = 3: positions 0, 2, 4.
    expect(resamplePlan(5, 3)).toEqual([{ i0: 0, i1: 0, w: 0 }, { i0: 2, i1: 2, w: 0 }, { i0: 4, i1: 4, w: 0 }]);
    // n = 3 to T = 5: positions 0, 0.5, 1, 1.5, 2.
    expect(resamplePlan(3, 5)).toEqual([
      { i0: 0, i1: 0, w: 0 },
      { i0: 0, i1: 1, w: 0.5 },
      { i0: 1, i1: 1, w: 0 },
      { i0: 1, i1: 2, w: 0.5 },
      { i0: 2, i1: 2, w: 0 },
    ]);
    const p = resamplePlan(4, 3); // positions 0, 1.5, 3
    expect(p[1]).toEqual({ i0: 1, i1: 2, w: 0.5 });
    expect(planIndices(p)).toEqual([0, 1, 2, 3]);
    expect(resamplePlan(7, 1)).toEqual([{ i0: 6, i1: 6, w: 0 }]);
  });

  it('nearest rounds the position', () => {
    // n = 4 to T = 3: positions 0, 1.5, 3 -> 0, 2, 3.
    expect(resamplePlan(4, 3, 'nearest').map((s) => s.i0)).toEqual([0, 2, 3]);
    expect(() => resamplePlan(0, 3)).toThrow(/source has 0 frames/);
  });

  it('blends two frames with the plan weight', () => {
    const out = new Uint8Array(4);
    blendInto(out, 1, Uint8Array.from([10, 20, 30]), Uint8Array.from([20, 21, 0]), 0.5);
    expect([...out]).toEqual([0, 15, 21, 15]); // 20.5 rounds to 21
  });
});

describe('alignment geometry', () => {
  it('puts the eyes level at the target distance and height', () => {
    const left = { x: 40, y: 60 };
    const right = { x: 80, y: 90 }; // 50 px apart, tilted atan(30/40) = 36.87 deg
    const al = alignmentFromEyes(left, right, 100, 100, { eyeDistance: 0.4, eyeY: 0.3 });
    expect(al.angleDeg).toBeCloseTo(36.8699, 3);
    const l = mapToOutput(al, left.x, left.y);
    const r = mapToOutput(al, right.x, right.y);
    expect(l.y).toBeCloseTo(r.y, 9);
    expect(l.y).toBeCloseTo(0.3 * 99, 9);
    expect(r.x - l.x).toBeCloseTo(40, 9);
    expect((l.x + r.x) / 2).toBeCloseTo(49.5, 9);
    const back = mapToSource(al, r.x, r.y);
    expect(back.x).toBeCloseTo(80, 9);
    expect(back.y).toBeCloseTo(90, 9);
  });

  it('warps bilinearly: identity, 90 degree rotation, half-pixel shift', () => {
    // 4x4 grey image, value 10x + 50y.
    const src = new Uint8Array(16);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) src[y * 4 + x] = 10 * x + 50 * y;
    const base: Alignment = { a: 1, b: 0, cu: 1.5, cv: 1.5, cx: 1.5, cy: 1.5, angleDeg: 0, eyeDistancePx: 1, outWidth: 4, outHeight: 4 };
    expect([...warpBilinear(src, 4, 4, 1, base)]).toEqual([...src]);
    // Rotation by 90 degrees: x = cx - (v - cv), y = cy + (u - cu); output (u=0, v=0) reads source (3, 0) = 30.
    const rot = warpBilinear(src, 4, 4, 1, { ...base, a: 0, b: 1 });
    expect(rot[0]).toBe(30);
    expect(rot[3]).toBe(30 + 150); // (u=3, v=0) reads (3, 3)
    expect(rot[12]).toBe(0); // (u=0, v=3) reads (0, 0)
    // Shift by half a pixel in x: the average of neighbours; the last column repeats the edge.
    const half = warpBilinear(src, 4, 4, 1, { ...base, cx: 2 });
    expect([...half.slice(0, 4)]).toEqual([5, 15, 25, 30]);
  });

  it('plans a pre-shrink so the final warp never minifies', () => {
    const al = alignmentFromEyes({ x: 800, y: 500 }, { x: 1000, y: 500 }, 64, 64, { eyeDistance: 0.25 });
    // 200 source px across 16 output px: 12.5 source px per output px.
    const plan = planWarp(al, 1920, 1080);
    expect(plan.region.width).toBeGreaterThan(64 * 12);
    expect(Math.abs(plan.shrunk.width - plan.region.width / 12.5)).toBeLessThan(1);
    expect(Math.hypot(plan.map.a, plan.map.b)).toBeCloseTo(1, 1);
  });
});

describe('decoding', () => {
  it('decodes BMP (bmp-js) to the RGB values written', () => {
    const dir = tmpTree('bmp');
    const rgb = pattern(5, 3, 9);
    writeBmp(join(dir, 'a.bmp'), rgb, 5, 3);
    const img = decodeBmpFile(join(dir, 'a.bmp'));
    expect([img.width, img.height, img.channels]).toEqual([5, 3, 3]);
    expect(Buffer.from(img.data).equals(rgb)).toBe(true);
    // A bottom-up 3x2 BMP written by hand: rows padded to 12 bytes, stored last row first, pixels as B,G,R.
    const header = Buffer.alloc(54);
    header.write('BM', 0, 'latin1');
    header.writeUInt32LE(54 + 24, 2);
    header.writeUInt32LE(54, 10);
    header.writeUInt32LE(40, 14);
    header.writeInt32LE(3, 18);
    header.writeInt32LE(2, 22);
    header.writeUInt16LE(1, 26);
    header.writeUInt16LE(24, 28);
    const bottomRow = [3, 2, 1, 6, 5, 4, 9, 8, 7, 0, 0, 0]; // image row 1: (1,2,3) (4,5,6) (7,8,9)
    const topRow = [30, 20, 10, 60, 50, 40, 90, 80, 70, 0, 0, 0]; // image row 0
    writeFileSync(join(dir, 'up.bmp'), Buffer.concat([header, Buffer.from([...bottomRow, ...topRow])]));
    expect([...decodeBmpFile(join(dir, 'up.bmp')).data]).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    writeFileSync(join(dir, 'short.bmp'), Buffer.concat([header, Buffer.from(bottomRow)]));
    expect(() => decodeBmpFile(join(dir, 'short.bmp'))).toThrow(/short\.bmp: corrupt BMP \(truncated/);
    writeFileSync(join(dir, 'bad.bmp'), 'BM nonsense');
    expect(() => decodeBmpFile(join(dir, 'bad.bmp'))).toThrow(/bad\.bmp: not a BMP file/);
  });

  it('decodes chosen video frames with ffmpeg', async () => {
    const dir = tmpTree('vid');
    // Frames of flat grey levels 20, 60, 100, 140, 180 so each decoded frame is recognisable.
    for (let i = 0; i < 5; i++) await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 20 + 40 * i, g: 20 + 40 * i, b: 20 + 40 * i } } }).png().toFile(join(dir, `f${i}.png`));
    const video = join(dir, 'v.avi');
    execFileSync(ffmpegPath(), ['-v', 'error', '-framerate', '25', '-i', join(dir, 'f%d.png'), '-c:v', 'mjpeg', '-q:v', '1', video]);
    expect(await probeVideo(video)).toEqual({ width: 16, height: 16, frames: 5, fps: 25 }); // the rate the stream declares
    const inputs = await loadFrameInputs([videoFrameRef(video, 3), videoFrameRef(video, 1)]);
    const means = inputs.map((f) => {
      if (!('raw' in f)) throw new Error('expected raw pixels');
      return f.raw.data.reduce((s, v) => s + v, 0) / f.raw.data.length;
    });
    expect(Math.abs(means[0]! - 140)).toBeLessThan(4);
    expect(Math.abs(means[1]! - 60)).toBeLessThan(4);
    await expect(probeVideo(join(dir, 'f0.png.missing'))).rejects.toThrow(/ffmpeg cannot read this video/);
  });
});

describe('face detection and alignment on photographs', () => {
  let detector: FaceDetector;
  beforeAll(async () => {
    detector = await createFaceDetector();
  });

  it('finds faces and 68 landmarks in a group photograph', async () => {
    const { image } = await decodeRgb({ file: join(FACE_API_DEMO, 'sample2.jpg') }, 640);
    const face = await detector.detect(image);
    expect(face).not.toBeNull();
    expect(face!.points).toHaveLength(68);
    expect(face!.score).toBeGreaterThan(0.5);
    // The eyes lie inside the face box, in its upper half.
    const { left, right } = eyeCentres(face!.points);
    for (const e of [left, right]) {
      expect(e.x).toBeGreaterThan(face!.box.x);
      expect(e.x).toBeLessThan(face!.box.x + face!.box.width);
      expect(e.y).toBeLessThan(face!.box.y + face!.box.height / 2 + 5);
    }
    const nothing = await detector.detect({ data: blankFrame(160), width: 160, height: 160, channels: 3 });
    expect(nothing).toBeNull();
  });

  it('levels the eyes of a tilted face (angle < 2 degrees after alignment)', async () => {
    const dir = tmpTree('align');
    const file = join(dir, 'tilted.jpg');
    await writeImage(file, await faceFrame(240), 240, 240);
    const found = await findAlignment({ file }, detector, { size: 112 });
    expect(found).not.toBeNull();
    expect(Math.abs(found!.alignment.angleDeg)).toBeGreaterThan(10); // the photograph's head is tilted
    for (const channels of [3, 1] as const) {
      const out = await alignFrame({ file }, found!.alignment, channels);
      expect(out.length).toBe(112 * 112 * channels);
      // Detect again on the aligned face, framed by a grey border (the detector misses faces that fill the whole image) and enlarged 1.5x.
      const framed = await sharp(out, { raw: { width: 112, height: 112, channels } }).extend({ top: 56, bottom: 56, left: 56, right: 56, background: '#808080' }).png().toBuffer();
      const rgb = await sharp(framed).resize(336, 336).toColourspace('srgb').raw().toBuffer();
      const again = await detector.detect({ data: rgb, width: 336, height: 336, channels: 3 });
      expect(again).not.toBeNull();
      const { left, right } = eyeCentres(again!.points);
      expect(Math.abs(eyeAngleDeg(left, right))).toBeLessThan(2);
      // Inter-ocular distance close to the target 0.33 * 112 = 37 px.
      expect(Math.abs(Math.hypot(right.x - left.x, right.y - left.y) / 1.5 - 0.33 * 112)).toBeLessThan(4);
    }
  });

  it('finds a face that fills the whole frame (cropped datasets) by retrying inside a border', async () => {
    const dir = tmpTree('tight');
    const file = join(dir, 'wide.jpg');
    await writeImage(file, await faceFrame(240), 240, 240);
    const al = (await findAlignment({ file }, detector, { size: 112, align: { eyeDistance: 0.45 } }))!.alignment;
    // A tight crop: the aligned face itself, enlarged, as CASME II's Cropped frames look.
    const tight = join(dir, 'tight.png');
    await sharp(await alignFrame({ file }, al, 3), { raw: { width: 112, height: 112, channels: 3 } }).resize(224, 224).png().toFile(tight);
    const { image } = await decodeRgb({ file: tight });
    expect(await detector.detect(image)).toBeNull();
    const found = await findAlignment({ file: tight }, detector, { size: 112 });
    expect(found).not.toBeNull();
    expect(Math.abs(found!.alignment.angleDeg)).toBeLessThan(3);
    // Eye midpoint near where alignment put it: x = 223/2, y = 0.35 * 223 in the enlarged image.
    expect(Math.abs(found!.alignment.cx - 111.5)).toBeLessThan(8);
    expect(Math.abs(found!.alignment.cy - 0.35 * 223)).toBeLessThan(8);
  });

  it('pads an image on a grey canvas', () => {
    const p = padImage({ data: Uint8Array.from([1, 2, 3, 4]), width: 2, height: 2, channels: 1 }, 1);
    expect([...p.data]).toEqual([128, 128, 128, 128, 128, 1, 2, 128, 128, 3, 4, 128, 128, 128, 128, 128]);
  });

  it('preprocesses a clip: one transform, T frames, onset first and apex last', async () => {
    const dir = tmpTree('clip');
    const paths: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = join(dir, `img${i + 1}.bmp`);
      writeBmp(p, await faceFrame(200, i * 4), 200, 200);
      paths.push(p);
    }
    const clip: RawClip = { dataset: 'smic', id: 's01_t', subject: 's01', label: 'negative', onset: 1, apex: 3, framePaths: paths };
    const res = await preprocessClip(clip, detector, { frames: 5, size: 32, channels: 1 });
    const fb = 32 * 32;
    expect(res.frames.length).toBe(5 * fb);
    expect(res.face.on).toBe('onset');
    const al = (await findAlignment({ raw: decodeBmpFile(paths[0]!), source: paths[0]! }, detector, { size: 32 }))!.alignment;
    const aligned = await Promise.all(paths.map((p) => alignFrame({ raw: decodeBmpFile(p), source: p }, al, 1)));
    expect(Buffer.from(res.frames.subarray(0, fb)).equals(Buffer.from(aligned[0]!))).toBe(true);
    expect(Buffer.from(res.frames.subarray(2 * fb, 3 * fb)).equals(Buffer.from(aligned[1]!))).toBe(true);
    expect(Buffer.from(res.frames.subarray(4 * fb)).equals(Buffer.from(aligned[2]!))).toBe(true);
    // Output frame 1 sits halfway between source frames 0 and 1.
    const mid = res.frames.subarray(fb, 2 * fb);
    for (const k of [0, 100, 517, 1023]) expect(mid[k]).toBe(Math.round((aligned[0]![k]! + aligned[1]![k]!) / 2));
  });

  it('names the clip and file when no face is found or a frame is corrupt', async () => {
    const dir = tmpTree('bad');
    const blank = [join(dir, 'b1.png'), join(dir, 'b2.png')];
    for (const p of blank) await writeImage(p, blankFrame(120), 120, 120);
    const clip: RawClip = { dataset: 'casme2', id: 'sub09_EP01_01', subject: 'sub09', label: 'others', onset: 1, apex: 2, framePaths: blank };
    const err = await preprocessClip(clip, detector, { frames: 2, size: 32, channels: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClipError);
    expect((err as ClipError).message).toMatch(/^casme2 clip sub09_EP01_01: no face found on the onset or the apex frame/);

    const good = join(dir, 'g1.jpg');
    await writeImage(good, await faceFrame(160), 160, 160);
    const corrupt = join(dir, 'g2.jpg');
    mkdirSync(dir, { recursive: true });
    writeFileSync(corrupt, Buffer.from('\xff\xd8\xff\xe0 this is not really a jpeg', 'latin1'));
    const clip2: RawClip = { ...clip, id: 'sub09_EP02_01', framePaths: [good, corrupt, good] };
    const err2 = (await preprocessClip(clip2, detector, { frames: 3, size: 32, channels: 3 }).catch((e: unknown) => e)) as ClipError;
    expect(err2).toBeInstanceOf(ClipError);
    expect(err2.clip).toBe('sub09_EP02_01');
    expect(err2.file).toBe(corrupt);
    expect(err2.problem).toMatch(/cannot decode frame/);
  });
});
