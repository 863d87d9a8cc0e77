import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import sharp from 'sharp';
import { initBackend } from '../src/backend/index.js';
import { TwoStreamNet, type TwoStreamConfig } from '../src/model/twostream.js';
import { withInitSeed } from '../src/model/resnet.js';
import { saveCheckpoint } from '../src/model/checkpoint.js';
import { DEFAULT_NORMALIZATION, makeBatch } from '../src/data/batches.js';
import { clipPath, saveClipSet } from '../src/data/cache.js';
import type { ClipSet } from '../src/data/types.js';
import { ffmpegPath } from '../src/data/preprocess/video.js';
import { createFaceDetector, type FaceDetector } from '../src/data/preprocess/face.js';
import { preprocessClip } from '../src/data/preprocess/pipeline.js';
import type { RawClip } from '../src/data/datasets/types.js';
import { Predictor, listFrameFiles, onsetApex } from '../src/predict/index.js';
import { alignedRecipe, checkpointRecipe, parseRecipe } from '../src/data/preprocess/recipe.js';
import { recipeOf } from '../src/data/prepare.js';
import { randomClipSet, runCli, tempDir } from './helpers.js';
import { faceFrame, blankFrame } from './datasets/fixtures.js';

const LABELS = ['negative', 'positive', 'surprise'];
const grey: TwoStreamConfig = { classes: 3, size: 32, channels: 1, frames: 4, width: 2, sc: 2, K: 2 };
const root = tempDir('predict');
let net: TwoStreamNet;
let set: ClipSet;
/** Probabilities of the net in memory on clip 0, the reference every path must reproduce. */
let ref: number[];
const modelDir = join(root, 'synthetic-model');

async function writeGrey(file: string, data: Uint8Array, size = 32): Promise<void> {
  await sharp(Buffer.from(data), { raw: { width: size, height: size, channels: 1 } }).png().toFile(file);
}

function frameOf(clip: Uint8Array, t: number, bytes = 32 * 32): Uint8Array {
  return clip.subarray(t * bytes, (t + 1) * bytes);
}

function noise(seed: number, n = 32 * 32): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 71) % 256);
}

function expectClose(a: number[], b: number[]): void {
  expect(a).toHaveLength(b.length);
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 5));
}

beforeAll(async () => {
  await initBackend('wasm');
  net = withInitSeed(5, () => new TwoStreamNet(grey, 'MiNet'));
  set = randomClipSet({ name: 'toy', clips: 2, classes: 3, subjects: 2, T: 4, size: 32, seed: 9 });
  const batch = makeBatch(set, [0]);
  ref = tf.tidy(() => Array.from(tf.softmax(net.forward(batch.apex, batch.frames, { training: false, temporal: 'intervals' }).logits).dataSync()));
  tf.dispose([batch.apex, batch.frames]);
  await saveCheckpoint(net, modelDir, {
    labels: LABELS,
    temporal: 'intervals',
    normalization: DEFAULT_NORMALIZATION,
    provenance: { preprocessing: { align: 'none', resample: 'linear' } },
  });
});

afterAll(() => net?.dispose());

