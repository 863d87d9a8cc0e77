import { describe, expect, it } from 'vitest';
import { computeMetrics, confusionMatrix, meanStd } from '../src/eval/metrics.js';

describe('confusionMatrix', () => {
  it('counts rows = true, columns = predicted', () => {
    expect(confusionMatrix([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3)).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
  });

  it('rejects mismatched lengths and out-of-range classes', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/yTrue has 2 entries but yPred has 1/);
    expect(() => confusionMatrix([0, 2], [0, 1], 2)).toThrow(/yTrue\[1\] = 2/);
    expect(() => confusionMatrix([0, 1], [0, -1], 2)).toThrow(/yPred\[1\] = -1/);
    expect(() => confusionMatrix([0.5], [0], 2)).toThrow(/yTrue\[0\] = 0.5/);
    expect(() => confusionMatrix([0], [0], 0)).toThrow(/numClasses/);
  });
});

describe('computeMetrics', () => {
  it('matches hand-computed UF1, UAR and accuracy', () => {
    // Confusion [[2,1,0],[0,1,1],[0,0,1]]:
    // F1 = 4/5, 2/4, 2/3; recall = 2/3, 1/2, 1.
    const m = computeMetrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3);
    expect(m.count).toBe(6);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.perClassF1).toEqual([0.8, 0.5, 2 / 3]);
    expect(m.perClassRecall).toEqual([2 / 3, 0.5, 1]);
    expect(m.UF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
    expect(m.UAR).toBeCloseTo((2 / 3 + 0.5 + 1) / 3, 12);
    expect(m.f1).toBe(m.UF1);
  });

  it('leaves a class that never occurs out of UF1 and UAR', () => {
    const three = computeMetrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3);
    const four = computeMetrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 4);
    expect(four.perClassF1[3]).toBeNull();
    expect(four.perClassRecall[3]).toBeNull();
    expect(four.UF1).toBeCloseTo(three.UF1, 12);
    expect(four.UAR).toBeCloseTo(three.UAR, 12);
    expect(four.confusion[3]).toEqual([0, 0, 0, 0]);
  });

  it('scores a class that is predicted but never true as F1 = 0, without recall', () => {
    // Confusion [[1,0,1],[0,1,0],[0,0,0]]: class 2 has FP = 1.
    const m = computeMetrics([0, 0, 1], [0, 2, 1], 3);
    expect(m.perClassF1).toEqual([2 / 3, 1, 0]);
    expect(m.perClassRecall).toEqual([0.5, 1, null]);
    expect(m.UF1).toBeCloseTo(5 / 9, 12);
    expect(m.UAR).toBeCloseTo(0.75, 12);
  });

  it('pools folds: a class absent from one fold counts once pooled', () => {
    const foldA = { t: [0, 0, 1], p: [0, 1, 1] };
    const foldB = { t: [2, 2, 1], p: [2, 0, 1] };
    const a = computeMetrics(foldA.t, foldA.p, 3);
    expect(a.perClassF1[2]).toBeNull();
    expect(a.UF1).toBeCloseTo(2 / 3, 12);
    expect(a.UAR).toBeCloseTo(0.75, 12);
    // Pooled confusion [[1,1,0],[0,2,0],[1,0,1]]: F1 = 1/2, 4/5, 2/3; recall = 1/2, 1, 1/2.
    const pooled = computeMetrics([...foldA.t, ...foldB.t], [...foldA.p, ...foldB.p], 3);
    expect(pooled.confusion).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
    expect(pooled.UF1).toBeCloseTo((0.5 + 0.8 + 2 / 3) / 3, 12);
    expect(pooled.UAR).toBeCloseTo(2 / 3, 12);
    expect(pooled.accuracy).toBeCloseTo(4 / 6, 12);
  });

  it('gives 1 for perfect and 0 for all-wrong predictions', () => {
    const perfect = computeMetrics([0, 1, 2, 2], [0, 1, 2, 2], 3);
    expect([perfect.UF1, perfect.UAR, perfect.accuracy]).toEqual([1, 1, 1]);
    const wrong = computeMetrics([0, 1, 2, 2], [1, 2, 0, 0], 3);
    expect([wrong.UF1, wrong.UAR, wrong.accuracy]).toEqual([0, 0, 0]);
    expect(wrong.perClassF1).toEqual([0, 0, 0]);
  });

  it('rejects empty input', () => {
    expect(() => computeMetrics([], [], 3)).toThrow(/no predictions/);
  });
});

describe('meanStd', () => {
  it('uses the sample standard deviation', () => {
    const r = meanStd([1, 2, 3, 4]);
    expect(r.mean).toBe(2.5);
    expect(r.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
  });
  it('gives std 0 for one value and rejects none', () => {
    expect(meanStd([0.7])).toEqual({ mean: 0.7, std: 0 });
    expect(() => meanStd([])).toThrow(/no values/);
  });
});
