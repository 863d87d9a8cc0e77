/**
 * The README's promise that results do not depend on the number of fold
 * workers, tested end to end: a small run gives byte-identical predictions.csv
 * with one worker and with two, on every kernel set this machine has
 * (native with oneDNN convolutions, with oneDNN GEMMs only, with the built-in
 * kernels, and wasm), while CPU-burning processes and random delays before
 * each fold job (MIMANET_DEBUG_JITTER_MS) shake the schedule. The queue's
 * version (a worker with --concurrency 2) is in test/queue.test.ts.
 *
 * MIMANET_REQUIRE_ONEDNN=1 (set by .ci/run, which installs libdnnl-dev) makes
 * the oneDNN cases fail instead of skipping where the addon was built without
 * oneDNN.
 */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNativeAddon } from '../src/backend/native.js';
import { tempDir } from './helpers.js';
import { resolveConfig, type DeepPartial, type MimanetConfig } from '../src/config.js';
import { runTaskInThread } from '../src/train/workers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Each case waits for child runs to end: about half a minute alone on 2 cores, several minutes beside
// the rest of the suite and the burners. The timeout is the net for a hang, not a budget.
vi.setConfig({ testTimeout: 20 * 60_000, hookTimeout: 20 * 60_000 });
const ONEDNN_REQUIRED = process.env.MIMANET_REQUIRE_ONEDNN === '1';

/** The addon's kernels, as `simdInfo` names them; empty without the addon. */
function addonInfo(): string {
  try {
    return loadNativeAddon().simdInfo();
  } catch {
    return '';
  }
}
const info = addonInfo();
const HAS_NATIVE = info !== '';
const HAS_ONEDNN_CONV = info.includes('convolutions by oneDNN');
const HAS_ONEDNN_GEMM = info.includes('GEMMs by oneDNN');

/**
 * Small enough for a few seconds a run, large enough that both workers train
 * convolutions of the same shapes at once: 3 sources x 2 subjects (6 folds), both rows.
 */
const config = {
  preset: 'quick',
  seed: 3,
  variants: [['c'], ['c', 's', 'sam', 't', 'con']],
  data: { kind: 'synthetic', options: { micro: { sources: 3, subjectsPerSource: 2, clipsPerSubject: 6 }, macro: { subjects: 8, clipsPerSubject: 6 } } },
  pretrain: { manetEpochs: 1, minetEpochs: 1 },
  finetune: { epochs: 1 },
  embeddings: false,
  foldCheckpoints: 'none',
};

interface KernelSet {
  name: string;
  backend: 'native' | 'wasm';
  env: Record<string, string>;
  present: boolean;
  /** Kernels and identity run.json must record. */
  identity: RegExp;
}

const KERNEL_SETS: KernelSet[] = [
  { name: 'native/onednn', backend: 'native', env: {}, present: HAS_ONEDNN_CONV, identity: /^native\/onednn-t\d+$/ },
  { name: 'native/onednn-gemm', backend: 'native', env: { MIMANET_DNNL_CONV: 'off' }, present: HAS_ONEDNN_GEMM, identity: /^native\/onednn-gemm-t\d+$/ },
  { name: 'native/builtin', backend: 'native', env: { MIMANET_BLAS: 'off' }, present: HAS_NATIVE, identity: /^native\/builtin$/ },
  { name: 'wasm', backend: 'wasm', env: {}, present: true, identity: /^wasm$/ },
];

let dir: string;
const burners: ChildProcess[] = [];

/** `mimanet run` in its own process (the kernel choice is read from the environment once per process). */
function run(set: KernelSet, out: string, workers: number, env: Record<string, string> = {}, extra: Record<string, unknown> = {}): Promise<{ code: number | null; output: string }> {
  const cfgPath = join(dir, `${set.backend}-${Object.keys(extra).length > 0 ? 'extra-' : ''}${workers}.json`);
  writeFileSync(cfgPath, JSON.stringify({ ...config, backend: set.backend, ...extra }));
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(root, 'test', 'mimanet-bin.ts'), 'run', '--config', cfgPath, '--out', out, '--workers', String(workers), '--quiet'], {
      cwd: root,
      env: { ...process.env, ...set.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.on('exit', (code) => resolve({ code, output }));
  });
}

