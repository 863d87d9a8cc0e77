/**
 * Tests that fail when the method is broken in ways that leave the numbers
 * plausible: a reversal layer gone, a head left out of the optimiser, MaNet
 * trained, a held-out clip reaching training, a frame ignored at evaluation.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { TwoStreamNet, temporalFrameWeights, maxIntervalStart } from '../src/model/twostream.js';
import { withInitSeed } from '../src/model/resnet.js';
import { GuidedStep, type FinetuneBatch } from '../src/train/finetune.js';
import { predictClips } from '../src/train/pretrain.js';
import { auditBatches, makeBatch, type BatchAuditEvent } from '../src/data/batches.js';
import { domainLoss } from '../src/model/losses.js';
import { buildInferenceModel } from '../src/model/checkpoint.js';
import { resolveConfig } from '../src/config.js';
import { loadExperimentData } from '../src/data/load.js';
import { losoFolds } from '../src/train/folds.js';
import { obtainManet, runFoldJob, foldTraining } from '../src/train/experiment.js';
import { useCpu, randomClipSet, tempDir, GUIDED_STEP_OPTIONS } from './helpers.js';

beforeAll(useCpu);

const T = 4;
const cfg = { classes: 3, size: 32, channels: 1, frames: T, width: 2, sc: 2, K: 2 };
const micro = randomClipSet({ name: 'mi', clips: 8, classes: 3, subjects: 4, T, size: 32 });
const macro = randomClipSet({ name: 'ma', clips: 8, classes: 7, subjects: 4, T, size: 32, seed: 2 });

function values(vars: tf.Variable[] | tf.LayerVariable[]): number[][] {
  return vars.map((v) => Array.from(('read' in v ? v.read() : v).dataSync()));
}

/** Every combination of one start per interval, as training can draw them. */
function allStarts(c: { sc: number; K: number; frames: number }): number[][] {
  let combos: number[][] = [[]];
  for (let k = 0; k < c.sc; k++) {
    const n = maxIntervalStart(2 ** k, c.K, c.frames) + 1;
    combos = combos.flatMap((prefix) => Array.from({ length: n }, (_, s) => [...prefix, s]));
  }
  return combos;
}

describe('evaluation-time v', () => {
  it.each([
    [8, 2, 4],
    [16, 3, 4],
    [4, 2, 2],
  ])('T=%i, s_c=%i, K=%i: every frame, the apex included, gets its expected training weight', (frames, sc, K) => {
    const c = { frames, sc, K };
    const w = temporalFrameWeights('intervals', c);
    expect(w.every((x) => x > 0)).toBe(true);
    expect(w[frames - 1]).toBeGreaterThan(0);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // brute force: the mean over every combination of starts of the training-time weights
    const combos = allStarts(c);
    const expected = new Array<number>(frames).fill(0);
    for (const starts of combos) {
      for (let k = 0; k < sc; k++) for (let j = 0; j < K; j++) expected[starts[k] + j * 2 ** k] += 1 / (K * sc * combos.length);
    }
    w.forEach((x, t) => expect(x).toBeCloseTo(expected[t], 12));
  });

  it('MiNet at evaluation gives the mean of the training-time v over all window starts, and the checkpoint graph agrees', () => {
    const net = withInitSeed(3, () => new TwoStreamNet(cfg, 'MiNet'));
    const b = makeBatch(micro, [0, 1, 2]);
    const got = tf.tidy(() => net.forward(b.apex, b.frames, { training: false, temporal: 'intervals' }).v.arraySync());
    const combos = allStarts(cfg);
    const mean = tf.tidy(() => tf.div(tf.addN(combos.map((starts) => net.forward(b.apex, b.frames, { training: false, temporal: 'intervals', starts }).v)), combos.length).arraySync());
    got.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(mean[i][j], 5)));
    // the saved inference graph (TemporalAggregate) scores exactly as the net does
    const model = buildInferenceModel(net, 'intervals');
    const p1 = tf.tidy(() => (model.predict([b.apex, b.frames]) as tf.Tensor).arraySync() as number[][]);
    const p2 = tf.tidy(() => tf.softmax(net.forward(b.apex, b.frames, { training: false, temporal: 'intervals' }).logits).arraySync());
    p1.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(p2[i][j], 5)));
    tf.dispose([b.apex, b.frames]);
    net.dispose();
  });

  it('changing any single frame changes the evaluation-time v', () => {
    const net = withInitSeed(4, () => new TwoStreamNet(cfg, 'MiNet'));
    const b = makeBatch(micro, [0]);
    const v0 = tf.tidy(() => net.forward(b.apex, b.frames, { training: false, temporal: 'intervals' }).v.dataSync());
    for (let t = 0; t < T; t++) {
      const v1 = tf.tidy(() => {
        const mask = tf.oneHot([t], T).reshape([1, T, 1, 1, 1]);
        const frames = tf.add(b.frames, tf.mul(mask, 3)) as tf.Tensor5D;
        return net.forward(b.apex, frames, { training: false, temporal: 'intervals' }).v.dataSync();
      });
      const diff = Math.max(...Array.from(v1, (x, i) => Math.abs(x - v0[i])));
      expect(diff, `frame ${t}`).toBeGreaterThan(1e-4);
    }
    tf.dispose([b.apex, b.frames]);
    net.dispose();
  });
});

