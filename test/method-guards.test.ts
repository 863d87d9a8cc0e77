/**
 * Tests that fail when the method is broken in ways that leave the numbers
 * plausible: a reversal layer gone or mis-scheduled, a head left out of the
 * optimiser or fed the wrong features, a loss cut off from MiNet, L_con given
 * unmapped labels, MaNet trained, a held-out clip reaching training, a frame
 * ignored at evaluation. scripts/guard-mutations.sh applies each breakage and
 * checks that a test here fails. Gradients are compared as vectors with a
 * relative tolerance, so a small gradient cannot pass for a right one.
 */
import { describe, it, expect, beforeAll, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { TwoStreamNet, temporalFrameWeights, maxIntervalStart, intervalIndices, sampleIntervalStarts } from '../src/model/twostream.js';
import { withInitSeed } from '../src/model/resnet.js';
import { GuidedStep, guidedFinetune, type FinetuneBatch, type FinetuneOptions } from '../src/train/finetune.js';
import { predictClips } from '../src/train/pretrain.js';
import { auditBatches, makeBatch, type BatchAuditEvent } from '../src/data/batches.js';
import { contrastiveLoss, domainLoss, samplingLoss, type LossTerm } from '../src/model/losses.js';
import { buildInferenceModel } from '../src/model/checkpoint.js';
import { resolveConfig, type MimanetConfig } from '../src/config.js';
import { loadExperimentData } from '../src/data/load.js';
import { macroToMicroMap } from '../src/data/datasets/labels.js';
import { MACRO_LABELS, MACRO_TO_MICRO, MICRO_LABELS } from '../src/data/synthetic/config.js';
import { losoFolds } from '../src/train/folds.js';
import { obtainManet, runFoldJob, foldTraining } from '../src/train/experiment.js';
import { readEmbeddings } from '../src/results/index.js';
import { useCpu, randomClipSet, tempDir, GUIDED_STEP_OPTIONS } from './helpers.js';

/**
 * A tap on the reversal layer: while `on`, each call of `gradientReversal` is wrapped in two
 * identity layers that record the gradient arriving from the discriminator and the gradient
 * leaving towards MiNet, with the fine-tuning step it belongs to.
 */
const grlTap = vi.hoisted(() => ({
  on: false,
  step: 0,
  calls: [] as Array<{ step: number; fromHead?: Float32Array; toMiNet?: Float32Array }>,
}));
vi.mock('../src/model/grl.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/model/grl.js')>();
  const tfm = await import('@tensorflow/tfjs');
  const tap = <T extends tf.Tensor>(x: T, record: (g: Float32Array) => void): T =>
    tfm.customGrad(((a: tf.Tensor) => ({
      value: a.clone(),
      gradFunc: (dy: tf.Tensor) => {
        record(Float32Array.from(dy.dataSync()));
        return dy.clone();
      },
    })) as unknown as Parameters<typeof tfm.customGrad>[0])(x) as T;
  return {
    ...real,
    gradientReversal: <T extends tf.Tensor>(x: T, lambda: number): T => {
      if (!grlTap.on) return real.gradientReversal(x, lambda);
      const call: (typeof grlTap.calls)[number] = { step: grlTap.step };
      grlTap.calls.push(call);
      return tap(real.gradientReversal(tap(x, (g) => (call.toMiNet = g)), lambda), (g) => (call.fromHead = g));
    },
  };
});

beforeAll(useCpu);

const T = 4;
const cfg = { classes: 3, size: 32, channels: 1, frames: T, width: 2, sc: 2, K: 2 };
const micro = randomClipSet({ name: 'mi', clips: 8, classes: 3, subjects: 4, T, size: 32 });
const macro = randomClipSet({ name: 'ma', clips: 8, classes: 7, subjects: 4, T, size: 32, seed: 2 });

function values(vars: tf.Variable[] | tf.LayerVariable[]): number[][] {
  return vars.map((v) => Array.from(('read' in v ? v.read() : v).dataSync()));
}

function norm(a: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * a[i];
  return Math.sqrt(sum);
}

