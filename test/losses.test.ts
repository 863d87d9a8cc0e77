import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { contrastiveLoss, domainLoss, expressionLoss, samplingLoss, parseLosses, variantName, PAPER_VARIANTS } from '../src/model/losses.js';
import { useCpu, numTensors } from './helpers.js';

beforeAll(useCpu);

/** Eq. 5-7 written out with plain loops, independent of the tensor implementation. */
function supconByHand(zi: number[][], yi: number[], za: number[][], ya: number[], tau: number, keepSelf = true): { sum: number; mean: number } {
  const norm = (v: number[]): number[] => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const a = zi.map(norm);
  const b = za.map(norm);
  const dot = (p: number[], q: number[]): number => p.reduce((s, x, i) => s + x * q[i], 0);
  let sum = 0;
  const means: number[] = [];
  for (let j = 0; j < a.length; j++) {
    let D = 0;
    a.forEach((u, k) => {
      if (keepSelf || k !== j) D += Math.exp(dot(a[j], u) / tau); // Eq. 7 as written includes u = j
    });
    for (const u of b) D += Math.exp(dot(a[j], u) / tau);
    let s = 0;
    let c = 0;
    a.forEach((u, k) => {
      if (k !== j && yi[k] === yi[j]) {
        s += Math.log(Math.exp(dot(a[j], u) / tau) / D);
        c++;
      }
    });
    b.forEach((u, k) => {
      if (ya[k] === yi[j]) {
        s += Math.log(Math.exp(dot(a[j], u) / tau) / D);
        c++;
      }
    });
    sum += s;
    if (c > 0) means.push(s / c);
  }
  return { sum: -sum, mean: -means.reduce((x, y) => x + y, 0) / means.length };
}

describe('L_con (Eq. 5-7)', () => {
  const zi = [[1, 0], [0.9, 0.1], [0, 1]];
  const yi = [0, 0, 1];
  const za = [[1, 0.2], [0.1, 1]];
  const ya = [0, 1];

  it('matches the equations computed by hand (sum and mean forms)', () => {
    // Values of the same example computed independently in double precision (Python):
    // sum = 5.7729810909665575, mean = 1.116170969645248.
    const s = contrastiveLoss(tf.tensor2d(zi), yi, tf.tensor2d(za), ya, 0.5, 'sum');
    const m = contrastiveLoss(tf.tensor2d(zi), yi, tf.tensor2d(za), ya, 0.5, 'mean');
    expect(s.dataSync()[0]).toBeCloseTo(5.7729810909665575, 4);
    expect(m.dataSync()[0]).toBeCloseTo(1.116170969645248, 4);
    const byHand = supconByHand(zi, yi, za, ya, 0.5);
    expect(s.dataSync()[0]).toBeCloseTo(byHand.sum, 4);
    expect(m.dataSync()[0]).toBeCloseTo(byHand.mean, 4);
  });

  it('agrees with the hand computation on random features, macro classes without counterpart excluded', () => {
    const rnd = (r: number, c: number, seed: number): number[][] => Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => Math.sin(seed * 13.1 + i * 7.3 + j * 3.7)));
    const a = rnd(6, 5, 1);
    const b = rnd(6, 5, 2);
    const la = [0, 1, 2, 0, 1, 1];
    const lb = [0, -1, 2, 2, -1, 1];
    const hand = supconByHand(a, la, b, lb, 0.1);
    expect(contrastiveLoss(tf.tensor2d(a), la, tf.tensor2d(b), lb, 0.1, 'sum').dataSync()[0]).toBeCloseTo(hand.sum, 2);
    expect(contrastiveLoss(tf.tensor2d(a), la, tf.tensor2d(b), lb, 0.1, 'mean').dataSync()[0]).toBeCloseTo(hand.mean, 3);
  });

  it('the supcon denominator leaves u = j out of D^j, and is smaller than Eq. 7 by exactly that term', () => {
    const a = [[1, 0.3], [0.8, 0.2], [0.1, 1], [0.5, -0.4]];
    const la = [0, 0, 1, 1];
    const b = [[1, 0.1], [0, 1]];
    const lb = [0, 1];
    const hand = supconByHand(a, la, b, lb, 0.2, false);
    const sum = contrastiveLoss(tf.tensor2d(a), la, tf.tensor2d(b), lb, 0.2, 'sum', 'supcon').dataSync()[0];
    const mean = contrastiveLoss(tf.tensor2d(a), la, tf.tensor2d(b), lb, 0.2, 'mean', 'supcon').dataSync()[0];
    expect(sum).toBeCloseTo(hand.sum, 4);
    expect(mean).toBeCloseTo(hand.mean, 4);
    // with u = j kept every denominator grows by e^(1/tau), so every log-ratio falls and the loss rises
    const eq7 = contrastiveLoss(tf.tensor2d(a), la, tf.tensor2d(b), lb, 0.2, 'sum', 'eq7').dataSync()[0];
    expect(eq7).toBeCloseTo(supconByHand(a, la, b, lb, 0.2, true).sum, 4);
    expect(eq7).toBeGreaterThan(sum);
  });

  it('is zero when no anchor has a positive (mean form) and rejects bad arguments', () => {
    const z = tf.tensor2d([[1, 0], [0, 1]]);
    expect(contrastiveLoss(z, [0, 1], z, [-1, -1], 0.5, 'mean').dataSync()[0]).toBe(0);
    expect(() => contrastiveLoss(z, [0], z, [0, 1], 0.5)).toThrow(/1 micro labels for 2/);
    expect(() => contrastiveLoss(z, [0, 1], z, [0, 1], 0)).toThrow(/tau must be > 0, got 0/);
  });

  it('pulls same-class features together: the loss falls when positives align', () => {
    const near = contrastiveLoss(tf.tensor2d([[1, 0], [0.99, 0.1]]), [0, 0], tf.tensor2d([[1, 0.05], [-1, 0]]), [0, 1], 0.5).dataSync()[0];
    const far = contrastiveLoss(tf.tensor2d([[1, 0], [-0.99, 0.1]]), [0, 0], tf.tensor2d([[-1, 0.05], [1, 0]]), [0, 1], 0.5).dataSync()[0];
    expect(near).toBeLessThan(far);
  });
});