describe('predict: clip inputs of a synthetic-data checkpoint (resize only)', () => {
  it('a folder of frames: natural order, default onset (first) and apex (middle)', async () => {
    const dir = join(root, 'frames');
    mkdirSync(dir);
    const clip = set.clips[0].frames;
    // img8..img14: lexical order would put img10 first
    for (let k = 0; k < 7; k++) await writeGrey(join(dir, `img${k + 8}.png`), k < 4 ? frameOf(clip, k) : noise(k));
    expect(listFrameFiles(dir).map((f) => f.slice(dir.length + 1))).toEqual(['img8.png', 'img9.png', 'img10.png', 'img11.png', 'img12.png', 'img13.png', 'img14.png']);
    const p = await Predictor.load(modelDir);
    const r = await p.predict(dir);
    expect(r.input).toMatchObject({ kind: 'frames', sourceFrames: 7, onset: 0, apex: 3, preprocessing: { align: 'none', resample: 'linear' } });
    expectClose(r.probs, ref);
    expect(r.label).toBe(LABELS[ref.indexOf(Math.max(...ref))]);
    p.dispose();
  });

  it('--onset/--apex pick the run, and onset..apex is resampled to T (7 frames -> positions 0, 2, 4, 6)', async () => {
    const dir = join(root, 'long');
    mkdirSync(dir);
    const clip = set.clips[0].frames;
    // frame 0 noise; frames 1..7 hold the clip at 1, 3, 5, 7 and noise between
    const layout = [noise(1), frameOf(clip, 0), noise(2), frameOf(clip, 1), noise(3), frameOf(clip, 2), noise(4), frameOf(clip, 3), noise(5)];
    for (let k = 0; k < layout.length; k++) await writeGrey(join(dir, `${String(k).padStart(3, '0')}.png`), layout[k]);
    const p = await Predictor.load(modelDir);
    const r = await p.predict(dir, { onset: 1, apex: 7 });
    expect(r.input).toMatchObject({ onset: 1, apex: 7, sourceFrames: 9 });
    expectClose(r.probs, ref);
    const other = await p.predict(dir); // 0..4: not the clip
    expect(Math.max(...other.probs.map((v, i) => Math.abs(v - ref[i])))).toBeGreaterThan(1e-4);
    p.dispose();
  });

  it('a video file (lossless ffv1), decoded with ffmpeg', async () => {
    const dir = join(root, 'video-src');
    mkdirSync(dir);
    for (let k = 0; k < 4; k++) await writeGrey(join(dir, `f${k}.png`), frameOf(set.clips[0].frames, k));
    const video = join(root, 'clip.mkv');
    execFileSync(ffmpegPath(), ['-v', 'error', '-framerate', '25', '-i', join(dir, 'f%d.png'), '-c:v', 'ffv1', '-pix_fmt', 'gray', video]);
    const p = await Predictor.load(modelDir);
    const r = await p.predict(video, { apex: 3 });
    expect(r.input).toMatchObject({ kind: 'video', sourceFrames: 4, onset: 0, apex: 3 });
    expectClose(r.probs, ref);
    p.dispose();
  });

  it('a prepared clip: the .u8 file, or the cache folder with --clip', async () => {
    const cache = join(root, 'cache');
    saveClipSet(cache, set);
    const p = await Predictor.load(modelDir);
    const a = await p.predict(clipPath(cache, set.clips[0].id));
    expect(a.input).toMatchObject({ kind: 'prepared', clip: 'toy/clip0', preprocessing: 'prepared' });
    expectClose(a.probs, ref);
    const b = await p.predict(cache, { clip: 'toy/clip0' });
    expect(b.probs).toEqual(a.probs);
    p.dispose();
  });

  it('mimanet predict --json prints one JSON object; the text form names the label', async () => {
    const dir = join(root, 'frames');
    // no clip.json: without --onset/--apex the folder would be spotted; --whole-clip takes the first and the middle frame, and says so
    const first = await runCli(['predict', '--model', modelDir, dir, '--json', '--whole-clip', '--backend', 'wasm']);
    const second = await runCli(['predict', '--model', modelDir, dir, '--onset', '0', '--apex', '3', '--backend', 'wasm']);
    const code1 = first.code;
    const code2 = second.code;
    const text = second.out;
    const out = first.out;
    expect(code1).toBe(0);
    expect(code2).toBe(0);
    const j = JSON.parse(out);
    const best = LABELS[ref.indexOf(Math.max(...ref))];
    expect(j.label).toBe(best);
    expect(j.onset).toBe(0);
    expect(j.apex).toBe(3);
    expect(j.chosen).toEqual({ onset: 'default', apex: 'default' });
    expect(first.err).toContain(`mimanet: note: ${dir}: onset and apex not given (no --onset/--apex, no clip.json): onset the first frame (0), apex the middle frame (3), a guess (--whole-clip)\n`);
    expect(second.err).not.toMatch(/not given/);
    expect(Object.keys(j.probabilities)).toEqual(LABELS);
    LABELS.forEach((l, i) => expect(j.probabilities[l]).toBeCloseTo(ref[i], 5));
    expect(text.split('\n')[0]).toBe(best);
    expect(text).toMatch(/frames 0\.\.3 of 7/);
  });
});

