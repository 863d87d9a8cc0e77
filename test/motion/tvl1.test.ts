import { describe, expect, it } from 'vitest';
import { opticalFlow, nativeFlowAvailable } from '../../src/motion/flow.js';
import { DEFAULT_TVL1_PARAMS, pyramidSizes, resolveTvl1Params, tvl1FlowTs, type FlowField } from '../../src/motion/tvl1.js';
import { endpointErrors, knownMotionPair, median, standardPairs } from '../../src/motion/pairs.js';

const native = nativeFlowAvailable();
if (!native.available) console.warn(`TV-L1 native tests skipped: ${native.why}`);

/** Mean of u and v over the pixels at least `margin` from the border. */
function meanFlow(f: FlowField, margin: number): [number, number] {
  let su = 0, sv = 0, n = 0;
  for (let y = margin; y < f.height - margin; y++) {
    for (let x = margin; x < f.width - margin; x++) {
      su += f.u[y * f.width + x];
      sv += f.v[y * f.width + x];
      n++;
    }
  }
  return [su / n, sv / n];
}

function quantile(xs: ArrayLike<number>, q: number): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  return s[Math.floor(q * (s.length - 1))];
}

describe('TV-L1 known answers', () => {
  const pair = knownMotionPair({ kind: 'translation', dx: 1.5, dy: -0.7 }, 1);

  for (const impl of ['ts', 'native'] as const) {
    it.skipIf(impl === 'native' && !native.available)(`${impl}: a translation of (1.5, -0.7) px is recovered within 0.05 px in the interior`, () => {
      const f = opticalFlow(pair.i0, pair.i1, pair.width, pair.height, {}, { implementation: impl });
      const e = endpointErrors(f, pair.truth, 8);
      // 99% of the pixels 8 px or more from the border within 0.05 px, and the mean flow within 0.01 px
      expect(quantile(e, 0.99)).toBeLessThan(0.05);
      const [mu, mv] = meanFlow(f, 8);
      expect(Math.abs(mu - 1.5)).toBeLessThan(0.01);
      expect(Math.abs(mv + 0.7)).toBeLessThan(0.01);
    });

    it.skipIf(impl === 'native' && !native.available)(`${impl}: identical images give |flow| < 0.02 px everywhere`, () => {
      const f = opticalFlow(pair.i0, pair.i0.slice(), pair.width, pair.height, {}, { implementation: impl });
      let max = 0;
      for (let i = 0; i < f.u.length; i++) max = Math.max(max, Math.hypot(f.u[i], f.v[i]));
      expect(max).toBeLessThan(0.02);
    });
  }

  it('a displacement bump of a pixel (a mouth corner) is found where it is, its top flattened a little by TV, and nowhere else', () => {
    const bump = knownMotionPair({ kind: 'bumps', bumps: [{ cx: 80, cy: 60, dx: 1, dy: -0.5, sigma: 9 }] }, 4);
    const f = opticalFlow(bump.i0, bump.i1, 128, 128);
    const at = 60 * 128 + 80;
    expect(Math.hypot(f.u[at] - 1, f.v[at] + 0.5)).toBeLessThan(0.25);
    expect(f.u[at] / Math.hypot(f.u[at], f.v[at])).toBeCloseTo(1 / Math.hypot(1, 0.5), 1); // direction
    expect(Math.hypot(f.u[100 * 128 + 20], f.v[100 * 128 + 20])).toBeLessThan(0.01);
  });
});

