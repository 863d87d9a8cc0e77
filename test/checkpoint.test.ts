import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TwoStreamNet } from '../src/model/twostream.js';
import { withInitSeed } from '../src/model/resnet.js';
import { saveCheckpoint, loadCheckpoint, TemporalAggregate } from '../src/model/checkpoint.js';
import { saveNetWeights, loadNetWeights } from '../src/model/io.js';
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

  it('TemporalAggregate weights frames as the centred v(s) windows do', () => {
    const layer = new TemporalAggregate({ mode: 'intervals', frames: 8, sc: 2, samples: 4 });
    // s = 1: start 2 -> frames 2..5; s = 2: start 0 -> frames 0, 2, 4, 6; each window weighs 1/8 per frame
    expect(layer.frameWeights()).toEqual([0.125, 0, 0.25, 0.125, 0.25, 0.125, 0.125, 0]);
    expect(new TemporalAggregate({ mode: 'mean', frames: 4, sc: 1, samples: 1 }).frameWeights()).toEqual([0.25, 0.25, 0.25, 0.25]);
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
