import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { TwoStreamNet } from '../src/model/twostream.js';
import { withInitSeed } from '../src/model/resnet.js';
import { pretrainClassifier, predictClips, NonFiniteLossError } from '../src/train/pretrain.js';
import { guidedFinetune, type FinetuneOptions } from '../src/train/finetune.js';
import { makeBatch } from '../src/data/batches.js';
import { Rng } from '../src/util/rng.js';
import { useCpu, randomClipSet, numTensors } from './helpers.js';

beforeAll(useCpu);

const T = 4;
const S = 32;
const cfg = { classes: 3, size: S, channels: 1, frames: T, width: 2, sc: 2, K: 2 };
const micro = randomClipSet({ name: 'mi', clips: 8, classes: 3, subjects: 4, T, size: S });
const macro = randomClipSet({ name: 'ma', clips: 8, classes: 7, subjects: 4, T, size: S, seed: 2 });
const all = [...Array(8).keys()];

function ftOptions(over: Partial<FinetuneOptions> = {}): FinetuneOptions {
  return {
    losses: ['c', 's', 'sam', 't', 'con'],
    epochs: 1,
    lr: 1e-3,
    n: 4,
    weights: { s: 0.1, sam: 0.2, t: 0.2, con: 0.1 },
    tau: 0.1,
    conReduction: 'mean',
    conDenominator: 'eq7',
    grl: { schedule: 'dann', lambda: 1 },
    headWidths: [4, 4, 4],
    macroToMicro: [0, 0, 0, 0, 1, 0, 2],
    seed: 3,
    flip: true,
    where: 'test',
    ...over,
  };
}

describe('batches', () => {
  it('normalise pixels, put the last frame as apex, and mirror when asked', () => {
    const set = randomClipSet({ name: 'b', clips: 2, classes: 2, subjects: 1, T: 2, size: 32 });
    const b = makeBatch(set, [1], { normalization: { mean: [0.5], std: [0.5] } });
    const px = set.clips[1].frames;
    const frames = b.frames.arraySync()[0];
    expect(frames[0][0][0][0]).toBeCloseTo(px[0] / 127.5 - 1, 5);
    expect(b.apex.arraySync()[0][3][5][0]).toBeCloseTo(px[32 * 32 + 3 * 32 + 5] / 127.5 - 1, 5);
    // a flip generator whose first draw is < 0.5 mirrors the clip
    let seed = 0;
    while (new Rng(seed).next() >= 0.5) seed++;
    const f = makeBatch(set, [1], { flip: new Rng(seed) });
    expect(f.frames.arraySync()[0][0][2][31][0]).toBeCloseTo(px[2 * 32 + 0] / 127.5 - 1, 5);
    tf.dispose([b.apex, b.frames, f.apex, f.frames]);
  });
});

