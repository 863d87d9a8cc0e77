import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { TwoStreamNet, intervalIndices, centredStarts, checkIntervals, maxIntervalStart } from '../src/model/twostream.js';
import { applyTrunk, buildResNet18, resnetMapSize, withInitSeed } from '../src/model/resnet.js';
import { gradientReversal, dannLambda, GradientReversal } from '../src/model/grl.js';
import { buildRelationClassifier, buildSpatialDiscriminator, buildTemporalDiscriminator } from '../src/model/heads.js';
import { withEarlyRelease } from '../src/train/release.js';
import { useCpu, numTensors } from './helpers.js';

beforeAll(useCpu);

describe('gradient reversal layer', () => {
  it('is the identity forward and flips and scales the gradient backward', () => {
    const x = tf.tensor1d([1, -2, 3]);
    const w = tf.tensor1d([0.5, 2, -1]);
    const y = gradientReversal(x, 0.3);
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3]);
    // d/dx sum(w * GRL(x)) = -0.3 w
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(w, gradientReversal(v, 0.3))))(x);
    const gd = Array.from(g.dataSync());
    [-0.15, -0.6, 0.3].forEach((e, i) => expect(gd[i]).toBeCloseTo(e, 6));
    // and upstream of it, the chain rule still applies: d/dx sum(w * GRL(x^2)) = -0.3 * w * 2x
    const g2 = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(w, gradientReversal(tf.square(v), 0.3))))(x);
    const g2d = Array.from(g2.dataSync());
    [-0.3, 2.4, 1.8].forEach((e, i) => expect(g2d[i]).toBeCloseTo(e, 5));
  });

  it('follows the DANN ramp', () => {
    expect(dannLambda(0)).toBe(0);
    expect(dannLambda(0.5)).toBeCloseTo(2 / (1 + Math.exp(-5)) - 1, 10);
    expect(dannLambda(1)).toBeCloseTo(0.99991, 4);
    expect(dannLambda(2)).toBe(dannLambda(1));
  });

  it('serialises as a layer', () => {
    const layer = new GradientReversal({ lambda: 0.7, name: 'grl' });
    expect(layer.getConfig().lambda).toBe(0.7);
    const out = layer.apply(tf.ones([2, 2])) as tf.Tensor;
    expect(Array.from(out.dataSync())).toEqual([1, 1, 1, 1]);
  });
});

describe('v(s) sampling', () => {
  it('takes K frames spaced s apart', () => {
    expect(intervalIndices(0, 1, 4, 16)).toEqual([0, 1, 2, 3]);
    expect(intervalIndices(3, 4, 4, 16)).toEqual([3, 7, 11, 15]);
    expect(intervalIndices(1, 2, 3, 8)).toEqual([1, 3, 5]);
    expect(() => intervalIndices(4, 4, 4, 16)).toThrow(/does not fit T=16/);
    expect(maxIntervalStart(4, 4, 16)).toBe(3);
  });

  it('centres the windows for evaluation and checks that s_c fits T', () => {
    expect(centredStarts({ sc: 3, K: 4, frames: 16 })).toEqual([6, 4, 1]);
    expect(() => checkIntervals({ sc: 3, K: 4, frames: 8 })).toThrow(/need 13 frames, but T=8/);
    expect(() => checkIntervals({ sc: 2, K: 4, frames: 8 })).not.toThrow();
  });
});