/** Processes that keep the cores busy, so that the workers' threads are preempted at random points. */
function startBurners(n: number): void {
  for (let i = 0; i < n; i++) burners.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

function stopBurners(): void {
  for (const b of burners.splice(0)) b.kill('SIGKILL');
}

beforeAll(() => {
  dir = tempDir('determinism');
  if (ONEDNN_REQUIRED && !HAS_ONEDNN_CONV) {
    throw new Error(`MIMANET_REQUIRE_ONEDNN=1, but the native addon has no oneDNN convolutions (${info || 'addon not built'}): install libdnnl-dev and rebuild (npm rebuild, or node native/build.mjs)`);
  }
});

afterAll(stopBurners);

describe('a fold worker thread', () => {
  it("whose backend differs from the run's refuses to compute, naming both", async () => {
    const cfg = resolveConfig({ ...config, backend: 'wasm', out: join(dir, 'refused') } as DeepPartial<MimanetConfig>);
    // the run says oneDNN for 7 threads; this thread gets wasm
    await expect(runTaskInThread({ cfg, seeds: [], threads: 1, backend: 'native/onednn-t7' }, { job: 0, manet: 3, record: { settings: {} } }, {}))
      .rejects.toThrow('this worker computes on wasm, and the run is made on native/onednn-t7; backends round differently, so their results are not mixed');
  });
});

describe('results do not depend on the number of fold workers', () => {
  for (const set of KERNEL_SETS) {
    it.skipIf(!set.present)(`${set.name}: --workers 2 under CPU burners and random delays gives the predictions of --workers 1, byte for byte`, async () => {
      const one = await run(set, join(dir, `${set.name.replace('/', '-')}-w1`), 1);
      expect(one.code, one.output).toBe(0);
      const reference = readFileSync(join(dir, `${set.name.replace('/', '-')}-w1`, 'predictions.csv'), 'utf8');
      const recorded = JSON.parse(readFileSync(join(dir, `${set.name.replace('/', '-')}-w1`, 'run.json'), 'utf8')) as { settings: { backend: string } };
      expect(recorded.settings.backend).toMatch(set.identity);
      startBurners(2);
      try {
        for (const attempt of [1, 2]) {
          const out = join(dir, `${set.name.replace('/', '-')}-w2-${attempt}`);
          const two = await run(set, out, 2, { MIMANET_DEBUG_JITTER_MS: '300' });
          expect(two.code, two.output).toBe(0);
          expect(readFileSync(join(out, 'predictions.csv'), 'utf8'), `${set.name}, two workers, attempt ${attempt}`).toBe(reference);
        }
      } finally {
        stopBurners();
      }
    });
  }
});

describe('the flow input does not depend on the number of fold workers', () => {
  const set = KERNEL_SETS[0];
  it.skipIf(!set.present)(`${set.name}, model.input flow: --workers 2 gives the predictions of --workers 1, byte for byte, each run computing its own flow`, async () => {
    const outs: string[] = [];
    for (const workers of [1, 2]) {
      const out = join(dir, `flow-w${workers}`);
      // a cache of its own: each run computes the flow of every clip again
      const extra = { model: { input: 'flow' }, data: { ...config.data, cacheDir: join(dir, `flow-cache-${workers}`) } };
      const r = await run(set, out, workers, {}, extra);
      expect(r.code, r.output).toBe(0);
      outs.push(readFileSync(join(out, 'predictions.csv'), 'utf8'));
    }
    expect(outs[0].split('\n').length).toBeGreaterThan(10);
    expect(outs[1]).toBe(outs[0]);
  });
});
