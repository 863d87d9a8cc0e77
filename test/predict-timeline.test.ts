/**
 * `mimanet predict VIDEO` without --onset/--apex: the video is spotted, then
 * each micro interval recognised, on a long synthetic video whose
 * micro-expressions are known. Every option of the video is given here, so
 * that a change of the generator's defaults does not change these videos.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { initBackend } from '../src/backend/index.js';
import { ffmpegPath } from '../src/data/preprocess/video.js';
import { generateLongVideos, longVideoFrame, type LongVideo, type LongVideoConfigInput } from '../src/data/synthetic/long-video.js';
import { intervalIou } from '../src/motion/intervals.js';
import { parseCsv } from '../src/results/csv.js';
import { Predictor } from '../src/predict/index.js';
import { timelineCsv, timelineFromSpot, type Timeline } from '../src/predict/timeline.js';
import { DEFAULT_SPOT_OPTIONS } from '../src/motion/spot.js';
import { runCli, tempDir } from './helpers.js';
import { faceFrame } from './datasets/fixtures.js';
import { createFaceDetector } from '../src/data/preprocess/face.js';
import { TwoStreamNet } from '../src/model/twostream.js';
import { withInitSeed } from '../src/model/resnet.js';
import { saveCheckpoint } from '../src/model/checkpoint.js';
import { DEFAULT_NORMALIZATION } from '../src/data/batches.js';
import { saveTinyCheckpoint } from './tiny-checkpoint.js';

const LABELS = ['negative', 'positive', 'surprise'];
const root = tempDir('predict-timeline');
const model = join(root, 'model');

/** A quiet 12 s face at 30 fps, 64x64 grey, with three micro-expressions of 0.25-0.35 s and nothing else moving but faint sensor noise. */
const VIDEO: LongVideoConfigInput = {
  seed: 5,
  videos: 1,
  seconds: 12,
  fps: 30,
  size: 64,
  channels: 1,
  micro: { count: 3, intensity: 0.4, intensityJitter: 0, minSeconds: 0.25, maxSeconds: 0.35 },
  macro: { count: 0, intensity: 1, intensityJitter: 0, minSeconds: 1, maxSeconds: 3 },
  blinksPerMinute: 0,
  headMovesPerMinute: 0,
  headAmplitude: 0,
  drift: 0,
  lightDrift: 0,
  jitter: 0,
  flicker: 0,
  noise: 0.5,
  gap: 1,
};

/** The video's frames as a lossless grey video file (ffv1 in Matroska). */
function encode(v: LongVideo, file: string): void {
  execFileSync(ffmpegPath(), ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'gray', '-s', `${v.size}x${v.size}`, '-r', String(v.fps), '-i', 'pipe:0', '-c:v', 'ffv1', '-pix_fmt', 'gray', file], { input: Buffer.from(v.pixels) });
}

const predict = (...args: string[]): ReturnType<typeof runCli> => runCli(['predict', '--model', model, '--backend', 'wasm', '--quiet', ...args]);

let video: LongVideo;
const videoFile = join(root, 'long.mkv');
/** What `predict --json` printed for the video: the timeline. */
let cliJson: Record<string, any>;

beforeAll(async () => {
  await initBackend('wasm');
  await saveTinyCheckpoint(model, { frames: 8, labels: LABELS, seed: 4 });
  video = generateLongVideos(VIDEO).videos[0];
  expect(video.expressions.map((e) => e.kind)).toEqual(['micro', 'micro', 'micro']);
  encode(video, videoFile);
});

