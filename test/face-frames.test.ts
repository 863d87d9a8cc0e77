import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadFaceFrames } from '../src/motion/face-frames.js';
import { ffmpegPath } from '../src/data/preprocess/video.js';
import { createFaceDetector, type FaceDetector } from '../src/data/preprocess/face.js';
import { faceFrame, writeImage } from './datasets/fixtures.js';
import { tempDir } from './helpers.js';

let dir: string;
let frames: string;
let video: string;
let detector: FaceDetector;
const N = 24;

beforeAll(async () => {
  dir = tempDir('face-frames');
  frames = join(dir, 'frames');
  // a face photograph moved by a pixel every few frames, like a restless head
  for (let i = 0; i < N; i++) await writeImage(join(frames, `${String(i + 1).padStart(3, '0')}.png`), await faceFrame(200, Math.floor(i / 6)), 200, 200);
  video = join(dir, 'clip.avi');
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-framerate', '25', '-i', join(frames, '%03d.png'), '-c:v', 'mjpeg', '-q:v', '2', video]);
  expect(r.status, r.stderr?.toString()).toBe(0);
  detector = await createFaceDetector();
}, 120_000);

describe('loadFaceFrames', () => {
  it('aligns every frame of a folder and of a video by the face of the first frame, at the working size', async () => {
    const a = await loadFaceFrames(frames, { fps: 30, size: 48, detector });
    expect(a.frames).toHaveLength(N);
    expect(a.fps).toBe(30);
    expect(a.faceFrame).toBe(0);
    for (const f of a.frames) expect(f).toHaveLength(48 * 48);
    const b = await loadFaceFrames(video, { size: 48, detector });
    expect(b.fps).toBe(25); // the stream's own rate
    expect(b.frames).toHaveLength(N);
    // the same pictures through a lossy codec: close, frame by frame
    for (let i = 0; i < N; i++) {
      let diff = 0;
      for (let p = 0; p < 48 * 48; p++) diff += Math.abs(a.frames[i][p] - b.frames[i][p]);
      expect(diff / (48 * 48), `frame ${i}`).toBeLessThan(6);
    }
    // not a constant picture: the face has texture
    const f0 = a.frames[0];
    const mean = f0.reduce((s, x) => s + x, 0) / f0.length;
    expect(f0.reduce((s, x) => s + (x - mean) ** 2, 0) / f0.length).toBeGreaterThan(100);
  }, 120_000);

  it('resizes whole frames with align none', async () => {
    const r = await loadFaceFrames(frames, { fps: 30, size: 32, align: 'none' });
    expect(r.frames).toHaveLength(N);
    expect(r.faceFrame).toBeUndefined();
    expect(r.frames[0]).toHaveLength(32 * 32);
  });

  it('says what is missing: a frame rate for a folder, a video for one image, the path', async () => {
    await expect(loadFaceFrames(frames, { align: 'none' })).rejects.toThrow(`${frames}: a folder of frames does not say its frame rate: give --fps`);
    await expect(loadFaceFrames(join(frames, '001.png'), { align: 'none' })).rejects.toThrow('a single image; give a video or a folder of frames');
    await expect(loadFaceFrames(join(dir, 'nope'), { align: 'none' })).rejects.toThrow(`${join(dir, 'nope')}: no such file or folder`);
    await expect(loadFaceFrames(frames, { fps: -1 })).rejects.toThrow('--fps -1: expected a positive number of frames per second');
  });
});
