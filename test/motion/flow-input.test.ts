/**
 * `model.input: flow`: the flow input of a clip, its cache, a run that trains, resumes and
 * evaluates on it, and a checkpoint whose `predict` input is training's to the bit.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBatch, normalizeFlowClip, normalizationFor } from '../../src/data/batches.js';
import { attachFlows, flowDirFor, FLOW_INDEX } from '../../src/data/flow-cache.js';
import { loadExperimentData } from '../../src/data/load.js';
import { resolveConfig, type DeepPartial, type MimanetConfig } from '../../src/config.js';
import { clipFlow, flowRecipe } from '../../src/motion/clip-flow.js';
import { opticalFlow } from '../../src/motion/flow.js';
import { tvl1FlowTs } from '../../src/motion/tvl1.js';
import { TwoStreamNet } from '../../src/model/twostream.js';
import { withInitSeed } from '../../src/model/resnet.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { AGGREGATION_VERSION, parseCheckpointMeta } from '../../src/model/checkpoint-meta.js';
import { Predictor } from '../../src/predict/index.js';
import { exportClips } from '../../src/cli/synthetic.js';
import { netConfig, normalizationOf } from '../../src/train/experiment.js';
import { pretrainClassifier } from '../../src/train/pretrain.js';
import type { ClipSet } from '../../src/data/types.js';
import { sha256 } from '../../src/util/checksum.js';
import { initBackend } from '../../src/backend/index.js';
import { numTensors, runCli, tempDir, tinyConfig } from '../helpers.js';

function flowConfig(cacheDir: string): DeepPartial<MimanetConfig> {
  return { ...tinyConfig, data: { ...tinyConfig.data, cacheDir }, model: { ...tinyConfig.model, input: 'flow' } } as DeepPartial<MimanetConfig>;
}

describe('the flow input of a clip', () => {
  it('is, per frame t, the TV-L1 flow onset -> t and its strain; frame 0 is no motion', () => {
    const g = { frames: 3, height: 20, width: 24, channels: 1 };
    const frames = new Uint8Array(3 * 20 * 24);
    for (let t = 0; t < 3; t++) for (let y = 0; y < 20; y++) for (let x = 0; x < 24; x++) frames[(t * 20 + y) * 24 + x] = Math.round(128 + 60 * Math.sin(0.5 * (x - 0.6 * t)) * Math.cos(0.4 * y));
    const recipe = flowRecipe(1);
    const f = clipFlow(frames, g, recipe);
    const n = 20 * 24;
    const frame = (t: number): Float32Array => frames.slice(t * n, (t + 1) * n).reduce((a, v, i) => ((a[i] = v), a), new Float32Array(n));
    const direct = tvl1FlowTs(frame(0), frame(2), 24, 20);
    for (const i of [0, 100, 250, n - 1]) {
      expect(f[(2 * n + i) * 3]).toBe(direct.u[i]);
      expect(f[(2 * n + i) * 3 + 1]).toBe(direct.v[i]);
      expect(f[i * 3]).toBe(0);
      expect(f[i * 3 + 2]).toBe(0);
    }
    // the grating moved 0.6 px per frame to the right
    expect(f[(2 * n + 10 * 24 + 12) * 3]).toBeCloseTo(1.2, 1);
  });

  it('is mirrored with u negated when a training clip is flipped, then scaled by (f - mean) / std', () => {
    // one frame of 1 x 2: pixels (u, v, s) = (1, 2, 3) and (4, 5, 6)
    const flow = Float32Array.of(1, 2, 3, 4, 5, 6);
    const norm = { mean: [0, 0, 0], std: [0.5, 0.5, 2], input: 'flow' as const };
    const out = new Float32Array(6);
    normalizeFlowClip(out, 0, flow, { frames: 1, height: 1, width: 2 }, norm);
    expect(Array.from(out)).toEqual([2, 4, 1.5, 8, 10, 3]);
    normalizeFlowClip(out, 0, flow, { frames: 1, height: 1, width: 2 }, norm, true);
    expect(Array.from(out)).toEqual([-8, 10, 3, -2, 4, 1.5]);
  });

  it('takes its scales from model.flow, whatever the initialisation, and needs them', () => {
    expect(normalizationFor('imagenet:x.safetensors', 1, 'flow', { motionScale: 0.2, strainScale: 0.05 })).toEqual({ mean: [0, 0, 0], std: [0.2, 0.2, 0.05], input: 'flow' });
    expect(() => normalizationFor('scratch', 1, 'flow')).toThrow('needs the flow scales');
  });
});

describe('model.flow in the config', () => {
  it('is filled with its defaults only with model.input flow, and checked', () => {
    const c = resolveConfig({ model: { input: 'flow', flow: { tvl1: { warps: 3 }, motionScale: 0.5 } } });
    expect(c.model.flow).toMatchObject({ strain: 'central', motionScale: 0.5, strainScale: 0.03 });
    expect(c.model.flow!.tvl1).toMatchObject({ warps: 3, tau: 0.25, scaleStep: 0.8 });
    expect('flow' in resolveConfig({}).model).toBe(false);
    expect(netConfig(c, 3).channels).toBe(3);
    expect(() => resolveConfig({ model: { flow: {} } })).toThrow('config field "model.flow" is {}: expected no value: it applies only with model.input "flow"');
    expect(() => resolveConfig({ model: { input: 'flow', flow: { strainScale: -1 } } })).toThrow('config field "model.flow.strainScale" is -1');
    expect(() => resolveConfig({ model: { input: 'flow', flow: { tvl1: { theta: 'a' } } } } as never)).toThrow('config field "model.flow.tvl1": theta is "a"');
    expect(() => resolveConfig({ model: { input: 'optical' } } as never)).toThrow('config field "model.input" is "optical": expected "frames" or "onset-diff" or "flow"');
  });
});

describe('the flow cache', () => {
  let set: ClipSet;
  let dir: string;
  const recipe = flowRecipe(1);

  beforeAll(async () => {
    const data = await loadExperimentData(resolveConfig({ ...tinyConfig, backend: 'cpu' } as DeepPartial<MimanetConfig>));
    set = { ...data.micro, clips: data.micro.clips.slice(0, 4).map((c) => ({ ...c })) };
    dir = flowDirFor(tempDir('flow-cache'), set, recipe);
  });

  it('computes each clip once, with checksums of the frames and of the flow, and reuses them', () => {
    const first = attachFlows(set, dir, recipe);
    expect([first.computed, first.reused]).toEqual([4, 0]);
    const index = JSON.parse(readFileSync(join(dir, FLOW_INDEX), 'utf8'));
    expect(index.clips).toHaveLength(4);
    expect(index.clips[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    const flows = set.clips.map((c) => c.flow!);
    expect(flows[0]).toEqual(clipFlow(set.clips[0].frames, set, recipe, (a, b, w, h, p) => opticalFlow(a, b, w, h, p)));
    for (const c of set.clips) delete c.flow;
    const again = attachFlows(set, dir, recipe);
    expect([again.computed, again.reused]).toEqual([0, 4]);
    expect(set.clips.map((c) => c.flow)).toEqual(flows);
  });

  it('computes again a damaged flow file (and says so) and the flow of frames that changed', () => {
    const file = join(dir, 'clips', `${set.clips[1].id.replace(/\//g, '__')}.f32`);
    const bytes = readFileSync(file);
    bytes[100] ^= 0xff;
    writeFileSync(file, bytes);
    set.clips[2] = { ...set.clips[2], frames: set.clips[2].frames.map((v) => 255 - v) };
    const lines: string[] = [];
    const r = attachFlows(set, dir, recipe, (m) => lines.push(m));
    expect([r.computed, r.reused]).toEqual([2, 2]);
    expect(r.damaged).toEqual([file]);
    expect(lines.some((l) => l.includes(`${file}: checksum mismatch`))).toBe(true);
    expect(sha256(readFileSync(file))).toBe(JSON.parse(readFileSync(join(dir, FLOW_INDEX), 'utf8')).clips.find((c: { id: string }) => c.id === set.clips[1].id).sha256);
  });
});


describe('a flow model: training, predict and the checkpoint', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('pretraining on the flow input keeps the tensor count flat', async () => {
    const cfg = resolveConfig(flowConfig(tempDir('flow-train')));
    const data = await loadExperimentData(cfg);
    const net = withInitSeed(1, () => new TwoStreamNet(netConfig(cfg, data.micro.labels.length), 'MiNet'));
    const idx = data.micro.clips.map((_, i) => i);
    const opts = { epochs: 1, lr: 1e-2, batchSize: 4, seed: 1, flip: true, where: 'flow', normalization: normalizationOf(cfg) };
    await pretrainClassifier(net, data.micro, idx, opts);
    const before = numTensors();
    const losses = await pretrainClassifier(net, data.micro, idx, opts);
    expect(numTensors()).toBe(before);
    expect(losses.every(Number.isFinite)).toBe(true);
    net.dispose();
  });

  it('predict feeds the network what training feeds it, to the bit, from PNG frames of a training clip', async () => {
    const dir = tempDir('flow-predict');
    const cfg = resolveConfig(flowConfig(join(dir, 'cache')));
    const data = await loadExperimentData(cfg);
    expect(data.preprocessing.flow).toEqual(flowRecipe(1));
    const norm = normalizationOf(cfg);
    const net = withInitSeed(3, () => new TwoStreamNet(netConfig(cfg, data.micro.labels.length), 'MiNet'));
    const ckpt = join(dir, 'ckpt');
    await saveCheckpoint(net, ckpt, { labels: data.micro.labels, temporal: 'intervals', normalization: norm, preprocessing: data.preprocessing });
    const [folder] = await exportClips({ micro: data.micro, macro: data.macro }, { out: join(dir, 'frames'), count: 1, sets: ['micro'] });
    const predictor = await Predictor.load(ckpt);
    try {
      expect(predictor.geometry.channels).toBe(1);
      const clip = data.micro.clips[0];
      const batch = makeBatch(data.micro, [0], { normalization: norm });
      const training = batch.frames.dataSync();
      const fromFrames = predictor.inputFor(clip.frames);
      expect(fromFrames.channels).toBe(3);
      expect(Array.from(fromFrames.x)).toEqual(Array.from(training));
      // and through the whole of predict: the PNG folder, decoded and resampled as the command does
      const r = await predictor.predict(folder);
      const want = tf.tidy(() => Array.from((predictor.model.predict([batch.apex, batch.frames]) as tf.Tensor).dataSync()));
      r.probs.forEach((p, i) => expect(p).toBeCloseTo(want[i], 6));
      batch.apex.dispose();
      batch.frames.dispose();
    } finally {
      predictor.dispose();
      net.dispose();
    }
    const meta = JSON.parse(readFileSync(join(ckpt, 'mimanet.json'), 'utf8'));
    expect(meta.normalization).toEqual({ mean: [0, 0, 0], std: [0.1, 0.1, 0.03], input: 'flow' });
    expect(meta.preprocessing.flow.tvl1.scaleStep).toBe(0.8);
    expect(meta.net.channels).toBe(3);
  });
});

describe('a flow checkpoint\'s mimanet.json', () => {
  it('is refused without its flow recipe, with net.channels other than 3, or with a bad recipe, naming the file and field', () => {
    const meta = (over: Record<string, unknown>) => ({
      format: 'mimanet-checkpoint', version: 1, labels: ['a', 'b'], net: { size: 32, frames: 4, channels: 3, classes: 2 }, temporal: 'intervals', aggregationVersion: AGGREGATION_VERSION,
      normalization: { mean: [0, 0, 0], std: [0.1, 0.1, 0.03], input: 'flow' }, preprocessing: { align: 'none', resample: 'linear', flow: flowRecipe(1) }, ...over,
    });
    expect(parseCheckpointMeta(meta({}), 'm.json').frameChannels).toBe(1);
    expect(() => parseCheckpointMeta(meta({ preprocessing: { align: 'none' } }), 'm.json')).toThrow('m.json: normalization.input is "flow" but preprocessing.flow is missing');
    expect(() => parseCheckpointMeta(meta({ net: { size: 32, frames: 4, channels: 1, classes: 2 }, normalization: { mean: [0], std: [1], input: 'flow' } }), 'm.json')).toThrow('m.json: net.channels is 1 with the flow input, expected 3');
    expect(() => parseCheckpointMeta(meta({ preprocessing: { align: 'none', flow: { ...flowRecipe(1), strain: 'sobel' } } }), 'm.json')).toThrow('m.json: preprocessing.flow.strain is "sobel", expected "central" or "forward"');
    expect(() => parseCheckpointMeta(meta({ preprocessing: { align: 'none', flow: { ...flowRecipe(1), tvl1: { warps: 0 } } } }), 'm.json')).toThrow('m.json: preprocessing.flow.tvl1: warps is 0, expected an integer in [1, 1000]');
  });
});

describe('mimanet run with model.input flow', () => {
  it('trains, writes the flow cache, resumes and evaluates; its fold checkpoint predicts', async () => {
    const dir = tempDir('flow-run');
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify({ ...flowConfig(join(dir, 'cache')), variants: [['c']] }));
    const out = join(dir, 'run');
    const r = await runCli(['run', '--config', configPath, '--out', out, '--quiet']);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.variants).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).model.flow.motionScale).toBe(0.1);
    const again = await runCli(['run', '--config', configPath, '--out', out]);
    expect(again.code, again.err).toBe(0);
    expect(again.out + again.err).toMatch(/0 fold-rows trained, \d+ reused/);
    const ckpt = join(out, 'seed-1', 'folds', '001-synth-casme2_s01', 'checkpoints', 'c');
    expect(existsSync(join(ckpt, 'mimanet.json'))).toBe(true);
    const data = await loadExperimentData(resolveConfig(flowConfig(join(dir, 'cache'))));
    const frames = await exportClips({ micro: data.micro, macro: data.macro }, { out: join(dir, 'frames'), count: 1, sets: ['micro'] });
    const p = await runCli(['predict', '--model', ckpt, frames[0], '--json', '--backend', 'wasm']);
    expect(p.code, p.err).toBe(0);
    const j = JSON.parse(p.out.trim());
    expect(j.preprocessing.flow.strain).toBe('central');
    expect(Object.values(j.probabilities as Record<string, number>).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
  });
});
