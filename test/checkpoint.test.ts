import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TwoStreamNet, centredStarts, intervalIndices, temporalFrameWeights } from '../src/model/twostream.js';
import { withInitSeed } from '../src/model/resnet.js';
import { saveCheckpoint, loadCheckpoint, parseCheckpointMeta, TemporalAggregate, AGGREGATION_VERSION } from '../src/model/checkpoint.js';
import { saveNetWeights, loadNetWeights } from '../src/model/io.js';
import { makeBatch, normalizationFor } from '../src/data/batches.js';
import { Predictor } from '../src/predict/index.js';
import { useCpu, tempDir } from './helpers.js';

beforeAll(useCpu);

const cfg = { classes: 3, size: 32, channels: 1, frames: 8, width: 2, sc: 2, K: 4 };

describe('checkpoints', () => {
  it('a saved and reloaded layers-format checkpoint predicts what the trained net predicts', async () => {
    const net = withInitSeed(3, () => new TwoStreamNet(cfg, 'MiNet'));
    const apex = tf.randomUniform([2, 32, 32, 1], -1, 1, 'float32', 4) as tf.Tensor4D;
    const frames = tf.randomUniform([2, 8, 32, 32, 1], -1, 1, 'float32', 5) as tf.Tensor5D;
    const dir = tempDir('ckpt');
    for (const temporal of ['mean', 'intervals'] as const) {
      const ref = tf.tidy(() => tf.softmax(net.forward(apex, frames, { training: false, temporal }).logits).arraySync());
      await saveCheckpoint(net, join(dir, temporal), { labels: ['negative', 'positive', 'surprise'], temporal, normalization: { mean: [0.5], std: [0.5] } });
      const { model, meta } = await loadCheckpoint(join(dir, temporal));
      const out = (model.predict([apex, frames]) as tf.Tensor).arraySync() as number[][];
      out.forEach((row, i) => row.forEach((p, j) => expect(p).toBeCloseTo(ref[i][j], 5)));
      expect(meta.labels).toEqual(['negative', 'positive', 'surprise']);
      expect(meta.temporal).toBe(temporal);
      model.dispose();
    }
    const topology = JSON.parse(readFileSync(join(dir, 'intervals', 'model.json'), 'utf8'));
    expect(topology.format).toBe('layers-model');
    expect(JSON.stringify(topology.modelTopology)).toContain('TemporalAggregate');
    net.dispose();
    tf.dispose([apex, frames]);
  });

  it('TemporalAggregate weights each frame by its expected weight over every v(s) window start', () => {
    const layer = new TemporalAggregate({ mode: 'intervals', frames: 8, sc: 2, samples: 4 });
    // s = 1: starts 0..4, frame t lies in 1, 2, 3, 4, 4, 3, 2, 1 windows, each counting 1/(5*4*2) = 1/40;
    // s = 2: starts 0..1 (frames 0,2,4,6 and 1,3,5,7), each frame once at 1/(2*4*2) = 1/16
    const expected = [1, 2, 3, 4, 4, 3, 2, 1].map((c) => c / 40 + 1 / 16);
    layer.frameWeights().forEach((w, t) => expect(w).toBeCloseTo(expected[t], 12));
    expect(new TemporalAggregate({ mode: 'mean', frames: 4, sc: 1, samples: 1 }).frameWeights()).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('predict applies the checkpoint\'s input mode (onset-diff) exactly as training batches do', async () => {
    const net = withInitSeed(3, () => new TwoStreamNet(cfg, 'MiNet'));
    const dir = tempDir('ckpt');
    try {
      const normalization = { mean: [0.5], std: [0.5], input: 'onset-diff' as const };
      await saveCheckpoint(net, dir, { labels: ['a', 'b', 'c'], temporal: 'intervals', normalization });
      const bytes = Uint8Array.from({ length: 8 * 32 * 32 }, (_, i) => (i * 37 + (i >> 10) * 11) % 256);
      const set = { name: 't', labels: ['a', 'b', 'c'], frames: 8, height: 32, width: 32, channels: 1, clips: [{ id: 'c', subject: 's', source: 't', label: 0, frames: bytes }] };
      const b = makeBatch(set, [0], { normalization });
      // the onset frame becomes zeros and the apex is apex minus onset
      expect(Math.max(...Array.from(b.frames.slice([0, 0], [1, 1]).dataSync()).map(Math.abs))).toBe(0);
      expect(b.apex.dataSync()[5]).toBeCloseTo((bytes[7 * 1024 + 5] - bytes[5]) / 127.5, 6);
      const ref = tf.tidy(() => Array.from(tf.softmax(net.forward(b.apex, b.frames, { training: false, temporal: 'intervals' }).logits).dataSync()));
      const p = await Predictor.load(dir);
      const got = await p.scoreFrames(bytes);
      got.forEach((x, i) => expect(x).toBeCloseTo(ref[i], 5));
      // the same clip read as plain frames scores differently: the mode is not ignored
      const plain = tf.tidy(() => {
        const q = makeBatch(set, [0], { normalization: { mean: [0.5], std: [0.5] } });
        return Array.from(tf.softmax(net.forward(q.apex, q.frames, { training: false, temporal: 'intervals' }).logits).dataSync());
      });
      expect(Math.max(...plain.map((x, i) => Math.abs(x - got[i])))).toBeGreaterThan(1e-4);
      p.dispose();
      tf.dispose([b.apex, b.frames]);
    } finally {
      net.dispose();
    }
  });

  it('ImageNet weights bring ImageNet mean and std (averaged for grey input); scratch keeps 0.5 / 0.5', () => {
    expect(normalizationFor('imagenet:/w.safetensors', 3, 'frames')).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], input: 'frames' });
    const grey = normalizationFor('imagenet:/w.safetensors', 1, 'onset-diff');
    expect(grey.mean[0]).toBeCloseTo((0.485 + 0.456 + 0.406) / 3, 12);
    expect(grey.std[0]).toBeCloseTo((0.229 + 0.224 + 0.225) / 3, 12);
    expect(grey.input).toBe('onset-diff');
    expect(normalizationFor('scratch', 3, 'frames')).toEqual({ mean: [0.5], std: [0.5], input: 'frames' });
  });

  it('rejects a truncated weight file and a folder that is not a checkpoint, naming the file', async () => {
    const net = withInitSeed(3, () => new TwoStreamNet(cfg, 'MiNet'));
    const dir = tempDir('ckpt');
    await saveCheckpoint(net, dir, { labels: ['a', 'b', 'c'], temporal: 'mean', normalization: { mean: [0.5], std: [0.5] } });
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(10));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/weights.bin: 10 bytes, model.json describes \d+/);
    await expect(loadCheckpoint(tmpdir())).rejects.toThrow(/not a mimanet checkpoint \(missing model.json\)/);
    net.dispose();
  });

  it('records the version of its evaluation-time aggregation; an intervals checkpoint of another version is refused, never loaded', async () => {
    const net = withInitSeed(3, () => new TwoStreamNet(cfg, 'MiNet'));
    const dir = tempDir('ckpt');
    const normalization = { mean: [0.5], std: [0.5] };
    for (const temporal of ['mean', 'intervals'] as const) await saveCheckpoint(net, join(dir, temporal), { labels: ['a', 'b', 'c'], temporal, normalization });
    net.dispose();
    const metaPath = (t: string): string => join(dir, t, 'mimanet.json');
    const saved = JSON.parse(readFileSync(metaPath('intervals'), 'utf8'));
    expect(saved.aggregationVersion).toBe(2);
    expect(AGGREGATION_VERSION).toBe(2);
    (await loadCheckpoint(join(dir, 'intervals'))).model.dispose();
    // what version 1 computed, one centred window per s, weighs the frames otherwise: loading it silently would change its scores
    const centred = new Array<number>(8).fill(0);
    centredStarts(cfg).forEach((start, k) => intervalIndices(start, 2 ** k, cfg.K, cfg.frames).forEach((t) => (centred[t] += 1 / (cfg.K * cfg.sc))));
    expect(centred[7]).toBe(0);
    expect(temporalFrameWeights('intervals', cfg)[7]).toBeGreaterThan(0);
    // a checkpoint saved before the version was recorded
    const { aggregationVersion: _v, ...old } = saved;
    writeFileSync(metaPath('intervals'), JSON.stringify(old));
    const refusal = /intervals[/\\]mimanet\.json: the checkpoint forms its video feature v with one centred window per interval s \(aggregationVersion absent, i\.e\. 1\); this version of mimanet averages v over every window start \(aggregationVersion 2\)[\s\S]*Train it again/;
    await expect(loadCheckpoint(join(dir, 'intervals'))).rejects.toThrow(refusal);
    await expect(Predictor.load(join(dir, 'intervals'))).rejects.toThrow(refusal);
    expect(() => parseCheckpointMeta(old, metaPath('intervals'))).toThrow(refusal); // the browser's reader
    writeFileSync(metaPath('intervals'), JSON.stringify({ ...saved, aggregationVersion: 3 }));
    await expect(loadCheckpoint(join(dir, 'intervals'))).rejects.toThrow(/aggregationVersion 3, newer than this mimanet's[\s\S]*Load it with the mimanet that saved it/);
    writeFileSync(metaPath('intervals'), JSON.stringify({ ...saved, aggregationVersion: '2' }));
    await expect(loadCheckpoint(join(dir, 'intervals'))).rejects.toThrow(/aggregationVersion/);
    // the mean over frames did not change: an old 'mean' checkpoint still loads
    const { aggregationVersion: _m, ...oldMean } = JSON.parse(readFileSync(metaPath('mean'), 'utf8'));
    writeFileSync(metaPath('mean'), JSON.stringify(oldMean));
    (await loadCheckpoint(join(dir, 'mean'))).model.dispose();
  });

  it('resume weight files round-trip and refuse another architecture', async () => {
    const a = withInitSeed(1, () => new TwoStreamNet(cfg, 'a'));
    const b = withInitSeed(2, () => new TwoStreamNet(cfg, 'b'));
    const base = join(tempDir('w'), 'net');
    await saveNetWeights(a, base);
    loadNetWeights(b, base);
    a.weights.forEach((w, i) => expect(Array.from(b.weights[i].read().dataSync())).toEqual(Array.from(w.read().dataSync())));
    const wide = withInitSeed(1, () => new TwoStreamNet({ ...cfg, width: 4 }, 'wide'));
    expect(() => loadNetWeights(wide, base)).toThrow(/has shape \[7,7,1,2\], the net expects \[7,7,1,4\]/);
    [a, b, wide].forEach((n) => n.dispose());
  });
});