describe('training loops', () => {
  it('MiNet pretraining keeps the tensor count flat and changes the weights', async () => {
    const net = withInitSeed(1, () => new TwoStreamNet(cfg, 'MiNet'));
    const w0 = Array.from(net.classifier.getWeights()[0].dataSync());
    await pretrainClassifier(net, micro, all, { epochs: 1, lr: 1e-2, batchSize: 4, seed: 1, flip: true, where: 'warm-up' });
    const before = numTensors();
    const losses = await pretrainClassifier(net, micro, all, { epochs: 2, lr: 1e-2, batchSize: 4, seed: 1, flip: true, where: 't' });
    expect(numTensors()).toBe(before);
    expect(losses).toHaveLength(2);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(Array.from(net.classifier.getWeights()[0].dataSync())).not.toEqual(w0);
    const preds = await predictClips(net, micro, [0, 1, 2], 'mean');
    expect(numTensors()).toBe(before);
    expect(preds).toHaveLength(3);
    preds.forEach((p) => {
      expect(p.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(p.pred).toBe(p.probs.indexOf(Math.max(...p.probs)));
    });
    net.dispose();
  });

  it('guided fine-tuning with all five losses keeps the tensor count flat, updates MiNet and leaves MaNet unchanged', async () => {
    const minet = withInitSeed(1, () => new TwoStreamNet(cfg, 'MiNet'));
    const manet = withInitSeed(2, () => new TwoStreamNet({ ...cfg, classes: 7 }, 'MaNet'));
    await guidedFinetune(minet, manet, micro, all, macro, ftOptions()); // warm-up: kernels, optimizer slots
    const manetBefore = manet.weights.map((w) => Array.from(w.read().dataSync()));
    const minetBefore = Array.from(minet.spatial.getWeights()[0].dataSync());
    const before = numTensors();
    const steps: Array<Record<string, number>> = [];
    const curves = await guidedFinetune(minet, manet, micro, all, macro, ftOptions({ epochs: 2, onStep: (s) => steps.push(s.losses) }));
    expect(numTensors()).toBe(before);
    expect(curves).toHaveLength(2);
    expect(steps).toHaveLength(4);
    for (const term of ['c', 's', 'sam', 't', 'con', 'total']) expect(Number.isFinite(steps[0][term])).toBe(true);
    // Eq. 8 with the paper's weights
    const s0 = steps[0];
    expect(s0.total).toBeCloseTo(s0.c + 0.1 * s0.s + 0.2 * s0.sam + 0.2 * s0.t + 0.1 * s0.con, 4);
    expect(manet.weights.map((w) => Array.from(w.read().dataSync()))).toEqual(manetBefore);
    expect(Array.from(minet.spatial.getWeights()[0].dataSync())).not.toEqual(minetBefore);
    minet.dispose();
    manet.dispose();
  });

  it('an ablation row computes only its own loss terms', async () => {
    const minet = withInitSeed(1, () => new TwoStreamNet(cfg, 'MiNet'));
    const manet = withInitSeed(2, () => new TwoStreamNet({ ...cfg, classes: 7 }, 'MaNet'));
    const steps: Array<Record<string, number>> = [];
    await guidedFinetune(minet, manet, micro, all, macro, ftOptions({ losses: ['c', 'con'], onStep: (s) => steps.push(s.losses) }));
    expect(Object.keys(steps[0]).sort()).toEqual(['c', 'con', 'lambda', 'total']);
    expect(steps[0].total).toBeCloseTo(steps[0].c + 0.1 * steps[0].con, 4);
    minet.dispose();
    manet.dispose();
  });

  it('stops with a message naming where and which loss term turned NaN', async () => {
    const minet = withInitSeed(1, () => new TwoStreamNet(cfg, 'MiNet'));
    const manet = withInitSeed(2, () => new TwoStreamNet({ ...cfg, classes: 7 }, 'MaNet'));
    // a NaN weight in D_s's input path: poison MaNet's spatial stream so its feature maps are NaN
    const w = manet.spatial.weights[0];
    w.write(tf.fill(w.shape as number[], NaN));
    const err = await guidedFinetune(minet, manet, micro, all, macro, ftOptions({ losses: ['c', 's'], where: 'seed 1, fold 2 (s1)' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toMatch(/seed 1, fold 2 \(s1\): loss term L_s became NaN at epoch 1/);
    minet.dispose();
    manet.dispose();
  });

  it('fine-tuning is deterministic for a seed', async () => {
    const run = async (): Promise<number[]> => {
      const minet = withInitSeed(1, () => new TwoStreamNet(cfg, 'MiNet'));
      const manet = withInitSeed(2, () => new TwoStreamNet({ ...cfg, classes: 7 }, 'MaNet'));
      await guidedFinetune(minet, manet, micro, all, macro, ftOptions());
      const w = Array.from(minet.classifier.getWeights()[0].dataSync());
      minet.dispose();
      manet.dispose();
      return w;
    };
    expect(await run()).toEqual(await run());
  });
});
