/**
 * The browser demo end to end: build the page, serve it with a tiny MiNet
 * checkpoint through `mimanet serve`'s server, upload clips as PNG frames in
 * headless Chromium and check the page shows what Node computes.
 *
 * Needs a Chromium on the machine (Debian: `apt-get install -y chromium`);
 * no browser is downloaded. Without one the tests are skipped with a line
 * that says so, so that `npm test` passes on a fresh machine; with
 * MIMANET_E2E_BROWSER=1 (set by .ci/run) a missing browser fails them.
 * MIMANET_CHROMIUM=PATH names another browser binary. Set MIMANET_E2E_OUT=DIR
 * to keep screenshots and a figures.json (backend, largest probability
 * difference, inference time).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { existsSync, mkdirSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TwoStreamNet } from '../../src/model/twostream.js';
import { withInitSeed } from '../../src/model/resnet.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { Predictor } from '../../src/predict/index.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import { frameBytes, resampleRun } from '../../web/src/preprocess.js';
import { formatPercent } from '../../web/src/chart.js';
import { Rng } from '../../src/util/rng.js';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { useCpu, tempDir } from '../helpers.js';

const CHROMIUM = process.env.MIMANET_CHROMIUM || '/usr/bin/chromium';
/** MIMANET_E2E_BROWSER=1: the browser is required (CI); otherwise the tests run only where it is installed. */
const REQUIRED = process.env.MIMANET_E2E_BROWSER === '1';
const ENABLED = REQUIRED || existsSync(CHROMIUM);
if (!ENABLED) {
  console.warn(`browser demo e2e skipped: no Chromium at ${CHROMIUM}; install it (apt-get install -y chromium) or set MIMANET_CHROMIUM=PATH, and MIMANET_E2E_BROWSER=1 to require it`);
}
const OUT = process.env.MIMANET_E2E_OUT;
const figures: Record<string, unknown> = {};
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const LABELS = ['negative', 'positive', 'surprise'];
const cfg = { classes: 3, size: 32, channels: 1, frames: 4, width: 2, sc: 2, K: 2 };
const NORMALIZATION = { mean: [0.45], std: [0.25] };
/** Probabilities must agree this closely between the page and Node. */
const TOL = 1e-3;

interface Clip {
  name: string;
  files: string[];
  /** Node's probabilities for it. */
  expected: number[];
}

let work: string;
/** A 2 s, 10 fps VP8 video of a moving pattern. */
let video: string;
let server: RunningServer;
let browser: Browser;
const clips: Clip[] = [];