describe('predict VIDEO without onset and apex: spot, then recognise each micro interval', () => {
  it('the micro intervals are the inserted micro-expressions (IoU >= 0.5), each labelled as predict labels it given its onset and apex', async () => {
    const jsonFile = join(root, 'timeline.json');
    const r = await predict(videoFile, '--out', jsonFile);
    expect(r.code, r.err).toBe(0);
    cliJson = JSON.parse(readFileSync(jsonFile, 'utf8'));
    expect(cliJson).toMatchObject({ model, source: videoFile, kind: 'video', fps: 30, frames: 360, labels: LABELS, macro: 0 });
    expect(cliJson.spotting.options).toEqual({ ...DEFAULT_SPOT_OPTIONS, fps: 30 });
    expect(cliJson.spotting).toMatchObject({ size: 64, align: 'none' });
    const micro = cliJson.intervals.filter((i: any) => i.kind === 'micro');
    expect(micro, JSON.stringify(cliJson.intervals)).toHaveLength(3);
    expect(cliJson.micro).toBe(3);
    // one spotted micro interval for each inserted micro-expression, in order
    for (const [k, truth] of video.expressions.entries()) {
      const iou = intervalIou(micro[k], truth);
      expect(iou, `${JSON.stringify(micro[k])} against ${JSON.stringify(truth)}`).toBeGreaterThanOrEqual(0.5);
      expect(micro[k].apex).toBeGreaterThan(micro[k].onset);
      expect(micro[k].start).toBeCloseTo(micro[k].onset / 30, 4);
      expect(micro[k].apexTime).toBeCloseTo(micro[k].apex / 30, 4);
      expect(micro[k].end).toBeCloseTo((micro[k].offset + 1) / 30, 4);
    }
    // the same input gives the same output: predict with --onset/--apex of each interval
    for (const i of micro) {
      const one = await predict(videoFile, '--onset', String(i.onset), '--apex', String(i.apex), '--json');
      expect(one.code, one.err).toBe(0);
      const j = JSON.parse(one.out);
      expect(j).toMatchObject({ onset: i.onset, apex: i.apex, chosen: { onset: 'given', apex: 'given' } });
      expect(j.defaulted).toBeUndefined();
      expect(i.label).toBe(j.label);
      expect(i.index).toBe(j.index);
      expect(i.probabilities).toEqual(j.probabilities);
      expect(Object.values(i.probabilities as Record<string, number>).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
    }
    // how onset and apex were chosen: on stderr and in the JSON
    expect(r.err).toContain(`mimanet: note: ${videoFile}: no --onset/--apex and no clip.json: onset, apex and offset spotted (mimanet spot: p 0.3, windows 0.3 s and 1 s, 30 fps, faces 64x64 resized whole (--align none))`);
    expect(r.err).toContain(`wrote ${jsonFile}: 3 micro interval(s) recognised, 0 macro spotted\n`);
    expect(cliJson.chosen).toMatch(/^onset, apex and offset spotted .*each micro interval recognised on its frames onset\.\.apex; macro intervals spotted, not recognised$/);
    // the table on stdout: one row an interval with its times, frames, score, label and probabilities
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe(`${videoFile}: 360 frames at 30 fps (12.0 s); model ${model}`);
    expect(lines[1]).toBe(cliJson.chosen);
    expect(lines[2]).toBe('3 micro interval(s) recognised');
    expect(lines[3]).toMatch(/^\s+time \(s\)\s+onset\s+apex\s+offset\s+kind\s+score\s+label\s+negative\s+positive\s+surprise$/);
    expect(lines).toHaveLength(4 + 3);
    micro.forEach((i: any, k: number) => {
      const probs = LABELS.map((l) => (i.probabilities[l] as number).toFixed(3));
      expect(lines[4 + k].trim().split(/\s+/)).toEqual([`${i.start.toFixed(2)}-${i.end.toFixed(2)}`, String(i.onset), String(i.apex), String(i.offset), 'micro', i.score.toFixed(2), i.label, ...probs]);
    });
  });

  it('Predictor.timeline gives the CLI\'s timeline, and leaves the tensor count where it was when repeated', async () => {
    const p = await Predictor.load(model);
    try {
      await p.predict(videoFile, { onset: 0, apex: 5 }); // the backend's first-use allocations
      const before = tf.memory().numTensors;
      const a = await p.timeline(videoFile);
      const afterOne = tf.memory().numTensors;
      const b = await p.timeline(videoFile, { threads: 2 });
      expect(tf.memory().numTensors).toBe(before);
      expect(afterOne).toBe(before);
      // two flows at a time (worker threads): the same timeline to the bit
      expect(b).toEqual(a);
      expect(a.chosen).toBe(cliJson.chosen);
      expect(a.spotting).toEqual(cliJson.spotting);
      expect(a.intervals.map((i) => ({ onset: i.onset, apex: i.apex, offset: i.offset, kind: i.kind, score: i.score, label: i.label }))).toEqual(
        cliJson.intervals.map((i: any) => ({ onset: i.onset, apex: i.apex, offset: i.offset, kind: i.kind, score: i.score, label: i.label })),
      );
      a.intervals.forEach((i, k) => expect(i.probs).toEqual(LABELS.map((l) => cliJson.intervals[k].probabilities[l])));
      // the CSV of the timeline: spot's columns, then the label and one probability a class
      const [header, ...rows] = parseCsv(timelineCsv('long', a));
      expect(header).toEqual(['video', 'onset', 'apex', 'offset', 'kind', 'score', 'start_s', 'apex_s', 'end_s', 'label', ...LABELS]);
      expect(rows).toHaveLength(3);
      rows.forEach((row, k) => {
        const i = cliJson.intervals[k];
        expect(row.slice(0, 10)).toEqual(['long', i.onset, i.apex, i.offset, 'micro', i.score, i.start, i.apexTime, i.end, i.label].map(String));
        expect(row.slice(10).map(Number)).toEqual(LABELS.map((l) => Number(i.probabilities[l].toFixed(6))));
      });
    } finally {
      p.dispose();
    }
  });
});

describe('predict without onset and apex: what is said, and the cases around it', () => {
  it('a still video: no interval, an empty timeline and a line that says so, exit 0', async () => {
    const still = generateLongVideos({ ...VIDEO, seconds: 3, micro: { ...VIDEO.micro, count: 0 }, noise: 0 }).videos[0];
    const file = join(root, 'still.mkv');
    encode(still, file);
    const csvFile = join(root, 'still.csv');
    const r = await predict(file, '--json', '--out', csvFile);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(readFileSync(csvFile, 'utf8')).toBe(`video,onset,apex,offset,kind,score,start_s,apex_s,end_s,label,${LABELS.join(',')}\n`);
    expect(j).toMatchObject({ frames: 90, micro: 0, macro: 0, intervals: [] });
    expect(j.label).toBeUndefined();
    expect(r.err).toContain(`mimanet: note: ${file}: spotting found no micro-expression interval (p 0.3): the timeline has no label\n`);
    const text = await predict(file);
    expect(text.out.trimEnd().split('\n')[2]).toBe('no micro-expression spotted: nothing to recognise');
  });

  it('a folder of frames without clip.json is spotted too, and needs --fps; spotting options are refused where nothing is spotted', async () => {
    const dir = join(root, 'frames');
    mkdirSync(dir);
    for (let t = 0; t < 12; t++) await sharp(Buffer.from(longVideoFrame(video, t)), { raw: { width: 64, height: 64, channels: 1 } }).png().toFile(join(dir, `${t}.png`));
    const r = await predict(dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/frames: a folder of frames does not say its frame rate: give --fps/);
    const ok = await predict(dir, '--fps', '30', '--p', '0.5', '--json');
    expect(ok.code, ok.err).toBe(0);
    const j = JSON.parse(ok.out);
    expect(j).toMatchObject({ kind: 'frames', frames: 12, fps: 30, spotting: { options: { p: 0.5, fps: 30 } } });
    const bad = await predict(videoFile, '--onset', '0', '--apex', '5', '--p', '0.5');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--p: spotting options, for one video or folder of frames without --onset\/--apex, clip.json or --whole-clip/);
    const badP = await predict(videoFile, '--p', 'x');
    expect(badP.code).toBe(1);
    expect(badP.err).toMatch(/option --p is "x": expected a number/);
    const outOfRange = await predict(videoFile, '--p', '2');
    expect(outOfRange.code).toBe(1);
    expect(outOfRange.err).toMatch(/spot option p is 2: expected a number from 0 to 1/);
  });

  it('several clips are not spotted: a clip without clip.json takes the first and the middle frame, and its row says so', async () => {
    const a = join(root, 'clip-a');
    const b = join(root, 'clip-b');
    for (const [d, meta] of [[a, undefined], [b, { onset: 1, apex: 4 }]] as const) {
      mkdirSync(d);
      for (let t = 0; t < 6; t++) await sharp(Buffer.from(longVideoFrame(video, 190 + t)), { raw: { width: 64, height: 64, channels: 1 } }).png().toFile(join(d, `${t}.png`));
      if (meta) writeFileSync(join(d, 'clip.json'), JSON.stringify(meta));
    }
    const r = await predict(a, b, '--json');
    expect(r.code, r.err).toBe(0);
    const rows = JSON.parse(r.out);
    expect(rows[0]).toMatchObject({ clip: a, onset: 0, apex: 2, chosen: { onset: 'default', apex: 'default' } });
    expect(rows[0].defaulted).toBe('onset and apex not given (no --onset/--apex, no clip.json): onset the first frame (0), apex the middle frame (2), a guess');
    expect(rows[1]).toMatchObject({ clip: b, onset: 1, apex: 4, chosen: { onset: 'clip.json', apex: 'clip.json' } });
    expect(rows[1].defaulted).toBeUndefined();
    expect(r.err).toContain(`mimanet: note: ${a}: ${rows[0].defaulted}\n`);
    expect(r.err).not.toContain(`${b}: onset`);
  });

  it('--whole-clip and a lone --apex take the old defaults and say so, on stderr and in the JSON', async () => {
    const whole = await predict(videoFile, '--whole-clip', '--json');
    expect(whole.code, whole.err).toBe(0);
    const j = JSON.parse(whole.out);
    expect(j).toMatchObject({ onset: 0, apex: 179, chosen: { onset: 'default', apex: 'default' } });
    expect(j.defaulted).toBe('onset and apex not given (no --onset/--apex, no clip.json): onset the first frame (0), apex the middle frame (179), a guess');
    expect(whole.err).toContain(`mimanet: note: ${videoFile}: ${j.defaulted} (--whole-clip)\n`);
    const lone = await predict(videoFile, '--apex', '20', '--json');
    expect(lone.code, lone.err).toBe(0);
    expect(JSON.parse(lone.out)).toMatchObject({ onset: 0, apex: 20, chosen: { onset: 'default', apex: 'given' } });
    expect(lone.err).toContain('onset not given (no --onset, no clip.json): onset the first frame (0), a guess');
    const both = await predict(videoFile, '--whole-clip', '--onset', '3');
    expect(both.code).toBe(1);
    expect(both.err).toMatch(/--whole-clip takes onset = the first frame and apex = the middle frame; --onset and --apex choose them/);
  });
});

