/**
 * The browser demo's spotting end to end: a short synthetic long video (known micro- and
 * macro-expressions) is written as a Y4M file and fed to headless Chromium as its fake camera;
 * the page spots a fixed number of frames from the webcam, then `mimanet spot` (native flow)
 * runs on the very frames the page analysed (the camera loops and its timing is not frame-exact,
 * so the page's own record of its frames is the common input) and both must find the same
 * intervals. The downloaded timeline (CSV and JSON) must hold them, and every micro interval must
 * carry the label `mimanet predict` gives its onset..apex frames. The frames per second the page
 * sustained are printed (and kept in MIMANET_E2E_OUT/spot-figures.json), not asserted.
 *
 * Chromium as in demo.e2e.test.ts: skipped with a line where it is missing, required with
 * MIMANET_E2E_BROWSER=1.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TwoStreamNet } from '../../src/model/twostream.js';
import { withInitSeed } from '../../src/model/resnet.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { Predictor } from '../../src/predict/index.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import { generateLongVideos, longVideoFrame, type LongVideo } from '../../src/data/synthetic/long-video.js';
import { parseSpotCsv } from '../../src/motion/spot-csv.js';
import type { SpotRecord } from '../../src/motion/spot-output.js';
import type { SpotOptions } from '../../src/motion/spot.js';

/** What the page's JSON download holds (`predict --json`'s timeline fields, plus the video, score and rate). */
interface PageTimeline {
  video: string;
  fps: number;
  frames: number;
  spotting: { options: SpotOptions; size: number; align: string; passes: Array<{ name: string; k: number; threshold: number }> };
  labels: string[];
  intervals: Array<{ kind: string; onset: number; apex: number; offset: number; score: number; recognised: boolean; label: string | null; probabilities: Record<string, number> | null }>;
  score: number[];
  processingFps: number | null;
}
import { useCpu, tempDir, runCli } from '../helpers.js';

const CHROMIUM = process.env.MIMANET_CHROMIUM || '/usr/bin/chromium';
const REQUIRED = process.env.MIMANET_E2E_BROWSER === '1';
const ENABLED = REQUIRED || existsSync(CHROMIUM);
if (!ENABLED) console.warn(`spot demo e2e skipped: no Chromium at ${CHROMIUM}; install it (apt-get install -y chromium) or set MIMANET_CHROMIUM=PATH, and MIMANET_E2E_BROWSER=1 to require it`);
const OUT = process.env.MIMANET_E2E_OUT;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const FPS = 30;
const SECONDS = 8;
/** The page's spotting size (SPOT_SIZE) and the video's: the page resizes nothing. */
const SIZE = 64;
const LABELS = ['negative', 'positive', 'surprise'];
/** A grey MiNet at the spotting size, so the frames the spotter got are the model's frames too. */
const cfg = { classes: 3, size: SIZE, channels: 1, frames: 4, width: 2, sc: 2, K: 2 };
/**
 * Scores are contrast / threshold, of order 1. The page's TypeScript TV-L1 and the native one of
 * `mimanet spot` are held to 1e-3 px by test/motion/tvl1.test.ts and are in fact equal to the bit
 * there, so the spotter's arithmetic on them is the same and what is left is the command's rounding
 * of scores to 5 decimals (5e-6). The thresholds here are about 0.015 to 0.02 px (a mostly still
 * video), so flows really 1e-3 px apart could move a score by far more than this tolerance: a
 * difference above 1e-3 means the page did not compute what the command computes.
 */
const SCORE_TOL = 1e-3;
const PROB_TOL = 1e-3;

/**
 * Explicit options (the generator's defaults are not fixed): strong micro-expressions, one
 * macro-expression, no blinks, head movements, drift, tremor, flicker or noise, so that the
 * looping camera shows a seamless neutral face between the events.
 */
const VIDEO_OPTIONS = {
  seed: 5,
  videos: 1,
  seconds: SECONDS,
  fps: FPS,
  size: SIZE,
  channels: 1,
  micro: { count: 2, intensity: 0.7, intensityJitter: 0.1, minSeconds: 0.3, maxSeconds: 0.5 },
  macro: { count: 1, intensity: 1, intensityJitter: 0.1, minSeconds: 1, maxSeconds: 1.5 },
  blinksPerMinute: 0,
  headMovesPerMinute: 0,
  headAmplitude: 0.04,
  drift: 0,
  lightDrift: 0,
  jitter: 0,
  flicker: 0,
  noise: 0,
  gap: 0.5,
};

