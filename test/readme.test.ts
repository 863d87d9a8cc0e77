/**
 * The README's Library example, run as it stands in README.md: the code block
 * is taken from the file, written to a folder where `mimanet` resolves to this
 * package (as after `npm install mimanet`), and run with node against a
 * checkpoint and clips laid out as the "Deploying a model" commands make them.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/backend/index.js';
import { MICRO_LABELS } from '../src/data/synthetic/config.js';
import { Predictor } from '../src/predict/index.js';
import { runCli, tempDir } from './helpers.js';
import { saveTinyCheckpoint } from './tiny-checkpoint.js';

const root = join(import.meta.dirname, '..');

/** The first ```js block after the heading `## NAME` of README.md. */
function readmeBlock(name: string): string {
  const text = readFileSync(join(root, 'README.md'), 'utf8');
  const at = text.indexOf(`\n## ${name}\n`);
  expect(at, `README.md has no section "${name}"`).toBeGreaterThan(0);
  const m = /```js\n([\s\S]*?)```/.exec(text.slice(at));
  expect(m, `no js block in the README's "${name}" section`).not.toBeNull();
  return m![1];
}

function runNode(file: string, cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [file], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

const dir = tempDir('readme');

beforeAll(async () => {
  // a checkpoint of the quick preset's shape where `mimanet train --out models/quick` writes one (training is not what is tested here)
  await initBackend('wasm');
  await saveTinyCheckpoint(join(dir, 'models', 'quick'), { frames: 8, labels: MICRO_LABELS, seed: 2 });
  const r = await runCli(['data', 'synthetic', '--out', join(dir, 'clips'), '--count', '3', '--set', 'micro']);
  expect(r.code, r.err).toBe(0);
  // `mimanet` resolves to this package, as in a project that installed it
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'mimanet'));
});

describe('README: Library', () => {
  it('the example runs as written: one line a clip, what predict gives, on the backend initBackend chose', async () => {
    expect(existsSync(join(root, 'dist', 'index.js')), 'dist/index.js is missing: `npm test` builds it (npm run build)').toBe(true);
    const code = readmeBlock('Library');
    expect(code).toMatch(/initBackend\(\)/);
    writeFileSync(join(dir, 'score.mjs'), code);
    const r = await runNode('score.mjs', dir);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/tfjs-node/);
    const lines = r.out.trimEnd().split('\n');
    const clips = ['clips/micro/synth-smic__s01_e01', 'clips/micro/synth-casme2__s01_e01'];
    expect(lines).toHaveLength(clips.length + 1);
    const p = await Predictor.load(join(dir, 'models', 'quick'));
    try {
      for (const [k, clip] of clips.entries()) {
        const want = await p.predict(join(dir, clip));
        expect(lines[k]).toBe(`${clip}: ${want.label} (${want.labels.map((l, i) => `${l} ${want.probs[i].toFixed(3)}`).join(', ')})`);
      }
    } finally {
      p.dispose();
    }
    expect(lines[clips.length]).toMatch(/^backend: (tensorflow|native|wasm|cpu)$/);
  });
});