describe('predict without onset and apex on a checkpoint of real data: faces aligned for the spotter and for the model', () => {
  it('spots a folder of face frames with --align face (the recipe\'s) and labels each micro interval as --onset/--apex does', async () => {
    const faceModel = join(root, 'face-model');
    const net = withInitSeed(6, () => new TwoStreamNet({ classes: 3, size: 32, channels: 3, frames: 4, width: 2, sc: 2, K: 2 }, 'MiNet'));
    try {
      await saveCheckpoint(net, faceModel, { labels: LABELS, temporal: 'intervals', normalization: DEFAULT_NORMALIZATION, preprocessing: { align: 'face', resample: 'linear', eyeDistance: 0.4, eyeY: 0.35 } });
    } finally {
      net.dispose();
    }
    // 40 frames of a still face; on frames 15..21 a dark patch slides across the chin and back (a local movement)
    const dir = join(root, 'face-frames');
    mkdirSync(dir);
    const side = 160;
    const face = await faceFrame(side, 0);
    for (let t = 0; t < 40; t++) {
      const px = Buffer.from(face);
      const step = t >= 15 && t <= 21 ? 3 - Math.abs(t - 18) : -1;
      if (step >= 0) {
        for (let y = 118; y < 130; y++) for (let x = 60 + 6 * step; x < 72 + 6 * step; x++) px.fill(30, (y * side + x) * 3, (y * side + x) * 3 + 3);
      }
      await sharp(px, { raw: { width: side, height: side, channels: 3 } }).png().toFile(join(dir, `${String(t).padStart(2, '0')}.png`));
    }
    const detector = await createFaceDetector();
    const p = await Predictor.load(faceModel);
    try {
      const t = await p.timeline(dir, { fps: 30, detector });
      expect(t.spotting.align).toBe('face');
      expect(t.chosen).toContain('faces 64x64 aligned by the eyes');
      const micro = t.intervals.filter((i) => i.recognised);
      expect(micro.length, JSON.stringify(t.intervals)).toBeGreaterThanOrEqual(1);
      expect(micro.some((i) => intervalIou(i, { onset: 15, offset: 21 }) >= 0.5), JSON.stringify(t.intervals)).toBe(true);
      for (const i of micro) {
        const r = await p.predict(dir, { onset: i.onset, apex: i.apex, detector });
        expect(r.input.preprocessing).toMatchObject({ align: 'face' });
        expect(i.probs).toEqual(r.probs);
        expect(i.label).toBe(r.label);
      }
    } finally {
      p.dispose();
    }
  });
});