describe('L_c, L_s, L_t, L_sam (Eq. 1-4)', () => {
  it('L_c is the mean cross entropy', () => {
    const logits = [[2, 0, -1], [0, 0, 0]];
    const lse = (r: number[]): number => Math.log(r.reduce((s, x) => s + Math.exp(x), 0));
    const expected = ((lse(logits[0]) - 2) + (lse(logits[1]) - 0)) / 2;
    expect(expressionLoss(tf.tensor2d(logits), [0, 2]).dataSync()[0]).toBeCloseTo(expected, 5);
  });

  it('domain loss is binary cross entropy of the logit with d = 1 for macro', () => {
    const sig = (x: number): number => 1 / (1 + Math.exp(-x));
    const x = [0.3, -1.2, 2.0, 0];
    const d = [0, 0, 1, 1];
    const expected = -x.reduce((s, xi, i) => s + d[i] * Math.log(sig(xi)) + (1 - d[i]) * Math.log(1 - sig(xi)), 0) / x.length;
    expect(domainLoss(tf.tensor2d(x, [4, 1]), d).dataSync()[0]).toBeCloseTo(expected, 5);
  });

  it('L_sam targets interval index k for the k-th logits and averages over intervals', () => {
    const l0 = [[3, 0, 0], [1, 1, 1]];
    const l1 = [[0, 2, 0], [0, 0, 5]];
    const ce = (r: number[], t: number): number => Math.log(r.reduce((s, x) => s + Math.exp(x), 0)) - r[t];
    const expected = ((ce(l0[0], 0) + ce(l0[1], 0)) / 2 + (ce(l1[0], 1) + ce(l1[1], 1)) / 2) / 2;
    expect(samplingLoss([tf.tensor2d(l0), tf.tensor2d(l1)]).dataSync()[0]).toBeCloseTo(expected, 5);
  });

  it('leaves no tensors behind', () => {
    const before = numTensors();
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const l = contrastiveLoss(a, [0, 0], a, [0, 1], 0.3);
    const c = expressionLoss(a, [0, 1]);
    tf.dispose([a, l, c]);
    expect(numTensors()).toBe(before);
  });
});

describe('loss names', () => {
  it('parses ablation rows and rejects unknown names with the bad value quoted', () => {
    expect(parseLosses('c,s,sam,t,con')).toEqual(['c', 's', 'sam', 't', 'con']);
    expect(parseLosses('con, c')).toEqual(['c', 'con']);
    expect(parseLosses(['L_c', 'L_sam'])).toEqual(['c', 'sam']);
    expect(() => parseLosses('c,adv')).toThrow(/unknown loss "adv"/);
    expect(() => parseLosses('s,t')).toThrow(/must include "c"/);
    expect(PAPER_VARIANTS.map(variantName)).toEqual([
      'L_c',
      'L_c + L_s',
      'L_c + L_sam + L_t',
      'L_c + L_s + L_sam + L_t',
      'L_c + L_con',
      'L_c + L_s + L_sam + L_t + L_con',
    ]);
  });
});
