import { describe, expect, it } from 'vitest';
import { formatReport, median, pairRatio, summarizePairs, type AgainstTorchReport, type Pair } from '../src/cli/bench-torch.js';

const pair = (t: number, m: number, tf: number | null = null, mf: number | null = null): Pair => ({
  torch: { trainStepMs: t, finetuneStepMs: tf },
  mimanet: { trainStepMs: m, finetuneStepMs: mf },
});

describe('interleaved PyTorch / mimanet pairs', () => {
  it('takes the median of odd and even counts, and null of none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it('divides within each pair, then summarises the ratios (not the ratio of the medians)', () => {
    // side medians 200 / 400 would say 2x; the pairs say 1.5x, 1.5x, 3x, 2x, 0.5x
    const pairs = [pair(100, 150), pair(200, 300), pair(150, 450), pair(300, 600), pair(800, 400)];
    const s = summarizePairs(pairs, 'trainStepMs');
    expect(s.ratios).toEqual([1.5, 1.5, 3, 2, 0.5]);
    expect(s.median).toBe(1.5);
    expect(s.min).toBe(0.5);
    expect(s.max).toBe(3);
    expect(s.torchMedian).toBe(200);
    expect(s.mimanetMedian).toBe(400);
  });

  it('leaves out pairs where a side has no figure, and gives null when none has', () => {
    expect(pairRatio(pair(100, 200, null, 5), 'finetuneStepMs')).toBeNull();
    expect(pairRatio(pair(0, 200), 'trainStepMs')).toBeNull();
    const s = summarizePairs([pair(1, 1, 10, 20), pair(1, 1, null, 30), pair(1, 1, 10, 40)], 'finetuneStepMs');
    expect(s.ratios).toEqual([2, null, 4]);
    expect(s.median).toBe(3);
    expect(summarizePairs([pair(1, 1)], 'forwardMs').median).toBeNull();
  });

  it('prints each pair and the medians as a table row', () => {
    const pairs = [pair(100, 150), pair(200, 100)];
    const report = {
      date: '2026-01-01T00:00:00.000Z',
      args: {},
      loadBefore: [0.1, 0.2, 0.3],
      loadAfter: [0.4, 0.5, 0.6],
      torchVersion: '1.13',
      pairs,
      summary: Object.fromEntries(['trainStepMs', 'forwardMs', 'finetuneStepMs', 'peakRssMb'].map((m) => [m, summarizePairs(pairs, m as 'trainStepMs')])),
    } as unknown as AgainstTorchReport;
    const text = formatReport(report);
    expect(text).toContain('before: 0.1, 0.2, 0.3; after: 0.4, 0.5, 0.6');
    expect(text).toContain('| train step (ms) | 100.0 / 150.0 = 1.50x | 200.0 / 100.0 = 0.50x | 150.0 | 125.0 | 1.00x | 0.50x - 1.50x |');
    expect(text).not.toContain('forward');
  });
});
