import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, type DeepPartial, type MimanetConfig } from '../src/config.js';
import { trainAll, trainingDir } from '../src/train/train-all.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { loadExperimentData } from '../src/data/load.js';
import { makeBatch } from '../src/data/batches.js';
import { runCli, tempDir } from './helpers.js';
import { initBackend } from '../src/backend/index.js';
import { encodeSafetensors, floats, randomResNet18 } from './safetensors-writer.js';

// wasm: the same kernels as `mimanet run` in the CLI tests, and faster than cpu
beforeAll(async () => {
  await initBackend('wasm');
});

const tiny: DeepPartial<MimanetConfig> = {
  preset: 'quick',
  backend: 'wasm',
  data: { kind: 'synthetic', options: { micro: { sources: 2, subjectsPerSource: 2, clipsPerSubject: 4 }, macro: { subjects: 4, clipsPerSubject: 4 } } },
  model: { size: 32, frames: 4, width: 2, sc: 2, K: 2, headWidths: [4, 4, 4] },
  pretrain: { manetEpochs: 1, minetEpochs: 1, batchSize: 8 },
  finetune: { epochs: 1, n: 4 },
};

const root = tempDir('train');

function weightByName(model: tf.LayersModel, name: string): tf.Tensor {
  const w = model.weights.find((x) => x.originalName === name || x.name === name);
  if (!w) throw new Error(`no weight ${name} among ${model.weights.map((x) => x.originalName).slice(0, 5).join(', ')}, ...`);
  return w.read();
}

