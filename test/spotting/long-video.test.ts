/** The long synthetic videos: ground truth where the motion is, micro durations, distractors, determinism, options, export. */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { type LongVideo, DEFAULT_LONG_VIDEO_CONFIG, generateLongVideo, generateLongVideos, longVideoFrame, longVideoTruth, validateLongVideoConfig } from '../../src/data/synthetic/long-video.js';
import { intervalKind } from '../../src/motion/intervals.js';
import { parseSpotCsv } from '../../src/motion/spot-csv.js';
import { runCli, tempDir } from '../helpers.js';

/** No drift, tremor, flicker or noise: frames change only where an event moves the face. */
const STILL = { noise: 0, jitter: 0, flicker: 0, drift: 0, lightDrift: 0 };

/** Sum of absolute byte differences between frames a and b. */
function frameDiff(v: LongVideo, a: number, b: number): number {
  const x = longVideoFrame(v, a);
  const y = longVideoFrame(v, b);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i] - y[i]);
  return s;
}

/** The event whose frames hold both t and t + 1 (the change from t to t + 1 is its motion), if any. */
const holding = (events: ReadonlyArray<{ onset: number; offset: number }>, t: number) => events.find((e) => e.onset <= t && t + 1 <= e.offset);

describe('long synthetic videos', () => {
  it('truth intervals are where the motion is: frames change on every step inside an expression, never outside, and peak at the apex', () => {
    const { videos } = generateLongVideos({ videos: 3, seconds: 12, size: 48, ...STILL, blinksPerMinute: 0, headMovesPerMinute: 0 });
    for (const v of videos) {
      expect(v.frames).toBe(360);
      expect(v.expressions.map((x) => x.kind).sort()).toEqual(['macro', 'macro', 'micro', 'micro', 'micro']);
      for (let t = 0; t + 1 < v.frames; t++) {
        const e = holding(v.expressions, t);
        const d = frameDiff(v, t, t + 1);
        if (e) expect(d, `${v.id} frames ${t}-${t + 1} inside ${e.kind} ${e.onset}..${e.offset}`).toBeGreaterThan(0);
        else expect(d, `${v.id} frames ${t}-${t + 1} outside every expression`).toBe(0);
      }
      for (const e of v.expressions) {
        // neutral at the onset and again at the offset; furthest from neutral at the apex
        expect(frameDiff(v, e.onset, e.offset)).toBe(0);
        const away = Array.from({ length: e.offset - e.onset + 1 }, (_, k) => frameDiff(v, e.onset, e.onset + k));
        expect(e.onset + away.indexOf(Math.max(...away)), `${v.id} ${e.kind} ${e.onset}..${e.offset}`).toBe(e.apex);
        expect(e.onset < e.apex && e.apex < e.offset).toBe(true);
      }
    }
  });

  it('micro-expressions move the face less than macro ones (low intensity)', () => {
    const { videos } = generateLongVideos({ videos: 3, seconds: 12, size: 48, ...STILL, blinksPerMinute: 0, headMovesPerMinute: 0 });
    const peak = (kind: string) => {
      const xs = videos.flatMap((v) => v.expressions.filter((e) => e.kind === kind).map((e) => frameDiff(v, e.onset, e.apex)));
      return xs.reduce((s, x) => s + x, 0) / xs.length;
    };
    expect(peak('micro')).toBeGreaterThan(0);
    expect(peak('micro')).toBeLessThan(0.5 * peak('macro'));
  });

  it('distractors are where the generator says: blinks close the eyes, head movements shift the face, nothing else moves', () => {
    const { videos } = generateLongVideos({ videos: 2, seconds: 30, size: 48, ...STILL, blinksPerMinute: 30, headMovesPerMinute: 12, micro: { count: 1 }, macro: { count: 1 } });
    let stays = 0;
    for (const v of videos) {
      expect(v.distractors.filter((d) => d.kind === 'blink')).toHaveLength(15);
      expect(v.distractors.filter((d) => d.kind === 'head')).toHaveLength(6);
      const events = [...v.expressions, ...v.distractors];
      for (let t = 0; t + 1 < v.frames; t++) if (!holding(events, t)) expect(frameDiff(v, t, t + 1), `${v.id} frames ${t}-${t + 1}`).toBe(0);
      for (const d of v.distractors) {
        expect(frameDiff(v, d.onset, d.apex), `${v.id} ${d.kind} ${d.onset}..${d.offset}`).toBeGreaterThan(0);
        if (d.kind === 'blink') {
          expect(frameDiff(v, d.onset, d.offset)).toBe(0);
          // the change at the blink's peak lies in the eye band (rows 20%-50% of the frame)
          const a = longVideoFrame(v, d.onset);
          const b = longVideoFrame(v, d.apex);
          let eyes = 0;
          let all = 0;
          for (let i = 0; i < a.length; i++) {
            const row = Math.floor(i / v.size) / v.size;
            const x = Math.abs(a[i] - b[i]);
            all += x;
            if (row >= 0.2 && row < 0.5) eyes += x;
          }
          expect(eyes / all).toBeGreaterThan(0.9);
        } else if (d.apex === d.offset) {
          stays++; // the head stays where it moved to
          expect(frameDiff(v, d.onset, d.offset)).toBeGreaterThan(0);
        } else expect(frameDiff(v, d.onset, d.offset)).toBe(0);
      }
    }
    expect(stays).toBeGreaterThan(0);
  });

  it('micro-expressions last at most 0.5 s and macro ones longer; events keep their gaps, at several frame rates', () => {
    for (const fps of [25, 30, 100]) {
      const cfg = { videos: 3, seconds: 24, fps, size: 16, micro: { count: 8 }, macro: { count: 2 } };
      const { videos, config } = generateLongVideos(cfg);
      const gap = Math.round(config.gap * fps);
      for (const v of videos) {
        expect(v.expressions.filter((x) => x.kind === 'micro')).toHaveLength(8);
        for (const x of v.expressions) {
          expect(intervalKind(x, fps), `${fps} fps ${x.kind} ${x.onset}..${x.offset}`).toBe(x.kind);
          if (x.kind === 'micro') expect((x.offset - x.onset + 1) / fps).toBeLessThanOrEqual(0.5);
          else expect((x.offset - x.onset + 1) / fps).toBeGreaterThanOrEqual(1 - 1 / fps);
        }
        const events = [...v.expressions, ...v.distractors].sort((a, b) => a.onset - b.onset);
        expect(events[0].onset).toBeGreaterThanOrEqual(gap);
        expect(events[events.length - 1].offset).toBeLessThanOrEqual(v.frames - 1 - gap);
        for (let i = 1; i < events.length; i++) expect(events[i].onset - events[i - 1].offset - 1).toBeGreaterThanOrEqual(gap);
      }
    }
  });

  it('is deterministic under a seed, and a video does not depend on how many are made', () => {
    const opts = { videos: 2, seconds: 15, size: 32, seed: 3 };
    const a = generateLongVideos(opts);
    const b = generateLongVideos(opts);
    const c = generateLongVideos({ ...opts, seed: 4 });
    a.videos.forEach((v, i) => {
      expect(Buffer.compare(Buffer.from(v.pixels), Buffer.from(b.videos[i].pixels))).toBe(0);
      expect(b.videos[i].expressions).toEqual(v.expressions);
      expect(b.videos[i].distractors).toEqual(v.distractors);
      expect(Buffer.compare(Buffer.from(v.pixels), Buffer.from(c.videos[i].pixels))).not.toBe(0);
      expect(c.videos[i].expressions).not.toEqual(v.expressions);
    });
    const third = generateLongVideo(validateLongVideoConfig({ ...opts, videos: 5 }), 1);
    expect(third.id).toBe(a.videos[1].id);
    expect(Buffer.compare(Buffer.from(third.pixels), Buffer.from(a.videos[1].pixels))).toBe(0);
    expect(longVideoTruth(a.videos).filter((t) => t.video === 'synth-lv02')).toEqual(a.videos[1].expressions.map((x) => ({ video: 'synth-lv02', onset: x.onset, offset: x.offset, kind: x.kind })));
  });

  it('options: defaults filled in, errors name the field and quote the value', () => {
    expect(validateLongVideoConfig()).toEqual(DEFAULT_LONG_VIDEO_CONFIG);
    expect(validateLongVideoConfig({ fps: 200, micro: { intensity: 0.2 } }).micro).toEqual({ ...DEFAULT_LONG_VIDEO_CONFIG.micro, intensity: 0.2 });
    const bad = (input: object, message: string) => expect(() => validateLongVideoConfig(input as never)).toThrow(message);
    bad({ fps: 5 }, 'long-video config: fps must be a number in [10, 1000], got 5');
    bad({ videos: 1.5 }, 'long-video config: videos must be an integer in [1, 1000], got 1.5');
    bad({ micro: { maxSeconds: 0.8 } }, 'long-video config: micro.maxSeconds must be a number in (0, 0.5], got 0.8');
    bad({ macro: { minSeconds: 0.5 } }, 'long-video config: macro.minSeconds must be a number in (0.5, 60], got 0.5');
    bad({ micro: { minSeconds: 0.4, maxSeconds: 0.3 } }, 'long-video config: micro.maxSeconds must be at least micro.minSeconds (0.4), got 0.3');
    bad({ fps: 10, micro: { minSeconds: 0.1, maxSeconds: 0.2 } }, 'long-video config: fps must be high enough for micro-expressions of 3 frames (onset, apex, offset) within 0.2 s, got 10');
    bad({ seconds: 10 }, 'long-video config: seconds must be at least 12.10 s to hold 3 micro, 2 macro, 2 blink and 1 head-movement events at their longest, 0.5 s apart, got 10');
    bad({ channels: 2 }, 'long-video config: channels must be 1 or 3, got 2');
    bad({ micro: 'few' }, 'long-video config: micro must be an object, got "few"');
    bad({ colour: true }, 'long-video config: unknown field "colour"');
    bad({ macro: { speed: 2 } }, 'long-video config: unknown field "macro.speed"');
    bad({ noise: Number.NaN }, 'long-video config: noise must be a number in [0, 64], got NaN');
  });

  it('data synthetic --long-videos writes frames, video.json and a truth.csv that spot score reads', async () => {
    const out = tempDir('long-videos');
    const r = await runCli(['data', 'synthetic', '--long-videos', '2', '--seconds', '15', '--size', '32', '--seed', '7', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('2 long videos written');
    const set = generateLongVideos({ videos: 2, seconds: 15, size: 32, seed: 7 });
    const v = set.videos[1];
    const dir = join(out, v.id);
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(451);
    expect(files[0]).toBe('0000.png');
    expect(files[449]).toBe('0449.png');
    expect(JSON.parse(readFileSync(join(dir, 'video.json'), 'utf8'))).toEqual({ id: v.id, fps: 30, frames: 450, size: 32, channels: 1, expressions: v.expressions, distractors: v.distractors });
    const e = v.expressions[0];
    const png = await sharp(join(dir, `${String(e.apex).padStart(4, '0')}.png`)).extractChannel(0).raw().toBuffer();
    expect(Buffer.compare(png, Buffer.from(longVideoFrame(v, e.apex)))).toBe(0);
    const truth = parseSpotCsv(readFileSync(join(out, 'truth.csv'), 'utf8'), 'truth.csv');
    expect(truth.map(({ video, onset, offset, kind }) => ({ video, onset, offset, kind }))).toEqual(longVideoTruth(set.videos));
    expect(truth[0].extra).toEqual({ apex: String(set.videos[0].expressions[0].apex), emotion: set.videos[0].expressions[0].emotion });
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toEqual(set.config);
    const scored = await runCli(['spot', 'score', '--truth', join(out, 'truth.csv'), '--pred', join(out, 'truth.csv'), '--json']);
    expect(JSON.parse(scored.out.trim().split('\n').pop()!).overall).toEqual({ tp: 10, fp: 0, fn: 0, precision: 1, recall: 1, f1: 1 });

    const bad = await runCli(['data', 'synthetic', '--long-videos', '2', '--fps', 'fast', '--out', out]);
    expect(bad.err).toBe('mimanet: error: option --fps: expected a number, got "fast"\n');
    const stray = await runCli(['data', 'synthetic', '--seconds', '20', '--out', out]);
    expect(stray.err).toBe('mimanet: error: option --seconds applies to --long-videos only\n');
  });
});