describe('timelineFromSpot (browser-safe)', () => {
  it('src/browser.ts exports the timeline and the spotter, and reaches no Node module through them', async () => {
    const browser = await import('../src/browser.js');
    expect(typeof browser.spotThenRecognise).toBe('function');
    expect(typeof browser.timelineFromSpot).toBe('function');
    expect(typeof browser.spot).toBe('function');
    const NODE = /^(node:|fs$|path$|os$|child_process$|worker_threads$|crypto$|url$|module$|sharp$)/;
    const seen = new Set<string>();
    const bad: string[] = [];
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)) {
        if (NODE.test(m[1])) bad.push(`${file}: ${m[1]}`);
        else if (m[1].startsWith('.')) visit(resolve(dirname(file), m[1].replace(/\.js$/, '.ts')));
      }
    };
    visit(join(import.meta.dirname, '..', 'src', 'browser.ts'));
    expect([...seen].some((f) => f.endsWith(join('predict', 'timeline.ts')))).toBe(true);
    expect(bad).toEqual([]);
  });

  it('recognises micro intervals on onset..apex, lists macro ones unrecognised, and checks what recognition returns', async () => {
    const seen: Array<{ onset: number; apex: number; offset: number }> = [];
    const spotting = { options: { ...DEFAULT_SPOT_OPTIONS, fps: 25 }, size: 64, align: 'face' as const };
    const result = {
      intervals: [
        { onset: 10, apex: 13, offset: 17, score: 2.5, kind: 'micro' as const },
        { onset: 40, apex: 55, offset: 80, score: 1.25, kind: 'macro' as const },
      ],
      passes: [{ name: 'micro' as const, k: 4, threshold: 0.5, contrast: new Float64Array(), difference: new Float64Array() }],
    };
    const t: Timeline = await timelineFromSpot(result, 100, spotting, ['a', 'b'], async (c) => (seen.push(c), [0.25, 0.75]));
    expect(seen).toEqual([{ onset: 10, apex: 13, offset: 17 }]);
    expect(t.intervals).toEqual([
      { kind: 'micro', onset: 10, apex: 13, offset: 17, start: 0.4, apexTime: 0.52, end: 0.72, score: 2.5, recognised: true, label: 'b', index: 1, probs: [0.25, 0.75] },
      { kind: 'macro', onset: 40, apex: 55, offset: 80, start: 1.6, apexTime: 2.2, end: 3.24, score: 1.25, recognised: false },
    ]);
    expect(t.spotting.passes).toEqual([{ name: 'micro', k: 4, threshold: 0.5 }]);
    expect(t.chosen).toBe(
      'onset, apex and offset spotted (mimanet spot: p 0.3, windows 0.3 s and 1 s, 25 fps, faces 64x64 aligned by the eyes); each micro interval recognised on its frames onset..apex; macro intervals spotted, not recognised',
    );
    await expect(timelineFromSpot(result, 100, spotting, ['a', 'b'], async () => [0.5])).rejects.toThrow('interval 10..17: 1 probabilities for 2 labels');
    await expect(timelineFromSpot(result, 100, spotting, ['a', 'b'], async () => [NaN, 1])).rejects.toThrow('interval 10..17: non-finite probabilities (NaN, 1)');
  });
});
