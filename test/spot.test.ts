import { describe, it, expect } from 'vitest';
import { differenceAndContrast, halfWindow, mergePasses, peakIntervals, regionMotion, resolveOverlaps, resolveSpotOptions, spot, threshold, type FlowFn } from '../src/motion/spot.js';

const W = 24, H = 24;

/** Inclusive-frame IoU, as the MEGC metric counts it. */
const iou = (a: { onset: number; offset: number }, b: { onset: number; offset: number }): number => {
  const inter = Math.max(0, Math.min(a.offset, b.offset) - Math.max(a.onset, b.onset) + 1);
  return inter / (a.offset - a.onset + 1 + (b.offset - b.onset + 1) - inter);
};

describe('regionMotion', () => {
  it('is zero for a motion of the whole face, and the mean of the moving cells for a local one', () => {
    const u = new Float32Array(W * H).fill(1.5), v = new Float32Array(W * H).fill(-0.7);
    expect(regionMotion(u, v, W, H, 6, 0.25)).toBeCloseTo(0, 6);
    // one 4x4 cell (of a 6x6 grid on 24x24) moves 0.6 px right and 0.8 px down on top of the head's motion
    for (let y = 8; y < 12; y++) for (let x = 12; x < 16; x++) {
      u[y * W + x] += 0.6;
      v[y * W + x] += 0.8;
    }
    expect(regionMotion(u, v, W, H, 6, 1 / 36)).toBeCloseTo(1, 5); // the top cell alone: |(0.6, 0.8)| = 1
    expect(regionMotion(u, v, W, H, 6, 0.25)).toBeCloseTo(1 / 9, 5); // 9 cells, one moving
  });
});

describe('differenceAndContrast and threshold', () => {
  it('match a hand computation', () => {
    // k = 1; m[j] = motion from j - 1 to j
    const m = [0, 0, 2, 2, 0, 0, 0];
    const { d, c } = differenceAndContrast(m, 1);
    // d[i] = (m[i] + m[i+1]) / 2 for i = 1..5
    expect(Array.from(d)).toEqual([0, 1, 2, 1, 0, 0, 0]);
    // c[i] = max(0, d[i] - (d[i-1] + d[i+1]) / 2), neighbours only where d is defined (1..5)
    expect(Array.from(c)).toEqual([0, 1 - 2, 2 - 1, 1 - 1, 0 - 0.5, 0, 0].map((x) => Math.max(0, x)));
    // over i = 1..5: c = 0, 1, 0, 0, 0 -> mean 0.2, max 1; p = 0.5 -> 0.6
    expect(threshold(c, 1, 0.5)).toBeCloseTo(0.6, 12);
  });

  it('peaks are at least k + 1 apart, strongest first, widened while d holds', () => {
    const d = [0, 1, 3, 4, 3, 1, 0, 0, 0, 0];
    const c = [0, 0, 1, 2, 1.5, 0, 0, 0, 0, 0];
    const got = peakIntervals(d, c, 2, 1, 0.5);
    // peak at 3 (c = 2 >= T = 1); 2 and 4 are within k of it; widened while d >= 2: frames 2..4, the window is 1..5
    expect(got).toEqual([{ onset: 1, apex: 3, offset: 5, strength: 2 }]);
  });

  it('mergePasses: a macro candidate holding two micro candidates replaces them, one holding one gives way, one holding none stands', () => {
    const mi = (onset: number, offset: number) => ({ onset, apex: onset, offset, score: 2, kind: 'micro' as const });
    const ma = (onset: number, offset: number) => ({ onset, apex: onset, offset, score: 1, kind: 'macro' as const });
    const micro = [mi(10, 20), mi(40, 50), mi(100, 110), mi(300, 310)];
    const macro = [ma(5, 55), ma(95, 130), ma(200, 240)];
    expect(mergePasses(micro, macro)).toEqual([ma(5, 55), ma(200, 240), mi(100, 110), mi(300, 310)]);
  });

  it('resolveOverlaps keeps the stronger of two overlapping intervals', () => {
    const a = { onset: 10, apex: 12, offset: 14, score: 3, kind: 'micro' as const };
    const b = { onset: 5, apex: 15, offset: 30, score: 2, kind: 'macro' as const };
    const c = { onset: 40, apex: 45, offset: 50, score: 1.5, kind: 'macro' as const };
    expect(resolveOverlaps([b, c, a])).toEqual([a, c]);
  });
});