describe('predict: a real-data checkpoint goes through face detection and eye alignment', () => {
  let detector: FaceDetector;
  const rgb: TwoStreamConfig = { ...grey, channels: 3 };
  const faceModel = join(root, 'face-model');
  let rgbNet: TwoStreamNet;

  beforeAll(async () => {
    detector = await createFaceDetector();
    rgbNet = withInitSeed(6, () => new TwoStreamNet(rgb, 'MiNet'));
    await saveCheckpoint(rgbNet, faceModel, {
      labels: LABELS,
      temporal: 'intervals',
      normalization: DEFAULT_NORMALIZATION,
      provenance: { preprocessing: { align: 'face', resample: 'linear', eyeDistance: 0.4, eyeY: 0.35 } },
    });
  });
  afterAll(() => rgbNet?.dispose());

  it('scores what the training pipeline (preprocessClip) makes of the same frames', async () => {
    const dir = join(root, 'faces');
    mkdirSync(dir);
    const files: string[] = [];
    for (let k = 0; k < 5; k++) {
      const f = join(dir, `${k}.jpg`);
      await sharp(await faceFrame(160, 4 * k), { raw: { width: 160, height: 160, channels: 3 } }).jpeg({ quality: 95 }).toFile(f);
      files.push(f);
    }
    const raw: RawClip = { dataset: 'casme2', id: 'x', subject: 's', label: 'l', onset: 0, apex: 2, framePaths: files.slice(0, 3) };
    const expected = await preprocessClip(raw, detector, { frames: 4, size: 32, channels: 3, resample: 'linear', align: { eyeDistance: 0.4, eyeY: 0.35 } });
    const set3: ClipSet = { name: 'f', labels: LABELS, frames: 4, height: 32, width: 32, channels: 3, clips: [{ id: 'f/x', subject: 's', source: 'f', label: 0, frames: expected.frames }] };
    const batch = makeBatch(set3, [0]);
    const want = tf.tidy(() => Array.from(tf.softmax(rgbNet.forward(batch.apex, batch.frames, { training: false, temporal: 'intervals' }).logits).dataSync()));
    tf.dispose([batch.apex, batch.frames]);

    const p = await Predictor.load(faceModel);
    const r = await p.predict(dir, { detector });
    expect(r.input).toMatchObject({ onset: 0, apex: 2, preprocessing: { align: 'face', eyeDistance: 0.4 } });
    expectClose(r.probs, want);
    // a plain resize of the same frames is a different input: the alignment did something
    const resized = await p.predict(dir, { detector, align: 'none' });
    expect(Math.max(...resized.probs.map((v, i) => Math.abs(v - want[i])))).toBeGreaterThan(1e-5);
    p.dispose();
  });

  it('frames without a face: the error names the clip and the frame', async () => {
    const dir = join(root, 'noface');
    mkdirSync(dir);
    for (let k = 0; k < 2; k++) await sharp(blankFrame(96), { raw: { width: 96, height: 96, channels: 3 } }).png().toFile(join(dir, `${k}.png`));
    const p = await Predictor.load(faceModel);
    await expect(p.predict(dir, { detector })).rejects.toThrow(/noface: no face found on the onset or the apex frame \(.*0\.png\)/);
    p.dispose();
  });
});