/** `got` equals `factor` times `plain` (all tensors as one vector) within a relative error `tol`, and `plain` is not zero. */
function expectScaled(got: number[][], plain: number[][], factor: number, who: string, tol = 1e-4): void {
  const a = got.flat();
  const b = plain.flat().map((x) => factor * x);
  expect(a.length, who).toBe(b.length);
  const size = norm(b);
  expect(size, `${who}: reference gradient`).toBeGreaterThan(0);
  expect(norm(a.map((x, i) => x - b[i])) / size, `${who}: relative error`).toBeLessThan(tol);
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
  /** T, s_c, K: the quick preset's, the paper's, and the smallest. */
  const shapes: [number, number, number][] = [
    [8, 2, 4],
    [16, 3, 4],
    [4, 2, 2],
  ];

  it.each(shapes)('T=%i, s_c=%i, K=%i: every frame, the apex included, gets its expected training weight', (frames, sc, K) => {
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

  it.each(shapes)('T=%i, s_c=%i, K=%i: the training sampler, enumerated, gives frame weights equal to temporalFrameWeights', (frames, sc, K) => {
    const c = { frames, sc, K };
    // run the sampler once to learn the range of each of its draws, then once per combination of draws
    const ranges: number[] = [];
    sampleIntervalStarts(c, { int: (n) => (ranges.push(n), 0) });
    expect(ranges).toHaveLength(sc);
    let scripts: number[][] = [[]];
    for (const n of ranges) scripts = scripts.flatMap((p) => Array.from({ length: n }, (_, v) => [...p, v]));
    const expected = new Array<number>(frames).fill(0);
    for (const script of scripts) {
      let i = 0;
      const starts = sampleIntervalStarts(c, { int: (n) => (expect(n).toBe(ranges[i]), script[i++]) });
      for (let k = 0; k < sc; k++) for (const t of intervalIndices(starts[k], 2 ** k, K, frames)) expected[t] += 1 / (scripts.length * K * sc);
    }
    temporalFrameWeights('intervals', c).forEach((x, t) => expect(x, `frame ${t}`).toBeCloseTo(expected[t], 12));
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

  function setup(losses: LossTerm[] = opts.losses, macroIdx = [0, 1, 2, 3]): { step: GuidedStep; batch: FinetuneBatch; minet: TwoStreamNet; manet: TwoStreamNet } {
    const minet = withInitSeed(1, () => new TwoStreamNet(cfg, 'MiNet'));
    const manet = withInitSeed(2, () => new TwoStreamNet({ ...cfg, classes: 7 }, 'MaNet'));
    const step = new GuidedStep(minet, manet, { ...opts, losses });
    const batch = { micro: makeBatch(micro, [0, 1, 2, 3]), macro: makeBatch(macro, macroIdx), starts: [1, 0], lambda };
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
      expectScaled(grads(inStep, vs), grads(plain, vs), factor, who);
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
      expectScaled(grads(inStep, vs), grads(plain, vs), factor, who);
    }
    disposeTeacher(teacher);
    teardown(s);
  });

  it('C_s classifies each MiNet v(s) paired with MaNet\'s v(s) of the same s, and L_sam reaches MiNet unreversed (Eq. 3)', () => {
    const s = setup(['c', 'sam']);
    const teacher = s.step.teacher(s.batch);
    const Cs = s.step.heads.Cs!;
    const forward = () => s.minet.forward(s.batch.micro.apex, s.batch.micro.frames, { training: true, temporal: 'intervals', starts: s.batch.starts });
    // what C_s is given inside the step: one input per interval s, [MiNet's v(s); MaNet's v(s)]
    const seen: number[][][][] = [];
    const apply = Cs.apply.bind(Cs);
    Cs.apply = ((x: tf.Tensor, kw?: Record<string, unknown>) => (seen.push((x as tf.Tensor3D).arraySync()), apply(x, kw))) as typeof Cs.apply;
    const inStep = tf.tidy(() => s.step.objective(s.batch, teacher).terms.sam!.dataSync()[0]);
    Cs.apply = apply;
    const want = tf.tidy(() => forward().vs.map((v, k) => tf.concat([v, teacher.vs[k]], 0).arraySync()));
    expect(seen).toHaveLength(cfg.sc);
    seen.forEach((x, k) => {
      const d = x.flat(2).map((u, i) => u - want[k].flat(2)[i]);
      expect(norm(d) / norm(want[k].flat(2)), `interval ${k}`).toBeLessThan(1e-5);
    });
    // the value, and what pairing across intervals would have given instead
    const loss = (pair: (k: number) => number) => (): tf.Scalar => samplingLoss(forward().vs.map((v, k) => Cs.apply(tf.concat([v, teacher.vs[pair(k)]], 0), { training: true }) as tf.Tensor2D));
    const plain = loss((k) => k);
    const crossed = tf.tidy(() => loss((k) => cfg.sc - 1 - k)().dataSync()[0]);
    const ref = tf.tidy(() => plain().dataSync()[0]);
    expect(Math.abs(inStep - ref) / ref).toBeLessThan(1e-5);
    expect(Math.abs(crossed - ref) / ref).toBeGreaterThan(1e-3);
    // the gradient into MiNet and into C_s is that of L_sam itself: not reversed, not cut off
    const term = (): tf.Scalar => s.step.objective(s.batch, teacher).terms.sam!;
    for (const [who, vs] of [['MiNet temporal stream', vars(s.minet.temporal)], ['C_s', vars(Cs)]] as const) {
      expectScaled(grads(term, vs), grads(plain, vs), 1, who);
    }
    disposeTeacher(teacher);
    teardown(s);
  });

  it('L_con compares MiNet\'s micro features with MaNet\'s macro features under the macro -> micro map, and its gradient reaches MiNet (Eq. 5-7)', () => {
    // macro clips of anger, happiness, sadness and surprise (CK+ order): negative, positive, negative, surprise
    const s = setup(['c', 'con'], [0, 4, 5, 6]);
    expect(s.batch.macro.labels).toEqual([0, 4, 5, 6]);
    const mapped = [0, 1, 0, 2];
    const teacher = s.step.teacher(s.batch);
    const con = (labels: number[]) => (): tf.Scalar => {
      const r = s.minet.forward(s.batch.micro.apex, s.batch.micro.frames, { training: true, temporal: 'intervals', starts: s.batch.starts });
      return contrastiveLoss(r.z, s.batch.micro.labels, teacher.z, labels, opts.tau, opts.conReduction, opts.conDenominator);
    };
    const term = (): tf.Scalar => s.step.objective(s.batch, teacher).terms.con!;
    const [inStep, ref, raw] = tf.tidy(() => [term, con(mapped), con(s.batch.macro.labels)].map((f) => f().dataSync()[0]));
    expect(Math.abs(inStep - ref) / Math.abs(ref)).toBeLessThan(1e-5);
    // unmapped macro labels would give another loss: the check above has something to tell apart
    expect(Math.abs(raw - ref) / Math.abs(ref)).toBeGreaterThan(0.05);
    for (const [who, vs] of [['MiNet spatial stream', vars(s.minet.spatial)], ['MiNet temporal stream', vars(s.minet.temporal)]] as const) {
      expectScaled(grads(term, vs), grads(con(mapped), vs), 1, who);
    }
    disposeTeacher(teacher);
    teardown(s);
  });

  it('the synthetic data\'s macro -> micro map sends each CK+ class to the micro class of the same expression', async () => {
    const byName = Object.fromEntries(MACRO_LABELS.map((m, i) => [m, MICRO_LABELS[MACRO_TO_MICRO[i]]]));
    expect(byName).toEqual({ anger: 'negative', contempt: 'negative', disgust: 'negative', fear: 'negative', happiness: 'positive', sadness: 'negative', surprise: 'surprise' });
    expect(macroToMicroMap(MICRO_LABELS, MACRO_LABELS, 'megc2019')).toEqual([...MACRO_TO_MICRO]);
    const c = resolveConfig({ data: { kind: 'synthetic', options: { micro: { sources: 1, subjectsPerSource: 2, clipsPerSubject: 3 }, macro: { subjects: 1, clipsPerSubject: 7 } } }, model: { size: 32, frames: 4, width: 2, sc: 2, K: 2 } });
    expect((await loadExperimentData(c)).macroToMicro).toEqual([0, 0, 0, 0, 1, 0, 2]);
  });

  it('over fine-tuning, the gradient reaching MiNet through each reversal layer is -lambda(p) times the discriminator\'s, on the DANN schedule', async () => {
    const minet = withInitSeed(1, () => new TwoStreamNet(cfg, 'MiNet'));
    const manet = withInitSeed(2, () => new TwoStreamNet({ ...cfg, classes: 7 }, 'MaNet'));
    const ftOpts: FinetuneOptions = { ...opts, losses: ['c', 's', 't'], epochs: 2, grl: { schedule: 'dann', lambda: 0.5 }, flip: false, where: 'test' };
    grlTap.calls.length = 0;
    grlTap.step = 0;
    grlTap.on = true;
    try {
      await guidedFinetune(minet, manet, micro, [0, 1, 2, 3, 4, 5, 6, 7], macro, { ...ftOpts, onStep: () => grlTap.step++ });
    } finally {
      grlTap.on = false;
      minet.dispose();
      manet.dispose();
    }
    const total = 4; // 2 epochs of 8 clips in minibatches of 4
    expect(grlTap.step).toBe(total);
    // one reversal before D_s and one per interval before D_t, each step
    expect(grlTap.calls.map((c) => c.step)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    for (const c of grlTap.calls) {
      const scheduled = 0.5 * (2 / (1 + Math.exp((-10 * c.step) / total)) - 1);
      const fromHead = c.fromHead!;
      const toMiNet = c.toMiNet!;
      expect(norm(fromHead), `step ${c.step}: gradient from the discriminator`).toBeGreaterThan(0);
      // the reversed gradient is -lambda times the incoming one, lambda read off the gradients themselves
      let dot = 0;
      for (let i = 0; i < fromHead.length; i++) dot += toMiNet[i] * fromHead[i];
      const measured = -dot / norm(fromHead) ** 2;
      const residual = norm(Array.from(toMiNet, (g, i) => g + measured * fromHead[i]));
      expect(residual, `step ${c.step}: not a multiple of the incoming gradient`).toBeLessThanOrEqual(1e-5 * norm(toMiNet));
      if (c.step === 0) expect(Math.abs(measured)).toBe(0);
      else expect(Math.abs(measured - scheduled) / scheduled, `step ${c.step}: lambda ${measured}, scheduled ${scheduled}`).toBeLessThan(1e-5);
    }
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

/** A run of one tiny synthetic source with `subjects` subjects, one epoch of each stage. */
function tinyRun(out: string, rows: Pick<MimanetConfig, 'variants' | 'embeddings'> & { microTrainShares?: number[] }, subjects: number): MimanetConfig {
  return resolveConfig({
    out,
    ...rows,
    foldCheckpoints: 'none',
    model: { size: 32, frames: 4, width: 2, sc: 2, K: 2, headWidths: [4, 4, 4] },
    pretrain: { manetEpochs: 1, minetEpochs: 1, batchSize: 8 },
    finetune: { epochs: 1, n: 4 },
    data: { kind: 'synthetic', options: { micro: { sources: 1, subjectsPerSource: subjects, clipsPerSubject: 4 }, macro: { subjects: 2, clipsPerSubject: 7 } } },
  });
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

  it('a whole fold with embeddings on leaves MaNet\'s weights and batch-norm statistics unchanged', async () => {
    const out = tempDir('manet-bn');
    const c = tinyRun(out, { variants: [['c', 's', 'sam', 't', 'con']], embeddings: true }, 3);
    const data = await loadExperimentData(c);
    const folds = losoFolds(data.micro.clips);
    const manet = await obtainManet(c, data, c.seed);
    try {
      const w0 = values(manet.weights);
      // fold 0 with the last row at full share: the job that also embeds MaNet's macro clips
      await runFoldJob({ cfg: c, data, folds, manets: new Map([[c.seed, manet]]) }, { seed: c.seed, fold: 0, share: 1, variants: c.variants, needsPretrain: true });
      const embedded = readEmbeddings(out);
      expect(embedded).toHaveLength(1);
      expect(embedded[0].data.points.some((p) => p.net === 'MaNet')).toBe(true);
      const w1 = values(manet.weights);
      manet.weights.forEach((w, i) => expect(w1[i], w.originalName).toEqual(w0[i]));
    } finally {
      manet.dispose();
    }
  }, 120_000);

  it('MiNet pretraining and fine-tuning of a fold see only its training subjects, at every training share', async () => {
    const c = tinyRun(dir, { variants: [['c'], ['c', 's', 'sam', 't', 'con']], microTrainShares: [1, 0.5], embeddings: false }, 4);
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
