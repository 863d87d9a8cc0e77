/**
 * The webgpu backend (tfjs-backend-webgpu on Dawn) against the cpu backend on every step of the method,
 * at small shapes. Without a GPU it runs on SwiftShader's Vulkan driver (a CPU implementation that
 * Debian's chromium ships); where Dawn finds no adapter the file skips, unless MIMANET_REQUIRE_WEBGPU=1.
 *
 * Tolerances (float32 on a GPU sums in other orders than the cpu backend), per tensor:
 * max |webgpu - cpu| <= rtol * max |cpu|, with
 * - forward of both streams: rtol 1e-4;
 * - gradients of a guided fine-tuning step: rtol 1e-3 (batch norm over 4 clips divides by small
 *   standard deviations, which amplifies rounding);
 * - losses of MiNet pretraining and LOSO predictions: rtol 1e-3.
 * Sync reads (dataSync, arraySync, bufferSync) throw while the webgpu backend is active, so a training
 * or evaluation path that still reads synchronously fails here.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, type BackendInfo } from '../src/backend/index.js';
import { TwoStreamNet } from '../src/model/twostream.js';
import { withInitSeed } from '../src/model/resnet.js';
import { GuidedStep, type FinetuneBatch } from '../src/train/finetune.js';
import { pretrainClassifier, predictClips } from '../src/train/pretrain.js';
import { FlatAdam } from '../src/train/optimizer.js';
import { makeBatch } from '../src/data/batches.js';
import { GUIDED_STEP_OPTIONS, randomClipSet, randn, runCli, tempDir, tinyConfig } from './helpers.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;

let gpu: BackendInfo | undefined;
let why = '';
try {
  gpu = await initBackend('webgpu');
} catch (e) {
  why = (e as Error).message;
}
if (!gpu && process.env.MIMANET_REQUIRE_WEBGPU === '1') throw new Error(`MIMANET_REQUIRE_WEBGPU=1 and ${why}`);
if (!gpu) console.log(`webgpu tests skipped: ${why}`);

type Read = 'dataSync' | 'arraySync' | 'bufferSync';
const SYNC_READS: Read[] = ['dataSync', 'arraySync', 'bufferSync'];
const proto = tf.Tensor.prototype as unknown as Record<Read, (...a: unknown[]) => unknown>;
const originals = Object.fromEntries(SYNC_READS.map((k) => [k, proto[k]])) as Record<Read, (...a: unknown[]) => unknown>;

beforeAll(() => {
  for (const k of SYNC_READS) {
    proto[k] = function (this: tf.Tensor, ...a: unknown[]) {
      if (tf.getBackend() === 'webgpu') throw new Error(`${k}() while the webgpu backend is active: read with await data()/array()`);
      return originals[k].apply(this, a);
    };
  }
});
afterAll(async () => {
  for (const k of SYNC_READS) proto[k] = originals[k];
  await initBackend('cpu');
});

/** Runs `fn` on `backend` and returns what it read. */
async function on<T>(backend: 'cpu' | 'webgpu', fn: () => Promise<T>): Promise<T> {
  await initBackend(backend);
  return fn();
}

async function read(ts: tf.Tensor[]): Promise<Float32Array[]> {
  return Promise.all(ts.map(async (t) => Float32Array.from(await t.data())));
}