/** YUV4MPEG2, 4:2:0: the grey frames as the Y plane, U = V = 128. */
function writeY4m(file: string, v: LongVideo): void {
  const n = v.size * v.size;
  const chroma = Buffer.alloc(2 * ((v.size / 2) * (v.size / 2)), 128);
  const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${v.size} H${v.size} F${v.fps}:1 Ip A1:1\n`)];
  for (let t = 0; t < v.frames; t++) {
    parts.push(Buffer.from('FRAME\n'), Buffer.from(longVideoFrame(v, t).subarray(0, n)), chroma);
  }
  writeFileSync(file, Buffer.concat(parts));
}

let work: string;
let server: RunningServer;
let browser: Browser;
let video: LongVideo;
/** The same video as VP8 (lossy: the page's frames differ a little from the Y4M's). */
let webm: string;

beforeAll(async () => {
  if (!ENABLED) return;
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found and MIMANET_E2E_BROWSER=1 requires it; install it with \`apt-get install -y chromium\``);
  await useCpu();
  work = tempDir('e2e-spot');
  const dist = join(work, 'dist');
  await build({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: 'error', build: { outDir: dist, emptyOutDir: true } });

  video = generateLongVideos(VIDEO_OPTIONS).videos[0]!;
  const y4m = join(work, 'camera.y4m');
  writeY4m(y4m, video);
  webm = join(work, 'clip.webm');
  const ffmpeg = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  execFileSync(ffmpeg, ['-v', 'error', '-i', y4m, '-c:v', 'libvpx', '-b:v', '4M', '-pix_fmt', 'yuv420p', webm]);

  const net = withInitSeed(7, () => new TwoStreamNet(cfg, 'MiNet'));
  // a smaller C_e than the random one leaves every class in play (no probability pinned at 0 or 1)
  const [kernel] = net.classifier.getWeights();
  net.classifier.setWeights([tf.mul(kernel!, 0.3), tf.tensor1d([0.1, -0.2, 0.05])]);
  const ckpt = join(work, 'ckpt');
  await saveCheckpoint(net, ckpt, { labels: LABELS, temporal: 'intervals', normalization: { mean: [0.45], std: [0.25] }, preprocessing: { align: 'none', resample: 'linear' } });
  net.dispose();

  server = await startServer({ port: 0, model: ckpt, webRoot: dist });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`],
  });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ acceptDownloads: true });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${server.url}?backend=cpu`);
  await page.waitForFunction(() => document.getElementById('model-info')?.dataset.state === 'ok' || document.getElementById('status')?.dataset.kind === 'error');
  expect(await page.getAttribute('#model-info', 'data-state')).toBe('ok');
  await page.selectOption('#mode', 'spot');
  await page.fill('#fps', String(FPS));
  return { page, errors };
}

/** Waits for the spotting run to end; its wall time in seconds. */
async function spotted(page: Page, errors: string[], t0: number): Promise<number> {
  await page.waitForFunction(
    () => ['done', 'error'].includes(document.getElementById('spot-panel')!.dataset.state ?? '') || document.getElementById('status')?.dataset.kind === 'error',
    undefined,
    { timeout: 480_000, polling: 500 },
  );
  const wallS = (Date.now() - t0) / 1000;
  expect(await page.getAttribute('#spot-panel', 'data-state'), (await page.textContent('#status')) ?? '').toBe('done');
  expect(errors).toEqual([]);
  return wallS;
}

/**
 * The page's run against `mimanet spot` on the frames the page analysed (`frames` of them),
 * its table, its downloads and the labels of its micro intervals; returns what to report.
 */