describe('guidance: gradient reversal and the heads', () => {
  const opts = { ...GUIDED_STEP_OPTIONS, losses: ['c', 's', 'sam', 't'] as ('c' | 's' | 'sam' | 't')[] };
  const lambda = 0.5;
  const domains = [0, 0, 0, 0, 1, 1, 1, 1];

  function setup(): { step: GuidedStep; batch: FinetuneBatch; minet: TwoStreamNet; manet: TwoStreamNet } {
    const minet = withInitSeed(1, () => new TwoStreamNet(cfg, 'MiNet'));
    const manet = withInitSeed(2, () => new TwoStreamNet({ ...cfg, classes: 7 }, 'MaNet'));
    const step = new GuidedStep(minet, manet, opts);
    const batch = { micro: makeBatch(micro, [0, 1, 2, 3]), macro: makeBatch(macro, [0, 1, 2, 3]), starts: [1, 0], lambda };
    return { step, batch, minet, manet };
  }
  function teardown(s: ReturnType<typeof setup>): void {
    tf.dispose([s.batch.micro.apex, s.batch.micro.frames, s.batch.macro.apex, s.batch.macro.frames]);
    s.step.dispose();
    s.minet.dispose();
    s.manet.dispose();
  }
  const vars = (m: tf.LayersModel): tf.Variable[] => m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);

  /** Gradient of `f` with respect to `vs`, as flat arrays. */
  function grads(f: () => tf.Scalar, vs: tf.Variable[]): number[][] {
    return tf.tidy(() => {
      const { grads: g } = tf.variableGrads(f, vs);
      return vs.map((v) => Array.from(g[v.name].dataSync()));
    });
  }

  it('L_s reaches MiNet through the reversal layer (gradient times -lambda) and D_s unreversed (Eq. 2)', () => {
    const s = setup();
    const teacher = s.step.teacher(s.batch);
    const Ds = s.step.heads.Ds!;
    const plain = (): tf.Scalar => {
      const r = s.minet.forward(s.batch.micro.apex, s.batch.micro.frames, { training: true, temporal: 'intervals', starts: s.batch.starts });
      return domainLoss(Ds.apply(tf.concat([r.apexMap, teacher.apexMap], 0), { training: true }) as tf.Tensor, domains);
    };
    const inStep = (): tf.Scalar => s.step.objective(s.batch, teacher).terms.s!;
    for (const [who, vs, factor] of [['MiNet spatial stream', vars(s.minet.spatial), -lambda], ['D_s', vars(Ds), 1]] as const) {
      const g1 = grads(inStep, vs);
      const g0 = grads(plain, vs);
      const norm = Math.max(...g0.flat().map(Math.abs));
      expect(norm, who).toBeGreaterThan(0);
      g1.forEach((g, i) => g.forEach((x, j) => expect(x, who).toBeCloseTo(factor * g0[i][j], 4)));
    }
    disposeTeacher(teacher);
    teardown(s);
  });

  it('L_t reaches MiNet through the reversal layer (gradient times -lambda) and D_t unreversed (Eq. 4)', () => {
    const s = setup();
    const teacher = s.step.teacher(s.batch);
    const Dt = s.step.heads.Dt!;
    const plain = (): tf.Scalar => {
      const r = s.minet.forward(s.batch.micro.apex, s.batch.micro.frames, { training: true, temporal: 'intervals', starts: s.batch.starts });
      const perS = r.vs.map((v, k) => domainLoss(Dt.apply(tf.concat([v, teacher.vs[k]], 0), { training: true }) as tf.Tensor, domains));
      return tf.div(tf.addN(perS), cfg.sc) as tf.Scalar;
    };
    const inStep = (): tf.Scalar => s.step.objective(s.batch, teacher).terms.t!;
    for (const [who, vs, factor] of [['MiNet temporal stream', vars(s.minet.temporal), -lambda], ['D_t', vars(Dt), 1]] as const) {
      const g1 = grads(inStep, vs);
      const g0 = grads(plain, vs);
      expect(Math.max(...g0.flat().map(Math.abs)), who).toBeGreaterThan(0);
      g1.forEach((g, i) => g.forEach((x, j) => expect(x, who).toBeCloseTo(factor * g0[i][j], 4)));
    }
    disposeTeacher(teacher);
    teardown(s);
  });

  it('one update changes every weight tensor of D_s, D_t and C_s, changes MiNet, and leaves MaNet unchanged', async () => {
    const s = setup();
    const heads = { D_s: s.step.heads.Ds!, D_t: s.step.heads.Dt!, C_s: s.step.heads.Cs! };
    const before = Object.fromEntries(Object.entries(heads).map(([k, h]) => [k, values(vars(h))]));
    const manet0 = values(s.manet.weights);
    const minet0 = values(s.minet.trainableVariables);
    await s.step.run(s.batch);
    for (const [name, h] of Object.entries(heads)) {
      const after = values(vars(h));
      after.forEach((w, i) => expect(w, `${name} weight ${i}`).not.toEqual(before[name][i]));
    }
    expect(values(s.manet.weights)).toEqual(manet0);
    expect(values(s.minet.trainableVariables)).not.toEqual(minet0);
    teardown(s);
  });
});