/** Smooth shapes plus noise, moving a little from frame to frame: a stand-in for a face clip. */
async function writeFrames(dir: string, prefix: string, n: number, width: number, height: number, seed: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  const cx = width * (0.3 + 0.4 * rng.next());
  const cy = height * (0.3 + 0.4 * rng.next());
  const tint = [rng.next(), rng.next(), rng.next()];
  const files: string[] = [];
  for (let t = 0; t < n; t++) {
    const px = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const d = Math.hypot(x - cx - t, y - cy + 0.5 * t) / Math.max(width, height);
        for (let c = 0; c < 3; c++) {
          const v = 255 * (0.5 + 0.45 * Math.cos(9 * d + c + t * 0.4) * tint[c]!) + 40 * (rng.next() - 0.5);
          px[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
    const file = join(dir, `${prefix}_${String(t).padStart(3, '0')}.png`);
    await sharp(px, { raw: { width, height, channels: 3 } }).png().toFile(file);
    files.push(file);
  }
  return files;
}

/** RGBA pixels of a PNG as sharp decodes them. */
async function rgba(file: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

async function openPage(query: string): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${server.url}${query}`);
  await page.waitForFunction(() => {
    const s = document.getElementById('model-info')?.dataset.state;
    return s === 'ok' || document.getElementById('status')?.dataset.kind === 'error';
  });
  return { page, requests, errors };
}

async function showClip(page: Page, clip: Clip): Promise<{ label: string; probs: number[]; bars: Array<{ label: string; value: string }>; thumbs: number }> {
  await page.setInputFiles('#frame-files', clip.files);
  const first = clip.files[0]!.split('/').pop()!;
  await page.waitForFunction(
    (name) => {
      const r = document.getElementById('result')!;
      return (r.dataset.state === 'shown' && document.getElementById('pred-when')!.textContent!.includes(name)) || document.getElementById('status')?.dataset.kind === 'error';
    },
    first,
    { timeout: 60_000 },
  );
  return page.evaluate(() => {
    const r = document.getElementById('result')!;
    const status = document.getElementById('status')!;
    if (status.dataset.kind === 'error') throw new Error(`page error: ${status.textContent}`);
    return {
      label: document.getElementById('pred-label')!.textContent!,
      probs: JSON.parse(r.dataset.probs!) as number[],
      bars: [...document.querySelectorAll<HTMLElement>('.bar-row')].map((b) => ({ label: b.dataset.label!, value: b.querySelector('.bar-value')!.textContent! })),
      thumbs: document.querySelectorAll('#thumbs canvas').length,
    };
  });
}

beforeAll(async () => {
  if (!ENABLED) return;
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found and MIMANET_E2E_BROWSER=1 requires it: the browser demo's end-to-end test drives a system Chromium; install it with \`apt-get install -y chromium\``);
  }
  await useCpu();
  work = tempDir('e2e');

  // the page as it is now, not whatever web/dist holds
  const dist = join(work, 'dist');
  await build({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: 'error', build: { outDir: dist, emptyOutDir: true } });

  const net = withInitSeed(11, () => new TwoStreamNet(cfg, 'MiNet'));
  // the random C_e saturates the softmax (p = 1, 0, 0 matches anything to 1e-3); a smaller one leaves every class in play
  const [kernel] = net.classifier.getWeights();
  net.classifier.setWeights([tf.mul(kernel!, 0.1), tf.tensor1d([0.1, -0.2, 0.05])]);
  const ckpt = join(work, 'ckpt');
  await saveCheckpoint(net, ckpt, {
    labels: LABELS,
    temporal: 'intervals',
    normalization: NORMALIZATION,
    provenance: { preprocessing: { align: 'none', resample: 'linear' } },
  });
  net.dispose();

  const predictor = await Predictor.load(ckpt);
  try {
    // frames at the model's size: Node's answer is `mimanet predict`'s own (sharp decoding, resize and grey)
    const a = await writeFrames(join(work, 'clip-a'), 'a', 6, 32, 32, 1);
    const ra = await predictor.predict(join(work, 'clip-a'), { onset: 0, apex: a.length - 1, align: 'none' });
    clips.push({ name: 'model-size frames', files: a, expected: ra.probs });
    // frames of another size: the page resizes them with web/src/preprocess.ts, so Node runs that same code on sharp's decoding
    const b = await writeFrames(join(work, 'clip-b'), 'b', 5, 48, 40, 2);
    const decoded = await Promise.all(b.map(rgba));
    const bytes = resampleRun(decoded.length, (i) => frameBytes(decoded[i]!, cfg.size, 1), cfg.frames);
    clips.push({ name: 'resized frames', files: b, expected: await predictor.scoreFrames(bytes) });
  } finally {
    predictor.dispose();
  }

  const vframes = await writeFrames(join(work, 'video'), 'v', 20, 48, 40, 3);
  video = join(work, 'clip.webm');
  const ffmpeg = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  execFileSync(ffmpeg, ['-v', 'error', '-framerate', '10', '-i', join(dirname(vframes[0]!), 'v_%03d.png'), '-c:v', 'libvpx', '-b:v', '2M', '-pix_fmt', 'yuv420p', video]);

  server = await startServer({ port: 0, model: ckpt, webRoot: dist });
  // Chromium's built-in fake camera (a test pattern) stands in for a webcam
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
}, 600_000);