async function checkRun(page: Page, name: string, frameCount: number): Promise<Record<string, unknown>> {
  const frames = await page.evaluate(() => (window as unknown as { mimanetSpot: { frames(): string[] } }).mimanetSpot.frames());
  expect(frames.length).toBe(frameCount);
  const dir = join(work, `${name}-frames`);
  mkdirSync(dir, { recursive: true });
  for (const [i, b64] of frames.entries()) {
    const grey = Buffer.from(b64, 'base64');
    expect(grey.length).toBe(SIZE * SIZE);
    await sharp(grey, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toFile(join(dir, `${String(i).padStart(4, '0')}.png`));
  }
  const cliOut = join(work, `${name}-cli`);
  mkdirSync(cliOut, { recursive: true });
  const cli = await runCli(['spot', dir, '--fps', String(FPS), '--align', 'none', '--size', String(SIZE), '--out', cliOut, '--quiet']);
  expect(cli.code, cli.err).toBe(0);
  const record = JSON.parse(readFileSync(join(cliOut, `${name}-frames.spot.json`), 'utf8')) as SpotRecord;

  // the timeline as the page downloads it
  const [jsonDl] = await Promise.all([page.waitForEvent('download'), page.click('#spot-json')]);
  expect(jsonDl.suggestedFilename()).toBe(`${name}.spot.json`);
  const timeline = JSON.parse(readFileSync((await jsonDl.path())!, 'utf8')) as PageTimeline;
  const [csvDl] = await Promise.all([page.waitForEvent('download'), page.click('#spot-csv')]);
  expect(csvDl.suggestedFilename()).toBe(`${name}.spot.csv`);
  const csvText = readFileSync((await csvDl.path())!, 'utf8');
  const csv = parseSpotCsv(csvText, `${name}.spot.csv`, { scores: true });

  const key = (i: { onset: number; apex: number | string; offset: number; kind: string }): string => `${i.kind} ${i.onset}-${i.apex}-${i.offset}`;
  const cliKeys = record.intervals.map(key);
  expect(record.intervals.length, 'mimanet spot found nothing in the frames the page took').toBeGreaterThan(0);
  expect(record.intervals.some((i) => i.kind === 'micro'), `no micro interval among ${cliKeys.join(', ')}`).toBe(true);
  expect(timeline.intervals.map(key)).toEqual(cliKeys);
  timeline.intervals.forEach((iv, i) => expect(Math.abs(iv.score - record.intervals[i]!.score), key(iv)).toBeLessThan(SCORE_TOL));
  expect(timeline.video).toBe(name);
  expect(timeline.frames).toBe(record.frames);
  expect(timeline.fps).toBe(FPS);
  expect(timeline.spotting.options).toEqual(record.options);
  expect(timeline.spotting.size).toBe(SIZE);
  expect(timeline.spotting.align).toBe('none');
  expect(timeline.spotting.passes.map((p) => [p.name, p.k])).toEqual(record.passes.map((p) => [p.name, p.k]));
  timeline.spotting.passes.forEach((p, i) => expect(Math.abs(p.threshold - record.passes[i]!.threshold) / record.passes[i]!.threshold).toBeLessThan(1e-6));
  expect(timeline.labels).toEqual(LABELS);
  const scoreDiff = Math.max(...timeline.score.map((s, f) => Math.abs(s - record.score[f]!)));
  expect(scoreDiff).toBeLessThan(SCORE_TOL);
  // the table on the page and the CSV hold the same intervals
  const rows = await page.$$eval('#spot-rows tr', (trs) => trs.map((tr) => ({ ...(tr as HTMLElement).dataset })));
  expect(rows.map((r) => `${r.kind} ${r.onset}-${r.apex}-${r.offset}`)).toEqual(cliKeys);
  expect(csvText.split('\n')[0]).toBe(`video,onset,apex,offset,kind,score,start_s,apex_s,end_s,label,${LABELS.join(',')}`);
  expect(csv.map((r) => key({ ...r, apex: r.extra.apex! }))).toEqual(cliKeys);
  csv.forEach((r, i) => expect(Math.abs(r.score! - record.intervals[i]!.score)).toBeLessThan(SCORE_TOL));

  // each micro interval: the label and probabilities `mimanet predict` gives its onset..apex frames
  const predictor = await Predictor.load(join(work, 'ckpt'));
  try {
    for (const [i, iv] of timeline.intervals.entries()) {
      const row = csv[i]!;
      if (iv.kind !== 'micro') {
        expect(iv.label).toBeNull();
        expect(iv.recognised).toBe(false);
        expect(row.extra.label).toBe('');
        continue;
      }
      const expected = await predictor.predict(dir, { onset: iv.onset, apex: iv.apex });
      expect(iv.recognised).toBe(true);
      expect(iv.label, key(iv)).toBe(expected.label);
      expect(row.extra.label).toBe(expected.label);
      expect(rows[i]!.label).toBe(expected.label);
      LABELS.forEach((l, c) => {
        expect(Math.abs(iv.probabilities![l]! - expected.probs[c]!), `${key(iv)} ${l}`).toBeLessThan(PROB_TOL);
        expect(Math.abs(Number(row.extra[l]) - expected.probs[c]!)).toBeLessThan(PROB_TOL);
      });
    }
  } finally {
    predictor.dispose();
  }

  // a labelled micro interval's row shows its model input and probabilities in the prediction panel
  const micro = timeline.intervals.findIndex((iv) => iv.kind === 'micro');
  await page.click(`#spot-rows tr:nth-child(${micro + 1})`);
  expect(await page.getAttribute('#result', 'data-label')).toBe(timeline.intervals[micro]!.label);
  expect(await page.locator('#thumbs canvas').count()).toBe(cfg.frames);

  const fps = Number(await page.getAttribute('#spot-panel', 'data-fps'));
  expect(fps).toBeGreaterThan(0);
  expect(timeline.processingFps).toBeCloseTo(fps, 1);
  if (OUT) {
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, `spot-demo-${name}.png`), fullPage: true });
  }
  return { frames: frames.length, intervals: cliKeys, processingFps: fps, frameMs: Number(await page.getAttribute('#spot-panel', 'data-frame-ms')), largestScoreDifference: scoreDiff, progress: await page.textContent('#spot-progress') };
}