describe('the preprocessing record of a checkpoint', () => {
  it('reads align/resample/eye fields, or the data loader\'s former kind (never the clip cache)', () => {
    const legacy = (rec: Record<string, unknown>, where: string) => parseRecipe(rec, where, 'provenance.preprocessing');
    expect(legacy({ align: 'none' }, 'm')).toEqual({ align: 'none', resample: 'linear' });
    expect(legacy({ align: 'face', resample: 'nearest', eyeDistance: 0.4 }, 'm')).toEqual({ align: 'face', resample: 'nearest', eyeDistance: 0.4, eyeY: 0.35 });
    expect(legacy({ kind: 'aligned', size: 32 }, 'm')).toEqual({ align: 'none', resample: 'linear' });
    // a cache's prepare.json is not read at inference: a kind-only record gets the settings `data prepare` uses by default
    const cache = join(root, 'prepared-cache');
    mkdirSync(cache, { recursive: true });
    writeFileSync(join(cache, 'prepare.json'), JSON.stringify({ version: 1, resample: 'nearest', eyeDistance: 0.3, eyeY: 0.4 }));
    expect(legacy({ kind: 'face-aligned', microCache: cache }, 'm')).toEqual({ align: 'face', resample: 'linear', eyeDistance: 0.33, eyeY: 0.35 });
    expect(legacy({ kind: 'face-aligned', microCache: join(root, 'gone') }, 'm')).toEqual({ align: 'face', resample: 'linear', eyeDistance: 0.33, eyeY: 0.35 });
    expect(legacy({ size: 32 }, 'm')).toBeUndefined();
    expect(() => legacy({ kind: 'warped' }, 'x/mimanet.json')).toThrow(/x\/mimanet.json: provenance.preprocessing.kind is "warped", expected one of aligned, face-aligned/);
    expect(() => legacy({ align: 'face', eyeY: 2 }, 'm')).toThrow(/provenance.preprocessing.eyeY is 2, expected a fraction in \(0, 1\)/);
    // the loaders return the recipe that checkpoints store in their own field
    expect(alignedRecipe()).toEqual({ align: 'none', resample: 'linear' });
    expect(checkpointRecipe({ preprocessing: alignedRecipe() }, 'm')).toEqual({ align: 'none', resample: 'linear' });
    expect(recipeOf({})).toEqual({ align: 'face', resample: 'linear', eyeDistance: 0.33, eyeY: 0.35 });
    expect(checkpointRecipe({ provenance: { config: { data: { kind: 'prepared' } } } }, 'm')).toEqual({ align: 'face', resample: 'linear', eyeDistance: 0.33, eyeY: 0.35 });
  });
});