afterAll(async () => {
  if (OUT && ENABLED) writeFileSync(join(OUT, 'figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
  await browser?.close();
  await server?.close();
});

describe.skipIf(!ENABLED)('browser demo', () => {
  it('Node expects probabilities that make the comparison bite: none near 0 or 1, a clear winner', () => {
    for (const c of clips) {
      const sorted = [...c.expected].sort((x, y) => y - x);
      expect(sorted[0]! - sorted[1]!, c.name).toBeGreaterThan(20 * TOL);
      expect(sorted[0]!, c.name).toBeLessThan(0.95);
      expect(sorted[sorted.length - 1]!, c.name).toBeGreaterThan(0.02);
      expect(c.expected.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
    }
  });

  for (const backend of ['', 'wasm', 'cpu']) {
    it(`shows Node's label and probabilities for uploaded frames (backend ${backend || 'auto'})`, async () => {
      const { page, requests, errors } = await openPage(backend ? `?backend=${backend}` : '');
      try {
        const info = await page.textContent('#model-info');
        expect(info).toMatch(/Loaded .*model\/: 3 classes \(negative, positive, surprise\) · input T=4 × 32×32×1 · temporal intervals/);
        const used = (await page.textContent('#backend'))!.trim();
        if (backend) expect(used).toBe(backend);
        else expect(['webgl', 'wasm']).toContain(used);
        for (const clip of clips) {
          const shown = await showClip(page, clip);
          const best = clip.expected.indexOf(Math.max(...clip.expected));
          expect(shown.label, `${clip.name} on ${used}`).toBe(LABELS[best]);
          expect(shown.probs).toHaveLength(LABELS.length);
          shown.probs.forEach((p, i) => expect(Math.abs(p - clip.expected[i]!), `${clip.name}, ${LABELS[i]} on ${used}: page ${p}, node ${clip.expected[i]}`).toBeLessThan(TOL));
          expect(shown.bars.map((b) => b.label)).toEqual(LABELS);
          // shown percentages: Node's, up to the last printed digit
          shown.bars.forEach((b, i) => expect(Math.abs(parseFloat(b.value) - parseFloat(formatPercent(clip.expected[i]!)))).toBeLessThanOrEqual(0.1 + 1e-9));
          expect(shown.thumbs).toBe(cfg.frames);
        }
        if (OUT) {
          let worst = 0;
          for (const c of clips) worst = Math.max(worst, ...(await showClip(page, c)).probs.map((p, i) => Math.abs(p - c.expected[i]!)));
          figures[backend || 'auto'] = { used, maxAbsDiff: worst, inferenceMs: Number(await page.getAttribute('#timing', 'data-inference-ms')), modelInfo: await page.textContent('#model-info') };
        }
        const timing = await page.textContent('#timing');
        expect(timing).toMatch(new RegExp(`inference [\\d.]+ ms \\(one clip\\) · preprocessing [\\d.]+ ms · backend ${used}`));
        if (OUT) {
          mkdirSync(OUT, { recursive: true });
          await page.screenshot({ path: join(OUT, `demo-${backend || 'auto'}.png`), fullPage: true });
        }
        // everything, the wasm binaries included, came from the local server
        expect(requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    }, 180_000);
  }

  it('says so when a clip has one frame only', async () => {
    const { page } = await openPage('?backend=cpu');
    try {
      await page.setInputFiles('#frame-files', clips[0]!.files.slice(0, 1));
      await page.waitForFunction(() => document.getElementById('status')?.dataset.kind === 'error');
      expect(await page.textContent('#status')).toBe('a_000.png: one frame is not a clip; give at least 2 (onset … apex)');
      expect(await page.getAttribute('#result', 'data-state')).toBe('empty');
    } finally {
      await page.close();
    }
  });

  it('runs a sliding window over a video and charts every window', async () => {
    const { page, errors } = await openPage('?backend=wasm');
    try {
      await page.fill('#fps', '10');
      await page.fill('#window', '4');
      await page.fill('#step', '2');
      await page.setInputFiles('#video-file', video);
      await page.waitForFunction(() => /windows of|error/.test(document.getElementById('status')!.textContent ?? '') || document.getElementById('status')?.dataset.kind === 'error', undefined, { timeout: 120_000 });
      const status = (await page.textContent('#status'))!;
      expect(status).toMatch(/clip\.webm: \d+ windows of 4 frames at 10 fps/);
      const duration = await page.evaluate(() => (document.getElementById('player') as HTMLVideoElement).duration);
      const n = Math.floor(duration * 10);
      expect(n).toBeGreaterThanOrEqual(19);
      const windows = Math.floor((n - 4) / 2) + 1;
      expect(status).toContain(`${windows} windows`);
      expect(await page.getAttribute('svg.timeline', 'data-points')).toBe(String(windows));
      expect(await page.locator('svg.timeline path.series').count()).toBe(LABELS.length);
      // the newest window is shown; clicking the chart's left edge picks the first one (apex = frame 3, 0.3 s)
      expect(await page.getAttribute('svg.timeline', 'data-selected')).toBe(String(windows - 1));
      const box = (await page.locator('svg.timeline').boundingBox())!;
      await page.mouse.click(box.x + box.width * 0.06, box.y + box.height / 2);
      expect(await page.getAttribute('svg.timeline', 'data-selected')).toBe('0');
      expect(await page.textContent('#pred-when')).toBe('window ending at 0.30 s');
      const probs = JSON.parse((await page.getAttribute('#result', 'data-probs'))!) as number[];
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(LABELS).toContain(await page.textContent('#pred-label'));
      expect(await page.locator('#thumbs canvas').count()).toBe(cfg.frames);
      expect(await page.textContent('#timing')).toMatch(new RegExp(`inference [\\d.]+ ms \\(median of ${windows} windows\\)`));
      if (OUT) await page.screenshot({ path: join(OUT, 'demo-video.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 180_000);

  it('predicts live from the webcam on the centre square, and stops', async () => {
    const { page, errors } = await openPage('?backend=wasm');
    try {
      await page.fill('#window', '4');
      await page.fill('#step', '1');
      await page.click('#webcam');
      await page.waitForFunction(() => Number(document.querySelector('svg.timeline')?.getAttribute('data-points') ?? 0) >= 3 || document.getElementById('status')?.dataset.kind === 'error', undefined, { timeout: 60_000 });
      expect(await page.getAttribute('#status', 'data-kind')).not.toBe('error');
      expect(await page.textContent('#webcam')).toBe('Stop webcam');
      expect(await page.isVisible('#guide')).toBe(true);
      expect(await page.textContent('#pred-when')).toMatch(/^live, [\d.]+ s$/);
      expect(LABELS).toContain(await page.textContent('#pred-label'));
      expect(await page.locator('#thumbs canvas').count()).toBe(cfg.frames);
      if (OUT) await page.screenshot({ path: join(OUT, 'demo-webcam.png'), fullPage: true });
      await page.click('#webcam');
      expect(await page.textContent('#webcam')).toBe('Webcam');
      expect(await page.textContent('#status')).toBe('Webcam off.');
      expect(await page.evaluate(() => (document.getElementById('player') as HTMLVideoElement).srcObject)).toBeNull();
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 120_000);

  it('serves the wasm binaries and the checkpoint, and nothing outside them', async () => {
    const dist = join(work, 'dist');
    expect(readdirSync(join(dist, 'wasm')).sort()).toEqual(['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm.wasm']);
    const wasm = await fetch(`${server.url}wasm/tfjs-backend-wasm-simd.wasm`);
    expect(wasm.status).toBe(200);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(Number(wasm.headers.get('content-length'))).toBe(statSync(join(dist, 'wasm', 'tfjs-backend-wasm-simd.wasm')).size);
    expect((await fetch(`${server.url}model/mimanet.json`).then((r) => r.json())).labels).toEqual(LABELS);
    expect((await fetch(`${server.url}model/../../etc/passwd`)).status).toBe(404);
    expect((await fetch(`${server.url}model/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
    expect((await fetch(`${server.url}nope.js`)).status).toBe(404);
  });
});