/** max |a - b| / max |b| of one tensor. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 0, err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  expect(scale, 'reference is all zero').toBeGreaterThan(0);
  return err / scale;
}

function expectAllClose(got: ArrayLike<number>[], want: ArrayLike<number>[], rtol: number, label: string): number {
  expect(got.length, label).toBe(want.length);
  let worst = 0;
  got.forEach((g, i) => {
    const e = relErr(g, want[i]);
    worst = Math.max(worst, e);
    expect(e, `${label} #${i}`).toBeLessThanOrEqual(rtol);
  });
  return worst;
}

const T = 4;
const cfg = { classes: 3, size: 32, channels: 1, frames: T, width: 2, sc: 2, K: 2 };
const micro = randomClipSet({ name: 'mi', clips: 8, classes: 3, subjects: 4, T, size: 32 });
const macro = randomClipSet({ name: 'ma', clips: 8, classes: 7, subjects: 4, T, size: 32, seed: 2 });

describe.skipIf(!gpu)('webgpu backend on Dawn', () => {
  it('reports its adapter, and sync reads are refused while it is active', async () => {
    expect(gpu!.name).toBe('webgpu');
    expect(gpu!.adapter?.vendor).toBeTruthy();
    expect(gpu!.adapter?.description).toBeTruthy();
    expect(gpu!.kernels).toBe(`${gpu!.adapter!.vendor}-${gpu!.adapter!.architecture}`.toLowerCase());
    await initBackend('webgpu');
    const t = tf.tensor1d([1, 2, 3]);
    expect(() => t.dataSync()).toThrow(/webgpu backend is active/);
    expect(Array.from(await t.data())).toEqual([1, 2, 3]);
    t.dispose();
  });

  it('forward of both streams (training and evaluation mode) matches the cpu backend within rtol 1e-4', async () => {
    const forward = async (): Promise<Float32Array[]> => {
      const net = withInitSeed(3, () => new TwoStreamNet(cfg, 'MiNet'));
      const b = makeBatch(micro, [0, 1, 2, 3]);
      const weights = await read(net.weights.map((w) => w.read()));
      const outs: tf.Tensor[] = [];
      for (const training of [true, false]) {
        const r = net.forward(b.apex, b.frames, { training, temporal: 'intervals', ...(training ? { starts: [1, 0] } : {}) });
        outs.push(r.apexMap, r.frameFeatures, r.v, r.z, r.logits);
        tf.dispose([r.fA, ...r.vs]);
      }
      const values = await read(outs);
      tf.dispose([...outs, b.apex, b.frames]);
      net.dispose();
      return [...weights, ...values];
    };
    const cpu = await on('cpu', forward);
    const before = tf.memory().numTensors;
    const webgpu = await on('webgpu', forward);
    expect(tf.memory().numTensors).toBe(before);
    const nWeights = cpu.length - 10;
    // the same initial weights on both (drawn in JavaScript from the seed)
    expect(webgpu.slice(0, nWeights)).toEqual(cpu.slice(0, nWeights));
    const worst = expectAllClose(webgpu.slice(nWeights), cpu.slice(nWeights), 1e-4, 'forward');
    console.log(`forward: worst relative error ${worst.toExponential(2)}`);
  }, 300_000);

  it('gradients of a guided fine-tuning step with all five losses (GRL included) match the cpu backend within rtol 1e-3', async () => {
    const opts = { ...GUIDED_STEP_OPTIONS, losses: ['c', 's', 'sam', 't', 'con'] as ('c' | 's' | 'sam' | 't' | 'con')[] };
    const gradients = async (): Promise<{ terms: Record<string, number>; grads: Float32Array[]; names: string[] }> => {
      const minet = withInitSeed(1, () => new TwoStreamNet(cfg, 'MiNet'));
      const manet = withInitSeed(2, () => new TwoStreamNet({ ...cfg, classes: 7 }, 'MaNet'));
      const step = new GuidedStep(minet, manet, opts);
      const batch: FinetuneBatch = { micro: makeBatch(micro, [0, 1, 2, 3]), macro: makeBatch(macro, [0, 1, 2, 3]), starts: [1, 0], lambda: 0.5 };
      const heads = [step.heads.Ds!, step.heads.Dt!, step.heads.Cs!].flatMap((h) => h.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
      const vars = [...minet.trainableVariables, ...heads];
      const teacher = step.teacher(batch);
      const kept: Record<string, tf.Scalar> = {};
      const { value, grads } = tf.variableGrads(() => {
        const { terms, total } = step.objective(batch, teacher);
        for (const [k, t] of Object.entries(terms)) kept[k] = tf.keep(t.clone());
        return total;
      }, vars);
      const list = vars.map((v) => grads[v.name]);
      const out = { terms: {} as Record<string, number>, grads: await read(list), names: vars.map((v) => v.name) };
      for (const [k, t] of Object.entries(kept)) out.terms[k] = (await t.data())[0];
      out.terms.total = (await value.data())[0];
      tf.dispose([value, ...Object.values(grads), ...Object.values(kept), batch.micro.apex, batch.micro.frames, batch.macro.apex, batch.macro.frames]);
      for (const t of [teacher.apexMap, teacher.fA, teacher.frameFeatures, teacher.v, teacher.z, teacher.logits, ...teacher.vs]) t.dispose();
      step.dispose();
      minet.dispose();
      manet.dispose();
      return out;
    };
    const cpu = await on('cpu', gradients);
    const webgpu = await on('webgpu', gradients);
    expect(Object.keys(webgpu.terms).sort()).toEqual(['c', 'con', 's', 'sam', 't', 'total']);
    for (const [k, v] of Object.entries(cpu.terms)) expect(Math.abs(webgpu.terms[k] - v) / Math.abs(v), `L_${k}`).toBeLessThanOrEqual(1e-4);
    // every head and both streams get a gradient
    expect(cpu.names.some((n) => n.startsWith('spatial'))).toBe(true);
    expect(cpu.names.some((n) => n.startsWith('temporal'))).toBe(true);
    const worst = expectAllClose(webgpu.grads, cpu.grads, 1e-3, 'gradient');
    console.log(`guided step: ${cpu.grads.length} gradients, worst relative error ${worst.toExponential(2)}`);
  }, 300_000);

  it('Adam on the device takes the steps of the JavaScript Adam (rtol 1e-5), with a flat tensor count', async () => {
    const shapes = [[3, 4], [5], [2, 2, 3]];
    const steps = 3;
    const run = async (): Promise<Float32Array[]> => {
      const vars = shapes.map((s, i) => tf.variable(tf.tensor(randn(s.reduce((a, b) => a * b, 1), i + 1), s)));
      const adam = new FlatAdam(vars, { lr: 0.05 });
      let count = 0;
      for (let t = 0; t < steps; t++) {
        const grads = shapes.map((s, i) => tf.tensor(randn(s.reduce((a, b) => a * b, 1), 100 * t + i), s));
        adam.apply(grads);
        tf.dispose(grads);
        if (t === 0) count = tf.memory().numTensors;
        else expect(tf.memory().numTensors).toBe(count);
      }
      const out = await read(vars);
      adam.dispose();
      tf.dispose(vars);
      return out;
    };
    const cpu = await on('cpu', run);
    const webgpu = await on('webgpu', run);
    expectAllClose(webgpu, cpu, 1e-5, 'weights after Adam');
  });

  it('MiNet pretraining: the loss of every step matches the cpu backend within rtol 1e-3', async () => {
    const pretrain = async (): Promise<number[]> => {
      const net = withInitSeed(4, () => new TwoStreamNet(cfg, 'MiNet'));
      const losses: number[] = [];
      await pretrainClassifier(net, micro, [0, 1, 2, 3, 4, 5, 6, 7], {
        epochs: 1, lr: 1e-3, batchSize: 4, seed: 1, flip: true, where: 'test', onStep: (s) => losses.push(s.losses.c),
      });
      net.dispose();
      return losses;
    };
    const cpu = await on('cpu', pretrain);
    const before = tf.memory().numTensors;
    const webgpu = await on('webgpu', pretrain);
    expect(tf.memory().numTensors).toBe(before);
    expect(webgpu).toHaveLength(2);
    webgpu.forEach((l, i) => expect(Math.abs(l - cpu[i]) / cpu[i], `step ${i + 1}`).toBeLessThanOrEqual(1e-3));
  }, 300_000);

  it('LOSO evaluation: class probabilities of held-out clips match the cpu backend within rtol 1e-3', async () => {
    const evaluate = async (): Promise<number[][]> => {
      const net = withInitSeed(6, () => new TwoStreamNet(cfg, 'MiNet'));
      const p = await predictClips(net, micro, [1, 5], 'intervals');
      net.dispose();
      return p.map((x) => x.probs);
    };
    const cpu = await on('cpu', evaluate);
    const webgpu = await on('webgpu', evaluate);
    expectAllClose(webgpu, cpu, 1e-3, 'probabilities');
  });

  it('`mimanet run --backend webgpu` finishes a tiny config, and run.json names the adapter', async () => {
    const dir = tempDir('webgpu');
    const configPath = join(dir, 'config.json');
    // two folds, every batch of 4 clips as above: SwiftShader compiles the kernels of each new shape, seconds each
    writeFileSync(configPath, JSON.stringify({
      ...tinyConfig,
      variants: [['c', 's', 'sam', 't', 'con']],
      data: { kind: 'synthetic', options: { micro: { sources: 1, subjectsPerSource: 2, clipsPerSubject: 4, classShares: [1, 1, 1] }, macro: { subjects: 2, clipsPerSubject: 2 } } },
      pretrain: { manetEpochs: 1, minetEpochs: 1, batchSize: 4 },
    }));
    const out = join(dir, 'run');
    const r = await runCli(['run', '--config', configPath, '--out', out, '--backend', 'webgpu', '--workers', '2']);
    expect(r.err).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/--workers 2: using 1 on the GPU backend webgpu/);
    expect(r.out).toMatch(/L_c \+ L_s \+ L_sam \+ L_t \+ L_con\s+\d\.\d{3}/);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.backend.name).toBe('webgpu');
    expect(run.backend.adapter).toEqual(gpu!.adapter);
    expect(run.settings.backend).toBe(`webgpu/${gpu!.kernels}`);
    expect(readFileSync(join(out, 'predictions.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 8);
  }, 600_000);
});