describe.skipIf(!native.available)('TV-L1: native and TypeScript implementations', () => {
  it('agree within 1e-3 px on every test pair (they run the same arithmetic: in fact to the bit)', () => {
    let worst = 0;
    for (const p of standardPairs()) {
      const pair = knownMotionPair(p.motion, p.seed);
      const a = opticalFlow(pair.i0, pair.i1, pair.width, pair.height, {}, { implementation: 'ts' });
      const b = opticalFlow(pair.i0, pair.i1, pair.width, pair.height, {}, { implementation: 'native', threads: 2 });
      let d = 0;
      for (let i = 0; i < a.u.length; i++) d = Math.max(d, Math.abs(a.u[i] - b.u[i]), Math.abs(a.v[i] - b.v[i]));
      expect(d, p.name).toBeLessThanOrEqual(1e-3);
      worst = Math.max(worst, d);
      // and the flow is a real answer, not two copies of the same mistake
      expect(median(endpointErrors(b, pair.truth)), p.name).toBeLessThan(0.05);
    }
    expect(worst).toBe(0);
  });

  it('agree with other parameters too (IPOL scale step 0.5, no median filter, odd sizes)', () => {
    const pair = knownMotionPair({ kind: 'rotation', degrees: 2 }, 11, 77, 61);
    const params = { scaleStep: 0.5, medianFiltering: 1, warps: 3, lambda: 0.1 };
    const a = tvl1FlowTs(pair.i0, pair.i1, 77, 61, params);
    const b = opticalFlow(pair.i0, pair.i1, 77, 61, params, { implementation: 'native' });
    expect(Array.from(b.u)).toEqual(Array.from(a.u));
    expect(Array.from(b.v)).toEqual(Array.from(a.v));
  });

  it('give the same flow for any thread count', () => {
    const pair = knownMotionPair({ kind: 'zoom', factor: 1.03 }, 5);
    const one = opticalFlow(pair.i0, pair.i1, 128, 128, {}, { implementation: 'native', threads: 1 });
    for (const threads of [2, 3, 7]) {
      const f = opticalFlow(pair.i0, pair.i1, 128, 128, {}, { implementation: 'native', threads });
      expect(Array.from(f.u)).toEqual(Array.from(one.u));
      expect(Array.from(f.v)).toEqual(Array.from(one.v));
    }
  });
});

describe('TV-L1 parameters', () => {
  it('default to OpenCV DualTVL1 values', () => {
    expect(resolveTvl1Params()).toEqual({ tau: 0.25, lambda: 0.15, theta: 0.3, scales: 5, warps: 5, epsilon: 0.01, innerIterations: 30, outerIterations: 10, scaleStep: 0.8, medianFiltering: 5 });
    expect(DEFAULT_TVL1_PARAMS.scaleStep).toBe(0.8);
  });

  it('build the pyramid by rounding each side x scaleStep and stop before a level under 16 px', () => {
    expect(pyramidSizes(128, 128, { scales: 5, scaleStep: 0.8 })).toEqual([[128, 128], [102, 102], [82, 82], [66, 66], [53, 53]]);
    expect(pyramidSizes(32, 40, { scales: 5, scaleStep: 0.8 })).toEqual([[32, 40], [26, 32], [21, 26], [17, 21]]);
    expect(pyramidSizes(128, 96, { scales: 10, scaleStep: 0.5 })).toEqual([[128, 96], [64, 48], [32, 24]]);
  });

  it('refuse bad values, naming the field and quoting the value', () => {
    expect(() => resolveTvl1Params({ tau: 0.5 })).toThrow('TV-L1 parameters: tau is 0.5, expected a number in (0, 0.25]');
    expect(() => resolveTvl1Params({ medianFiltering: 4 })).toThrow('medianFiltering is 4, expected an odd side (1 = off)');
    expect(() => resolveTvl1Params({ warps: 2.5 })).toThrow('warps is 2.5, expected an integer in [1, 1000]');
    expect(() => resolveTvl1Params({ lamda: 0.1 } as never)).toThrow('unknown field "lamda"');
    expect(() => opticalFlow(new Uint8Array(10), new Uint8Array(12), 4, 3)).toThrow('the first image has 10 pixels, expected 4x3 = 12');
    expect(() => opticalFlow(new Uint8Array(12), new Uint8Array(12), 4, 3, {}, { threads: 0 })).toThrow('threads is 0, expected an integer in [1, 256]');
  });
});