describe('spot', () => {
  /**
   * Frames that carry their own displacement field (the flow function reads it exactly), so that the
   * spotting logic is tested apart from the flow: a micro-movement of one region (frames 100-109,
   * 1/3 s at 30 fps), a head movement of the whole face (150-180) and a macro-expression of two
   * regions (200-244, 1.5 s).
   */
  function video(): { frames: Float32Array[]; flow: FlowFn } {
    const n = 300;
    const frames: Float32Array[] = [];
    const fields = new WeakMap<Float32Array, { u: Float32Array; v: Float32Array }>();
    const ramp = (t: number, on: number, off: number): number => {
      if (t < on || t > off) return 0;
      const mid = (on + off) / 2;
      return 1 - Math.abs(t - mid) / ((off - on) / 2 + 1);
    };
    for (let t = 0; t < n; t++) {
      const u = new Float32Array(W * H), v = new Float32Array(W * H);
      const head = 2 * ramp(t, 150, 180);
      const micro = 0.6 * ramp(t, 100, 109);
      const macro = Math.min(1, 2 * ramp(t, 200, 244));
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        const i = y * W + x;
        u[i] = head;
        if (y >= 16 && x >= 4 && x < 12) v[i] += micro; // a mouth corner
        if (y < 8) v[i] -= 1.5 * macro; // brows
        if (y >= 16) u[i] += 1.5 * macro;
      }
      const frame = new Float32Array(W * H).fill(t); // the pixels do not matter: the flow is read from `fields`
      fields.set(frame, { u, v });
      frames.push(frame);
    }
    const flow: FlowFn = (a, b) => {
      const fa = fields.get(a)!, fb = fields.get(b)!;
      return { u: fb.u.map((x, i) => x - fa.u[i]), v: fb.v.map((x, i) => x - fa.v[i]) };
    };
    return { frames, flow };
  }

  it('finds a micro and a macro movement where they are, with their kinds, and not the head movement', () => {
    const { frames, flow } = video();
    const r = spot(frames, W, H, flow, { fps: 30 });
    const micro = r.intervals.filter((i) => i.kind === 'micro');
    const macro = r.intervals.filter((i) => i.kind === 'macro');
    expect(micro.some((i) => iou(i, { onset: 100, offset: 109 }) >= 0.5), JSON.stringify(r.intervals)).toBe(true);
    expect(macro.some((i) => iou(i, { onset: 200, offset: 244 }) >= 0.5), JSON.stringify(r.intervals)).toBe(true);
    expect(r.intervals.some((i) => i.onset <= 180 && i.offset >= 150), JSON.stringify(r.intervals)).toBe(false);
    for (const i of r.intervals) {
      expect(i.onset).toBeLessThanOrEqual(i.apex);
      expect(i.apex).toBeLessThanOrEqual(i.offset);
      expect((i.offset - i.onset + 1) / 30 <= 0.5).toBe(i.kind === 'micro');
    }
    expect(r.score).toHaveLength(300);
    expect(r.passes.map((p) => p.k)).toEqual([halfWindow(0.3, 30), halfWindow(1, 30)]);
  });

  it('checks its options and frames, quoting the bad value', () => {
    expect(() => resolveSpotOptions({ fps: 0 })).toThrow('spot option fps is 0: expected a positive number of frames per second');
    expect(() => resolveSpotOptions({ fps: 30, p: 2 })).toThrow('spot option p is 2: expected a number from 0 to 1');
    expect(() => resolveSpotOptions({ fps: 30, macroWindow: 0.2 })).toThrow('spot option macroWindow is 0.2: expected more seconds than microWindow (0.3)');
    expect(() => spot([new Float32Array(3)], 2, 2, () => ({ u: new Float32Array(4), v: new Float32Array(4) }), { fps: 30 })).toThrow('spot: frame 0 has 3 values, expected 2x2 = 4');
  });
});