function disposeTeacher(t: ReturnType<GuidedStep['teacher']>): void {
  tf.dispose([t.apexMap, t.fA, t.frameFeatures, ...t.vs, t.v, t.z, t.logits]);
}

describe('no held-out clip reaches training', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('leak');
  });

  it('evaluation leaves every weight, batch-norm statistics included, unchanged', async () => {
    const net = withInitSeed(3, () => new TwoStreamNet(cfg, 'MiNet'));
    const w0 = values(net.weights);
    await predictClips(net, micro, [0, 1, 2, 3, 4], 'intervals');
    await predictClips(net, micro, [5, 6, 7], 'mean');
    expect(values(net.weights)).toEqual(w0);
    net.dispose();
  });

  it('MiNet pretraining and fine-tuning of a fold see only its training subjects, at every training share', async () => {
    const c = resolveConfig({
      out: dir,
      variants: [['c'], ['c', 's', 'sam', 't', 'con']],
      microTrainShares: [1, 0.5],
      embeddings: false,
      foldCheckpoints: 'none',
      model: { size: 32, frames: 4, width: 2, sc: 2, K: 2, headWidths: [4, 4, 4] },
      pretrain: { manetEpochs: 1, minetEpochs: 1, batchSize: 8 },
      finetune: { epochs: 1, n: 4 },
      data: { kind: 'synthetic', options: { micro: { sources: 1, subjectsPerSource: 4, clipsPerSubject: 4 }, macro: { subjects: 2, clipsPerSubject: 7 } } },
    });
    const data = await loadExperimentData(c);
    const folds = losoFolds(data.micro.clips);
    const manets = new Map([[c.seed, await obtainManet(c, data, c.seed)]]);
    const events: BatchAuditEvent[] = [];
    try {
      for (const share of c.microTrainShares) {
        const fold = folds[1];
        const allowed = new Set(foldTraining(c, data, fold, c.seed, share).map((i) => data.micro.clips[i].id));
        const heldOut = new Set(fold.test.map((i) => data.micro.clips[i].id));
        events.length = 0;
        auditBatches((e) => events.push(e));
        await runFoldJob({ cfg: c, data, folds, manets }, { seed: c.seed, fold: fold.index, share, variants: c.variants, needsPretrain: true });
        auditBatches(null);
        const trained = events.filter((e) => e.set === data.micro.name && e.purpose === 'train').flatMap((e) => e.clipIds);
        expect(trained.length).toBeGreaterThan(0);
        expect(trained.filter((id) => heldOut.has(id))).toEqual([]);
        expect(trained.filter((id) => !allowed.has(id))).toEqual([]);
        if (share < 1) expect(allowed.size).toBeLessThan(fold.train.length);
        // the held-out clips are scored, in inference mode only
        const scored = events.filter((e) => e.set === data.micro.name && e.purpose === 'eval').flatMap((e) => e.clipIds);
        expect(new Set(scored)).toEqual(heldOut);
      }
    } finally {
      auditBatches(null);
      for (const m of manets.values()) m.dispose();
    }
  }, 120_000);
});