describe('trainAll (train on every micro subject, write a checkpoint)', () => {
  it('writes a checkpoint that scores the training clips as the trained net did; a rerun resumes and reproduces it', async () => {
    const cfg = resolveConfig({ ...tiny, out: join(root, 'model') } as DeepPartial<MimanetConfig>);
    const r = await trainAll(cfg, { losses: ['c', 's', 'sam', 't', 'con'] });
    for (const f of ['model.json', 'weights.bin', 'mimanet.json', 'config.json', 'labels.txt']) expect(existsSync(join(cfg.out, f))).toBe(true);
    expect(readFileSync(join(cfg.out, 'labels.txt'), 'utf8')).toBe('negative\npositive\nsurprise\n');
    expect(JSON.parse(readFileSync(join(cfg.out, 'config.json'), 'utf8')).model.width).toBe(2);
    expect(r.curves).toHaveLength(1);
    expect(r.curves[0].epoch).toBe(1);
    for (const k of ['c', 's', 'sam', 't', 'con', 'total']) expect(Number.isFinite(r.curves[0][k])).toBe(true);
    expect(r.pretrainCurve).toHaveLength(1);

    const { model, meta } = await loadCheckpoint(cfg.out);
    expect(meta.temporal).toBe('intervals');
    expect(meta.labels).toEqual(['negative', 'positive', 'surprise']);
    const prov = meta.provenance as Record<string, unknown>;
    expect(meta.preprocessing).toEqual({ align: 'none', resample: 'linear' });
    expect(prov.losses).toEqual(['c', 's', 'sam', 't', 'con']);
    expect((prov.data as { microSubjects: number }).microSubjects).toBe(4);
    // the saved graph's argmax on all 16 training clips gives the accuracy measured on the net in memory
    const data = await loadExperimentData(cfg);
    const batch = makeBatch(data.micro, data.micro.clips.map((_, i) => i));
    const probs = (model.predict([batch.apex, batch.frames]) as tf.Tensor).arraySync() as number[][];
    tf.dispose([batch.apex, batch.frames]);
    const acc = probs.filter((p, i) => p.indexOf(Math.max(...p)) === data.micro.clips[i].label).length / probs.length;
    expect(acc).toBe(r.trainAccuracy);
    model.dispose();

    const weights = readFileSync(join(cfg.out, 'weights.bin'));
    const again = await trainAll(cfg, { losses: ['c', 's', 'sam', 't', 'con'] });
    expect(again.pretrainCurve).toEqual(r.pretrainCurve); // read back from OUT/training
    expect(again.curves).toEqual(r.curves);
    expect(readFileSync(join(cfg.out, 'weights.bin')).equals(weights)).toBe(true);
  });

  it('--init imagenet:FILE starts MiNet and MaNet from the file (checked with zero epochs: the checkpoint keeps the file\'s conv1)', async () => {
    const sd = randomResNet18(2, 3, 21);
    const file = join(root, 'r18-w2.safetensors');
    writeFileSync(file, encodeSafetensors(sd));
    const cfg = resolveConfig({ ...tiny, out: join(root, 'init'), pretrain: { manetEpochs: 0, minetEpochs: 0, batchSize: 8 }, finetune: { epochs: 0, n: 4 } } as DeepPartial<MimanetConfig>);
    const r = await trainAll(cfg, { init: `imagenet:${file}` });
    expect((r.meta.provenance as { init: string }).init).toBe(`imagenet:${file}`);
    const { model } = await loadCheckpoint(cfg.out);
    const w = floats(sd['conv1.weight']); // [2, 3, 7, 7] -> HWIO [7, 7, 1, 2], RGB summed
    const expected = new Float32Array(7 * 7 * 2);
    for (let o = 0; o < 2; o++) for (let c = 0; c < 3; c++) for (let y = 0; y < 7; y++) for (let x = 0; x < 7; x++) expected[(y * 7 + x) * 2 + o] += w[((o * 3 + c) * 7 + y) * 7 + x];
    for (const stream of ['spatial', 'temporal']) {
      expect(Array.from(weightByName(model, `${stream}_conv1/kernel`).dataSync())).toEqual(Array.from(expected));
      expect(Array.from(weightByName(model, `${stream}_layer3_1_bn2/moving_variance`).dataSync())).toEqual(Array.from(floats(sd['layer3.1.bn2.running_var'])));
    }
    model.dispose();
    // the rerun refuses to mix weights started from another initialisation
    await expect(trainAll(cfg)).rejects.toThrow(/holds weights trained from init "imagenet:.*r18-w2.safetensors", now null/);
    expect(existsSync(join(trainingDir(cfg.out), 'seed-1', 'manet.json'))).toBe(true);
  });

  it('bad input: a loss set without c, an init file of the wrong width, a malformed init spec', async () => {
    const cfg = resolveConfig({ ...tiny, out: join(root, 'bad') } as DeepPartial<MimanetConfig>);
    await expect(trainAll(cfg, { losses: ['s', 't'] as never })).rejects.toThrow(/must include "c"/);
    const file = join(root, 'r18-w4.safetensors');
    writeFileSync(file, encodeSafetensors(randomResNet18(4, 3, 1)));
    await expect(trainAll(cfg, { init: `imagenet:${file}` })).rejects.toThrow(/r18-w4.safetensors: conv1 has 4 filters, model.width is 2; ImageNet ResNet18 weights need model.width 4/);
    await expect(trainAll(cfg, { init: file })).rejects.toThrow(/expected imagenet:FILE/);
    await expect(trainAll(cfg, { init: `imagenet:${join(root, 'none.safetensors')}` })).rejects.toThrow(/none.safetensors: cannot open/);
  });
});

describe('mimanet train (CLI)', () => {
  it('trains with --losses and prints the checkpoint folder; bad flags get one clear line', async () => {
    const cfgPath = join(root, 'tiny.json');
    writeFileSync(cfgPath, JSON.stringify({ ...tiny, pretrain: { manetEpochs: 0, minetEpochs: 1, batchSize: 8 } }));
    const out = join(root, 'cli-model');
    const ok = await runCli(['train', '--config', cfgPath, '--out', out, '--losses', 'c,con', '--quiet']);
    const code = ok.code;
    const stdout = ok.out;
    const badRun = await runCli(['train', '--config', cfgPath, '--out', join(root, 'x'), '--losses', 'c,adv', '--quiet']);
    const bad = badRun.code;
    const badErr = badRun.err;
    const initRun = await runCli(['train', '--config', cfgPath, '--out', join(root, 'y'), '--init', 'imagenet:r18.safetensors', '--quiet']);
    const initBad = initRun.code;
    const initErr = initRun.err;
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(out);
    const meta = JSON.parse(readFileSync(join(out, 'mimanet.json'), 'utf8'));
    expect(meta.provenance.losses).toEqual(['c', 'con']);
    expect(bad).toBe(1);
    expect(badErr).toMatch(/option --losses: unknown loss "adv"/);
    expect(initBad).toBe(1);
    expect(initErr).toMatch(/config field "model.width" is 2: expected 64 with model.init imagenet:FILE/);
  });
});
