/**
 * The browser demo with a checkpoint trained on the flow input (`model.input: flow`): the page
 * computes each clip's TV-L1 flow with the TypeScript implementation and must show the
 * probabilities `mimanet predict` (native flow in Node) gives for the same frames. Chromium as in
 * demo.e2e.test.ts: skipped with a line where it is missing, required with MIMANET_E2E_BROWSER=1.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { chromium, type Browser } from 'playwright-core';
import { TwoStreamNet } from '../../src/model/twostream.js';
import { withInitSeed } from '../../src/model/resnet.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { Predictor } from '../../src/predict/index.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import { flowRecipe } from '../../src/motion/clip-flow.js';
import { normalizationFor } from '../../src/data/batches.js';
import { knownMotionPair } from '../../src/motion/pairs.js';
import { useCpu, tempDir } from '../helpers.js';

const CHROMIUM = process.env.MIMANET_CHROMIUM || '/usr/bin/chromium';
const REQUIRED = process.env.MIMANET_E2E_BROWSER === '1';
const ENABLED = REQUIRED || existsSync(CHROMIUM);
if (!ENABLED) console.warn(`flow demo e2e skipped: no Chromium at ${CHROMIUM}; install it (apt-get install -y chromium) or set MIMANET_CHROMIUM=PATH, and MIMANET_E2E_BROWSER=1 to require it`);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LABELS = ['negative', 'positive', 'surprise'];
const cfg = { classes: 3, size: 32, channels: 3, frames: 4, width: 2, sc: 2, K: 2 };
const TOL = 1e-3;

let server: RunningServer;
let browser: Browser;
let files: string[] = [];
let expected: number[] = [];

beforeAll(async () => {
  if (!ENABLED) return;
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found and MIMANET_E2E_BROWSER=1 requires it; install it with \`apt-get install -y chromium\``);
  await useCpu();
  const work = tempDir('e2e-flow');
  const dist = join(work, 'dist');
  await build({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: 'error', build: { outDir: dist, emptyOutDir: true } });

  const net = withInitSeed(5, () => new TwoStreamNet(cfg, 'MiNet'));
  const [kernel] = net.classifier.getWeights();
  net.classifier.setWeights([tf.mul(kernel!, 0.3), tf.tensor1d([0.1, -0.2, 0.05])]);
  const ckpt = join(work, 'ckpt');
  await saveCheckpoint(net, ckpt, {
    labels: LABELS,
    temporal: 'intervals',
    normalization: normalizationFor('scratch', 1, 'flow', { motionScale: 0.1, strainScale: 0.03 }),
    preprocessing: { align: 'none', resample: 'linear', flow: flowRecipe(1) },
  });
  net.dispose();

  // grey frames of a moving texture at the model's size: a zoom growing frame by frame
  mkdirSync(join(work, 'clip'), { recursive: true });
  for (let t = 0; t < 5; t++) {
    const p = knownMotionPair({ kind: 'zoom', factor: 1 + 0.01 * t }, 3, 32, 32);
    const file = join(work, 'clip', `f_${t}.png`);
    await sharp(p.i1, { raw: { width: 32, height: 32, channels: 1 } }).png().toFile(file);
    files.push(file);
  }
  const predictor = await Predictor.load(ckpt);
  try {
    expected = (await predictor.predict(join(work, 'clip'), { onset: 0, apex: 4 })).probs;
  } finally {
    predictor.dispose();
  }
  server = await startServer({ port: 0, model: ckpt, webRoot: dist });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.skipIf(!ENABLED)('browser demo with a flow checkpoint', () => {
  it('Node\'s answer leaves room to tell a wrong input: no probability near 0 or 1', () => {
    const sorted = [...expected].sort((a, b) => b - a);
    expect(sorted[0]! - sorted[1]!).toBeGreaterThan(5 * TOL);
    expect(sorted[0]!).toBeLessThan(0.95);
  });

  for (const backend of ['wasm', 'cpu']) {
    it(`computes the flow in the page and shows mimanet predict's probabilities (backend ${backend})`, async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      try {
        await page.goto(`${server.url}?backend=${backend}`);
        await page.waitForFunction(() => document.getElementById('model-info')?.dataset.state === 'ok' || document.getElementById('status')?.dataset.kind === 'error');
        expect(await page.textContent('#model-info')).toContain('input T=4 × 32×32×1 frames → TV-L1 flow (u, v, strain)');
        await page.setInputFiles('#frame-files', files);
        await page.waitForFunction(() => document.getElementById('result')!.dataset.state === 'shown' || document.getElementById('status')?.dataset.kind === 'error', undefined, { timeout: 120_000 });
        const probs = JSON.parse((await page.getAttribute('#result', 'data-probs'))!) as number[];
        probs.forEach((p, i) => expect(Math.abs(p - expected[i]!), `${LABELS[i]}: page ${p}, node ${expected[i]}`).toBeLessThan(TOL));
        expect(Number(await page.getAttribute('#timing', 'data-flow-ms'))).toBeGreaterThan(0);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    }, 180_000);
  }
});