const figures: Record<string, unknown> = {};

describe.skipIf(!ENABLED)('browser demo spotting', () => {
  afterAll(() => {
    if (OUT && Object.keys(figures).length) writeFileSync(join(OUT, 'spot-figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
  });

  it('the synthetic video has micro- and macro-expressions for the spotter to find', () => {
    expect(video.frames).toBe(SECONDS * FPS);
    expect(video.expressions.map((e) => e.kind).sort()).toEqual(['macro', 'micro', 'micro']);
  });

  it('spots the fake camera as mimanet spot does on the same frames, labels the micro intervals and downloads the timeline', async () => {
    const { page, errors } = await openPage();
    try {
      await page.fill('#spot-seconds', String(SECONDS));
      const t0 = Date.now();
      await page.click('#webcam');
      const wallS = await spotted(page, errors, t0);
      expect(await page.textContent('#webcam')).toBe('Webcam');
      const f = await checkRun(page, 'webcam', SECONDS * FPS);
      figures.webcam = { ...f, wallSeconds: wallS };
      console.log(`spot demo, webcam: ${f.frames} frames of 64x64, ${(f.processingFps as number).toFixed(2)} frames a second in the page (${wallS.toFixed(0)} s from start to done); intervals ${(f.intervals as string[]).join(', ')}; largest score difference from mimanet spot ${(f.largestScoreDifference as number).toExponential(2)}`);
    } finally {
      await page.close();
    }
  }, 600_000);

  it('stops spotting the webcam on Stop webcam and still analyses every frame it took', async () => {
    const { page, errors } = await openPage();
    try {
      await page.fill('#spot-seconds', '0');
      await page.click('#webcam');
      await page.waitForFunction(() => Number(document.getElementById('spot-panel')!.dataset.captured ?? 0) >= 45, undefined, { timeout: 120_000, polling: 200 });
      expect(await page.textContent('#webcam')).toBe('Stop webcam');
      await page.click('#webcam');
      await spotted(page, errors, Date.now());
      expect(await page.textContent('#webcam')).toBe('Webcam');
      const captured = Number(await page.getAttribute('#spot-panel', 'data-captured'));
      expect(captured).toBeGreaterThanOrEqual(45);
      expect(await page.getAttribute('#spot-panel', 'data-processed')).toBe(String(captured));
      const got = await page.evaluate(async () => {
        const spot = (window as unknown as { mimanetSpot: { frames(): string[]; timeline(): Promise<{ frames: number; score: number[] } | null> } }).mimanetSpot;
        const t = (await spot.timeline())!;
        return { frames: spot.frames().length, timelineFrames: t.frames, scores: t.score.length };
      });
      expect(got).toEqual({ frames: captured, timelineFrames: captured, scores: captured });
    } finally {
      await page.close();
    }
  }, 300_000);

  it('spots a dropped video file frame by frame as mimanet spot does on the same frames', async () => {
    const { page, errors } = await openPage();
    try {
      const t0 = Date.now();
      await page.setInputFiles('#video-file', webm);
      const wallS = await spotted(page, errors, t0);
      const f = await checkRun(page, 'clip', SECONDS * FPS);
      figures.video = { ...f, wallSeconds: wallS };
      console.log(`spot demo, video file: ${f.frames} frames of 64x64, ${(f.processingFps as number).toFixed(2)} frames a second in the page (${wallS.toFixed(0)} s from start to done); intervals ${(f.intervals as string[]).join(', ')}; largest score difference from mimanet spot ${(f.largestScoreDifference as number).toExponential(2)}`);
    } finally {
      await page.close();
    }
  }, 600_000);
});