describe('two-stream network', () => {
  const cfg = { classes: 3, size: 32, channels: 1, frames: 8, width: 4, sc: 2, K: 4 };

  it('produces the documented shapes and the v(s) of the chosen frames', () => {
    const net = withInitSeed(1, () => new TwoStreamNet(cfg, 'MiNet'));
    const apex = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const frames = tf.randomUniform([2, 8, 32, 32, 1], 0, 1, 'float32', 2) as tf.Tensor5D;
    const mean = net.forward(apex, frames, { training: false, temporal: 'mean' });
    expect(mean.apexMap.shape).toEqual([2, resnetMapSize(32), resnetMapSize(32), 32]);
    expect(mean.fA.shape).toEqual([2, 32]);
    expect(mean.frameFeatures.shape).toEqual([2, 8, 32]);
    expect(mean.z.shape).toEqual([2, 64]);
    expect(mean.logits.shape).toEqual([2, 3]);
    expect(mean.vs).toHaveLength(0);
    const r = net.forward(apex, frames, { training: false, temporal: 'intervals', starts: [2, 1] });
    expect(r.vs.map((v) => v.shape)).toEqual([[2, 4, 32], [2, 4, 32]]);
    // v(2) with start 1 is frames 1, 3, 5, 7
    const ff = r.frameFeatures.arraySync();
    const v2 = r.vs[1].arraySync();
    [1, 3, 5, 7].forEach((t, j) => expect(v2[0][j][5]).toBeCloseTo(ff[0][t][5], 5));
    // v is the mean over s of the mean over each window
    const v = r.v.arraySync();
    const v1 = r.vs[0].arraySync();
    const expected = (v1[1].reduce((s, f) => s + f[7], 0) / 4 + v2[1].reduce((s, f) => s + f[7], 0) / 4) / 2;
    expect(v[1][7]).toBeCloseTo(expected, 5);
    net.dispose();
    tf.dispose([apex, frames, mean.apexMap, mean.fA, mean.frameFeatures, mean.v, mean.z, mean.logits, r.apexMap, r.fA, r.frameFeatures, ...r.vs, r.v, r.z, r.logits]);
  });

  it('builds identical weights from the same init seed, different from another seed', () => {
    const a = withInitSeed(7, () => new TwoStreamNet(cfg, 'a'));
    const b = withInitSeed(7, () => new TwoStreamNet(cfg, 'b'));
    const c = withInitSeed(8, () => new TwoStreamNet(cfg, 'c'));
    const wa = a.spatial.getWeights()[0].dataSync();
    expect(Array.from(b.spatial.getWeights()[0].dataSync())).toEqual(Array.from(wa));
    expect(Array.from(c.spatial.getWeights()[0].dataSync())).not.toEqual(Array.from(wa));
    b.copyFrom(c);
    expect(Array.from(b.spatial.getWeights()[0].dataSync())).toEqual(Array.from(c.spatial.getWeights()[0].dataSync()));
    [a, b, c].forEach((n) => n.dispose());
  });

  it('is a ResNet18: 20 conv layers (17 + 3 shortcuts) and the torchvision layer names', () => {
    const m = buildResNet18({ size: 32, channels: 3, width: 4, prefix: '', pool: true });
    const convs = m.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.name);
    expect(convs).toHaveLength(20);
    expect(convs).toContain('layer2_0_downsample_0');
    expect(convs).toContain('layer4_1_conv2');
    expect(m.outputs[0].shape).toEqual([null, 32]);
    m.dispose();
  });

  it('heads give one logit (D_s, D_t) and s_c logits (C_s)', () => {
    const widths: [number, number, number] = [8, 8, 8];
    const Ds = buildSpatialDiscriminator(2, 16, { widths });
    const Dt = buildTemporalDiscriminator(4, 16, { widths });
    const Cs = buildRelationClassifier(4, 16, 3, { widths });
    expect(Ds.outputs[0].shape).toEqual([null, 1]);
    expect(Dt.outputs[0].shape).toEqual([null, 1]);
    expect(Cs.outputs[0].shape).toEqual([null, 3]);
    const convs = (m: tf.LayersModel): number => m.layers.filter((l) => /Conv/.test(l.getClassName())).length;
    expect([convs(Ds), convs(Dt), convs(Cs)]).toEqual([3, 3, 3]);
    [Ds, Dt, Cs].forEach((m) => m.dispose());
  });

  it('forward leaves no tensors behind', () => {
    const net = withInitSeed(1, () => new TwoStreamNet(cfg, 'MiNet'));
    const apex = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
    const frames = tf.zeros([1, 8, 32, 32, 1]) as tf.Tensor5D;
    const before = numTensors();
    tf.tidy(() => {
      net.forward(apex, frames, { training: true, temporal: 'intervals' });
    });
    expect(numTensors()).toBe(before);
    net.dispose();
    tf.dispose([apex, frames]);
  });
});

describe('applyTrunk (training forward that frees what the backward pass does not read)', () => {
  it('gives the output and gradients of the model\'s own apply', () => {
    const trunk = buildResNet18({ size: 24, channels: 1, width: 4, prefix: 'at', pool: true });
    const x = tf.randomNormal([3, 24, 24, 1], 0, 1, 'float32', 31);
    const w = tf.randomNormal([3, 32], 0, 1, 'float32', 32);
    const vars = trunk.trainableWeights.map((v) => v.read() as tf.Variable);
    const grads = (f: () => tf.Tensor) => {
      const { value, grads: g } = tf.variableGrads(() => tf.sum(tf.mul(w, f())) as tf.Scalar, vars);
      const out = [value.dataSync()[0], ...vars.map((v) => Array.from(g[v.name].dataSync()))];
      tf.dispose([value, ...Object.values(g)]);
      return out;
    };
    const stock = grads(() => trunk.apply(x, { training: true }) as tf.Tensor);
    const mine = grads(() => applyTrunk(trunk, x, true));
    expect(mine[0] as number).toBeCloseTo(stock[0] as number, 4);
    for (let i = 1; i < stock.length; i++) {
      const a = mine[i] as number[], b = stock[i] as number[];
      a.forEach((v, k) => expect(v, `${vars[i - 1].name}[${k}]`).toBeCloseTo(b[k], 4));
    }
    const inference = (applyTrunk(trunk, x, false) as tf.Tensor).dataSync();
    const stockInference = (trunk.apply(x, { training: false }) as tf.Tensor).dataSync();
    expect(Array.from(inference)).toEqual(Array.from(stockInference));
  });

  it('holds less memory at the peak of a training step than the model\'s own apply', async () => {
    // activations much larger than the weights, as in training at the paper's size
    const trunk = buildResNet18({ size: 64, channels: 1, width: 4, prefix: 'at2', pool: true });
    const x = tf.randomNormal([6, 64, 64, 1]);
    trunk.apply(x, { training: false }); // builds the weights
    const vars = trunk.trainableWeights.map((v) => v.read() as tf.Variable);
    const peak = async (f: () => tf.Tensor): Promise<number> => (await tf.profile(() => {
      // as the optimiser runs it: the backward pass frees as it goes, so the forward sets the peak
      const { value, grads } = withEarlyRelease(() => tf.variableGrads(() => tf.sum(f()) as tf.Scalar, vars));
      tf.dispose([value, ...Object.values(grads)]);
    })).peakBytes;
    const stock = await peak(() => trunk.apply(x, { training: true }) as tf.Tensor);
    const mine = await peak(() => applyTrunk(trunk, x, true));
    // the stock call keeps every layer's output until it returns; here batch-norm outputs and
    // residual sums go once read
    expect(mine).toBeLessThan(0.8 * stock);
    x.dispose();
  });
});