describe('predict: bad input gets an error naming the file and what is wrong', () => {
  it('missing or corrupt checkpoints', async () => {
    await expect(Predictor.load(join(root, 'nothing'))).rejects.toThrow(/nothing: not a mimanet checkpoint \(missing model.json\)/);
    const bad = (name: string, file: string, content: string | Uint8Array): string => {
      const d = join(root, name);
      cpSync(modelDir, d, { recursive: true });
      writeFileSync(join(d, file), content);
      return d;
    };
    await expect(Predictor.load(bad('c1', 'model.json', '{"modelTopology": '))).rejects.toThrow(/c1\/model.json: not valid JSON/);
    await expect(Predictor.load(bad('c2', 'weights.bin', new Uint8Array(10)))).rejects.toThrow(/c2\/weights.bin: 10 bytes, model.json describes \d+/);
    const meta = JSON.parse(readFileSync(join(modelDir, 'mimanet.json'), 'utf8'));
    await expect(Predictor.load(bad('c3', 'mimanet.json', JSON.stringify({ ...meta, labels: ['a', 'b'] })))).rejects.toThrow(/c3\/mimanet.json: 2 labels for 3 classes/);
    await expect(Predictor.load(bad('c4', 'mimanet.json', JSON.stringify({ ...meta, provenance: { preprocessing: { align: 'crop' } } })))).rejects.toThrow(
      /c4\/mimanet.json: provenance.preprocessing.align is "crop", expected "face" or "none"/,
    );
    // a checkpoint that does not say how it was preprocessed needs --align
    const p = await Predictor.load(bad('c5', 'mimanet.json', JSON.stringify({ ...meta, provenance: {} })));
    await expect(p.predict(join(root, 'frames'))).rejects.toThrow(/does not record how its clips were preprocessed.*pass --align face or --align none/);
    expectClose((await p.predict(join(root, 'frames'), { align: 'none' })).probs, ref);
    p.dispose();
  });

  it('clips: too few frames, bad onset/apex, no frames, an unreadable frame, an unreadable video, cache problems', async () => {
    const p = await Predictor.load(modelDir);
    const one = join(root, 'one');
    mkdirSync(one);
    await writeGrey(join(one, '0.png'), noise(0));
    await expect(p.predict(one)).rejects.toThrow(/one: too few frames \(1\); a clip needs at least 2, onset and apex/);
    await expect(p.predict(join(one, '0.png'))).rejects.toThrow(/0.png: too few frames \(1, a single image\)/);
    await expect(p.predict(join(root, 'frames'), { apex: 9 })).rejects.toThrow(/frames: --apex 9 is not a frame index in \[0, 6\] \(7 frames\)/);
    await expect(p.predict(join(root, 'frames'), { onset: 4, apex: 2 })).rejects.toThrow(/onset 4 and apex 2 leave 0 frame\(s\); the apex must come after the onset/);
    expect(onsetApex(3, 'x', {})).toEqual({ onset: 0, apex: 1 });
    expect(onsetApex(2, 'x', {})).toEqual({ onset: 0, apex: 1 });
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await expect(p.predict(empty)).rejects.toThrow(/empty: no frames \(.jpg, .jpeg, .png/);
    const broken = join(root, 'broken');
    mkdirSync(broken);
    await writeGrey(join(broken, '0.png'), noise(0));
    writeFileSync(join(broken, '1.png'), 'not a png');
    await expect(p.predict(broken, { apex: 1 })).rejects.toThrow(/broken\/1.png/);
    writeFileSync(join(root, 'bad.mp4'), 'not a video at all');
    await expect(p.predict(join(root, 'bad.mp4'))).rejects.toThrow(/bad.mp4: ffmpeg cannot read this video/);
    await expect(p.predict(join(root, 'missing.mp4'))).rejects.toThrow(/missing.mp4: no such file or folder/);
    const cache = join(root, 'cache');
    await expect(p.predict(cache)).rejects.toThrow(/cache is a clip cache \(2 clips\); name one with --clip ID, e.g. --clip toy\/clip0/);
    await expect(p.predict(cache, { clip: 'nope' })).rejects.toThrow(/cache: no clip "nope" in clipset.json/);
    await expect(p.predict(cache, { clip: 'toy/clip0', apex: 2 })).rejects.toThrow(/--onset and --apex do not apply to a prepared clip/);
    const long = join(root, 'cache8');
    saveClipSet(long, randomClipSet({ name: 'toy', clips: 1, classes: 1, subjects: 1, T: 8, size: 32 }));
    await expect(p.predict(long, { clip: 'toy/clip0' })).rejects.toThrow(/cache8\/clipset.json: prepared clips of 8 frames of 32x32x1, the model expects 4 frames of 32x32x1/);
    const loose = join(root, 'loose', 'clips');
    mkdirSync(loose, { recursive: true });
    writeFileSync(join(loose, 'a.u8'), new Uint8Array(4 * 32 * 32));
    await expect(p.predict(join(loose, 'a.u8'))).rejects.toThrow(/a.u8: a prepared clip needs its clipset.json two folders up/);
    p.dispose();
  });

  it('the CLI prints one clear line for bad flags', async () => {
    const r1 = await runCli(['predict', '--model', modelDir, join(root, 'frames'), '--apex', 'x', '--backend', 'wasm']);
    const r2 = await runCli(['predict', '--model', modelDir, join(root, 'frames'), '--align', 'crop', '--backend', 'wasm']);
    const [c1, c2, err] = [r1.code, r2.code, r1.err + r2.err];
    expect(c1).toBe(1);
    expect(c2).toBe(1);
    expect(err).toMatch(/option --apex is "x": expected a frame index/);
    expect(err).toMatch(/option --align is "crop": expected face or none/);
    expect(err).not.toMatch(/\n\s+at /);
  });
});
