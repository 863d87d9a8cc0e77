import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  DEFAULT_SYNTHETIC_CONFIG,
  MACRO_LABELS,
  MICRO_LABELS,
  NEGATIVE_EMOTIONS,
  allocateMicroLabels,
  classCounts,
  generateSynthetic,
  validateSyntheticConfig,
  type SyntheticConfigInput,
  FACE_LAYOUT,
} from '../src/data/synthetic/index.js';
import { Rng } from '../src/util/rng.js';
import { type ClipSet, clipBytes } from '../src/data/types.js';

/** No sensor noise, flicker or tremor: pixel changes come from the expression alone. */
const CLEAN: SyntheticConfigInput = {
  micro: { noise: 0, flicker: 0, jitter: 0 },
  macro: { noise: 0, flicker: 0, jitter: 0 },
};

function frameOf(set: ClipSet, clip: number, t: number): Uint8Array {
  const n = set.height * set.width * set.channels;
  return set.clips[clip].frames.subarray(t * n, (t + 1) * n);
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/**
 * Mean |apex - first| over pixels whose centre lies in a box of face coordinates
 * (frame = [-1, 1]^2, y down); `mirror` takes |x| so the box covers both sides.
 */
function regionChange(set: ClipSet, clip: number, box: { x: [number, number]; y: [number, number] }, mirror = true): number {
  const { width: W, height: H, channels: C, frames: T } = set;
  const a = frameOf(set, clip, 0);
  const b = frameOf(set, clip, T - 1);
  let s = 0;
  let k = 0;
  for (let j = 0; j < H; j++) {
    const v = ((j + 0.5) / H) * 2 - 1;
    if (v < box.y[0] || v > box.y[1]) continue;
    for (let i = 0; i < W; i++) {
      const u0 = ((i + 0.5) / W) * 2 - 1;
      const u = mirror ? Math.abs(u0) : u0;
      if (u < box.x[0] || u > box.x[1]) continue;
      for (let c = 0; c < C; c++) {
        const p = (j * W + i) * C + c;
        s += Math.abs(b[p] - a[p]);
        k++;
      }
    }
  }
  return s / k;
}

const L = FACE_LAYOUT;
const REGIONS = {
  brows: { x: [0, 0.5], y: [L.browY - 0.15, L.browY + 0.07] },
  mouthCorners: { x: [0.1, 0.4], y: [L.mouthY - 0.15, L.mouthY + 0.12] },
  nose: { x: [0, 0.1], y: [L.eyeY + 0.02, L.noseY + 0.05] },
  chin: { x: [0, 0.12], y: [L.mouthY, L.mouthY + 0.3] },
} satisfies Record<string, { x: [number, number]; y: [number, number] }>;

function meanRegion(set: ClipSet, label: string, region: keyof typeof REGIONS): number {
  const idx = set.clips.map((c, i) => (set.labels[c.label] === label ? i : -1)).filter((i) => i >= 0);
  expect(idx.length).toBeGreaterThan(0);
  return idx.reduce((s, i) => s + regionChange(set, i, REGIONS[region]), 0) / idx.length;
}

function appearance(set: ClipSet): { mean: number; std: number } {
  // Pooled over the first frames: brightness and contrast of the camera, not the expression.
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (let c = 0; c < set.clips.length; c++) {
    for (const v of frameOf(set, c, 0)) {
      s += v;
      s2 += v * v;
      n++;
    }
  }
  const mean = s / n;
  return { mean, std: Math.sqrt(s2 / n - mean * mean) };
}

describe('generateSynthetic: determinism', () => {
  const small: SyntheticConfigInput = { micro: { subjectsPerSource: 2, clipsPerSubject: 3 }, macro: { subjects: 3 } };

  it('same seed gives identical clips, another seed different pixels', () => {
    const a = generateSynthetic({ ...small, seed: 7 });
    const b = generateSynthetic({ ...small, seed: 7 });
    const c = generateSynthetic({ ...small, seed: 8 });
    for (const key of ['micro', 'macro'] as const) {
      expect(b[key].clips.map((x) => [x.id, x.subject, x.label])).toEqual(a[key].clips.map((x) => [x.id, x.subject, x.label]));
      a[key].clips.forEach((clip, i) => expect(Buffer.compare(Buffer.from(clip.frames), Buffer.from(b[key].clips[i].frames))).toBe(0));
      let differing = 0;
      a[key].clips.forEach((clip, i) => {
        if (Buffer.compare(Buffer.from(clip.frames), Buffer.from(c[key].clips[i].frames)) !== 0) differing++;
      });
      expect(differing).toBe(a[key].clips.length);
    }
    expect(b.microEmotions).toEqual(a.microEmotions);
  });

  it('clips are byte for byte what they were before the camera and the face model served long videos too', () => {
    // RGB, blur, a seeded fourth source: every branch of the camera; the hash was taken at commit 6d2819a
    const d = generateSynthetic({ seed: 11, size: 24, frames: 5, channels: 3, micro: { sources: 4, subjectsPerSource: 2, clipsPerSubject: 3 }, macro: { subjects: 3, clipsPerSubject: 7 } });
    const h = createHash('sha256');
    for (const set of [d.micro, d.macro]) {
      for (const c of set.clips) {
        h.update(c.id);
        h.update(String(c.label));
        h.update(c.frames);
      }
    }
    expect(h.digest('hex')).toBe('9807ca3dd9605b4456952268e30b7f372884b66332b4259a13d9f754601ac37e');
  });

  it('the appearance gap changes only the macro set', () => {
    const a = generateSynthetic({ ...small, gap: 0 });
    const b = generateSynthetic({ ...small, gap: 1 });
    a.micro.clips.forEach((clip, i) => expect(Buffer.compare(Buffer.from(clip.frames), Buffer.from(b.micro.clips[i].frames))).toBe(0));
    expect(meanAbsDiff(a.macro.clips[0].frames, b.macro.clips[0].frames)).toBeGreaterThan(5);
  });
});

describe('generateSynthetic: structure', () => {
  const cfg: SyntheticConfigInput = {
    seed: 3,
    size: 24,
    frames: 5,
    micro: { sources: 2, subjectsPerSource: 3, clipsPerSubject: 5 },
    macro: { subjects: 5, clipsPerSubject: 9 },
  };
  const d = generateSynthetic(cfg);

  it('clip, subject and class counts follow the config', () => {
    expect(d.micro.clips).toHaveLength(30);
    expect(d.macro.clips).toHaveLength(45);
    expect(d.micro.labels).toEqual(['negative', 'positive', 'surprise']);
    expect(d.macro.labels).toEqual(['anger', 'contempt', 'disgust', 'fear', 'happiness', 'sadness', 'surprise']);
    expect(new Set(d.micro.clips.map((c) => c.subject)).size).toBe(6);
    expect(new Set(d.macro.clips.map((c) => c.subject)).size).toBe(5);
    expect([...new Set(d.micro.clips.map((c) => c.source))]).toEqual(['synth-smic', 'synth-casme2']);
    // 30 clips at 250:109:83 -> 16.97, 7.40, 5.63; largest remainders give 17, 7, 6.
    const counts = [0, 0, 0];
    for (const c of d.micro.clips) counts[c.label]++;
    expect(counts).toEqual([17, 7, 6]);
    // Nine clips per macro subject: all seven classes, two of them twice.
    for (const s of new Set(d.macro.clips.map((c) => c.subject))) {
      const labels = d.macro.clips.filter((c) => c.subject === s).map((c) => c.label);
      expect(new Set(labels).size).toBe(7);
    }
  });

  it('geometry, ids and subject prefixes', () => {
    for (const set of [d.micro, d.macro]) {
      expect([set.frames, set.height, set.width, set.channels]).toEqual([5, 24, 24, 1]);
      expect(new Set(set.clips.map((c) => c.id)).size).toBe(set.clips.length);
      for (const c of set.clips) {
        expect(c.frames).toBeInstanceOf(Uint8Array);
        expect(c.frames.length).toBe(clipBytes(set));
        expect(c.subject.startsWith(`${c.source}/`)).toBe(true);
        expect(c.id.startsWith(`${c.subject}_`)).toBe(true);
        expect(c.label).toBeGreaterThanOrEqual(0);
        expect(c.label).toBeLessThan(set.labels.length);
      }
    }
    expect(d.micro.clips[0].subject).toBe('synth-smic/s01');
    expect(d.macro.clips[0].subject).toBe('synth-macro/m001');
    const ids = new Set([...d.micro.clips, ...d.macro.clips].map((c) => c.subject));
    expect(ids.size).toBe(11);
  });

  it('RGB at 64x64 with T = 16', () => {
    const r = generateSynthetic({ size: 64, frames: 16, channels: 3, micro: { subjectsPerSource: 1, clipsPerSubject: 2 }, macro: { subjects: 1, clipsPerSubject: 2 } });
    expect(r.micro.clips[0].frames.length).toBe(16 * 64 * 64 * 3);
    expect(r.macro.channels).toBe(3);
  });

  it('the label map sends each macro emotion to its micro class', () => {
    expect(d.macroToMicro).toHaveLength(MACRO_LABELS.length);
    MACRO_LABELS.forEach((name, i) => {
      const expected = name === 'happiness' ? 'positive' : name === 'surprise' ? 'surprise' : 'negative';
      expect(MICRO_LABELS[d.macroToMicro[i]]).toBe(expected);
      expect(NEGATIVE_EMOTIONS.includes(name)).toBe(expected === 'negative');
    });
    expect(d.macroToMicro).toEqual([0, 0, 0, 0, 1, 0, 2]);
  });
});

describe('generateSynthetic: micro composite', () => {
  it('a small set: CDE-like imbalance, heterogeneous negative class, LOSO folds keep every class', () => {
    for (const seed of [1, 2, 3]) {
      const d = generateSynthetic({ seed, micro: { subjectsPerSource: 4, clipsPerSubject: 6 }, macro: { subjects: 1 } });
      const clips = d.micro.clips;
      expect(clips).toHaveLength(72);
      const share = [0, 1, 2].map((k) => clips.filter((c) => c.label === k).length / clips.length);
      expect(share[0]).toBeCloseTo(250 / 442, 1);
      expect(share[1]).toBeCloseTo(109 / 442, 1);
      expect(share[2]).toBeCloseTo(83 / 442, 1);

      const subjects = [...new Set(clips.map((c) => c.subject))];
      expect(subjects).toHaveLength(12);
      for (const s of subjects) {
        expect(new Set(clips.filter((c) => c.subject === s).map((c) => c.label)).size).toBeGreaterThan(1);
        const rest = new Set(clips.filter((c) => c.subject !== s).map((c) => c.label));
        expect(rest.size).toBe(3);
      }
      for (const k of [0, 1, 2]) {
        expect(new Set(clips.filter((c) => c.label === k).map((c) => c.subject)).size).toBeGreaterThanOrEqual(3);
      }

      d.microEmotions.forEach((e, i) => {
        const label = MICRO_LABELS[clips[i].label];
        if (label === 'positive') expect(e).toBe('happiness');
        else if (label === 'surprise') expect(e).toBe('surprise');
        else expect(NEGATIVE_EMOTIONS).toContain(e);
      });
      const negatives = new Set(d.microEmotions.filter((_, i) => clips[i].label === 0));
      expect(negatives.size).toBeGreaterThanOrEqual(4);
    }
  });

  it('class counts by largest remainder', () => {
    // 30 * 250/442 = 16.97, 30 * 109/442 = 7.40, 30 * 83/442 = 5.63.
    expect(classCounts(30, [250, 109, 83])).toEqual([17, 7, 6]);
    // 2 clips at 0.9 : 0.1 : 0 -> 1.8 / 0.2 / 0 -> [2, 0, 0], then the positive share gets its clip.
    expect(classCounts(2, [0.9, 0.1, 0])).toEqual([1, 1, 0]);
  });

  it('label allocation: two classes per subject, all classes over several subjects, even when the shares do not fit', () => {
    for (let seed = 0; seed < 30; seed++) {
      for (const [S, n] of [
        [6, 2],
        [4, 2],
        [5, 3],
        [12, 6],
        [3, 10],
      ]) {
        const subj = allocateMicroLabels(S, n, [250, 109, 83], new Rng(seed));
        expect(subj).toHaveLength(S);
        for (const xs of subj) {
          expect(xs).toHaveLength(n);
          expect(new Set(xs).size).toBeGreaterThanOrEqual(2);
        }
        const counts = [0, 1, 2].map((k) => subj.flat().filter((x) => x === k).length);
        for (const k of [0, 1, 2]) {
          expect(subj.filter((xs) => xs.includes(k)).length).toBeGreaterThanOrEqual(Math.min(3, S, counts[k]));
          expect(counts[k]).toBeGreaterThanOrEqual(2);
        }
        // Largest class capped at S * (n - 1): 4 x 2 at the CDE shares would be 5 negatives.
        if (S === 4 && n === 2) expect(subj.flat().filter((x) => x === 0)).toHaveLength(4);
      }
    }
    expect(() => allocateMicroLabels(3, 2, [1, 0, 0], new Rng(1))).toThrow(/leave one class/);
  });

  it('sources differ in appearance: a grey camera and a colour one', () => {
    const d = generateSynthetic({ channels: 3, micro: { subjectsPerSource: 2, clipsPerSubject: 2 }, macro: { subjects: 1, clipsPerSubject: 1 } });
    const redMinusGreen = (source: string) => {
      let s = 0;
      let n = 0;
      for (const c of d.micro.clips.filter((x) => x.source === source)) {
        for (let p = 0; p < c.frames.length; p += 3) {
          s += c.frames[p] - c.frames[p + 1];
          n++;
        }
      }
      return s / n;
    };
    expect(Math.abs(redMinusGreen('synth-samm'))).toBeLessThan(1);
    expect(redMinusGreen('synth-casme2')).toBeGreaterThan(8);
  });
});

describe('generateSynthetic: motion', () => {
  const d = generateSynthetic({ seed: 5 });
  const clean = generateSynthetic({ ...CLEAN, seed: 5 });

  function meanApexChange(set: ClipSet): number {
    return set.clips.reduce((s, _, i) => s + meanAbsDiff(frameOf(set, i, set.frames - 1), frameOf(set, i, 0)), 0) / set.clips.length;
  }

  it('macro apex frames move further from onset than micro ones (intensity)', () => {
    // amplitudes 1.0 against 0.5; rendering is not linear in amplitude, so the pixel change ratio is smaller
    expect(meanApexChange(clean.macro)).toBeGreaterThan(1.25 * meanApexChange(clean.micro));
    // Without noise, a micro expression is still visible at 32x32 thanks to anti-aliasing.
    expect(meanApexChange(clean.micro)).toBeGreaterThan(0.1);
    // With default noise and tremor: subtract a control whose expressions are switched off. Intensity
    // only scales AU weights, so the control draws the same noise and jitter for every clip.
    const off = generateSynthetic({ seed: 5, micro: { intensity: 1e-9 }, macro: { intensity: 1e-9 } });
    const microSignal = meanApexChange(d.micro) - meanApexChange(off.micro);
    const macroSignal = meanApexChange(d.macro) - meanApexChange(off.macro);
    expect(microSignal).toBeGreaterThan(0.05);
    expect(macroSignal).toBeGreaterThan(1.25 * microSignal);
  });

  it('distance from the first frame grows towards the apex', () => {
    for (const set of [clean.micro, clean.macro]) {
      const T = set.frames;
      const curve = new Array(T).fill(0);
      set.clips.forEach((_, i) => {
        const dist = Array.from({ length: T }, (_, t) => meanAbsDiff(frameOf(set, i, t), frameOf(set, i, 0)));
        // Per clip: no frame is much further from the onset than the apex.
        for (let t = 0; t < T; t++) expect(dist[t]).toBeLessThanOrEqual(dist[T - 1] + 0.05);
        dist.forEach((v, t) => (curve[t] += v / set.clips.length));
      });
      // Macro clips hold the apex once their (faster) ramp ends, so only non-decreasing there.
      for (let t = 1; t < T; t++) {
        if (set === clean.micro) expect(curve[t]).toBeGreaterThan(curve[t - 1]);
        else expect(curve[t]).toBeGreaterThanOrEqual(curve[t - 1]);
      }
      expect(curve[T - 1]).toBeGreaterThan(curve[1]);
    }
    // With sensor noise the first frame is no longer the reference floor, but the trend holds.
    for (const set of [d.micro, d.macro]) {
      const T = set.frames;
      const at = (t: number) => set.clips.reduce((s, _, i) => s + meanAbsDiff(frameOf(set, i, t), frameOf(set, i, 0)), 0);
      expect(at(1)).toBeLessThan(at(Math.floor(T / 2)));
      expect(at(1)).toBeLessThan(at(T - 1));
      if (set === d.micro) expect(at(Math.floor(T / 2))).toBeLessThan(at(T - 1));
    }
  });

  it('macro clips reach the apex earlier (lower frame rate)', () => {
    const halfway = (set: ClipSet) => {
      const T = set.frames;
      const m = Math.floor((T - 1) / 2);
      return set.clips.reduce((s, _, i) => s + meanAbsDiff(frameOf(set, i, m), frameOf(set, i, 0)) / (meanAbsDiff(frameOf(set, i, T - 1), frameOf(set, i, 0)) || 1), 0) / set.clips.length;
    };
    expect(halfway(clean.macro)).toBeGreaterThan(halfway(clean.micro) + 0.15);
  });

  it('each expression moves its own facial region', () => {
    const m = clean.macro;
    // Happiness (AU6+12) lifts the mouth corners and leaves the brows alone.
    expect(meanRegion(m, 'happiness', 'mouthCorners')).toBeGreaterThan(5 * meanRegion(m, 'happiness', 'brows'));
    // Surprise (AU1+2+5+26) raises the brows and drops the jaw.
    expect(meanRegion(m, 'surprise', 'brows')).toBeGreaterThan(5 * meanRegion(m, 'happiness', 'brows'));
    for (const other of MACRO_LABELS.filter((x) => x !== 'surprise')) {
      expect(meanRegion(m, 'surprise', 'chin')).toBeGreaterThan(meanRegion(m, other, 'chin'));
    }
    // Disgust (AU9) wrinkles the nose, which no other prototype moves much.
    for (const other of MACRO_LABELS.filter((x) => x !== 'disgust')) {
      expect(meanRegion(m, 'disgust', 'nose')).toBeGreaterThan(3 * meanRegion(m, other, 'nose'));
    }
    // Anger (AU4) works the brows more than the mouth corners; contempt (AU14) the reverse.
    expect(meanRegion(m, 'anger', 'brows')).toBeGreaterThan(2 * meanRegion(m, 'anger', 'mouthCorners'));
    expect(meanRegion(m, 'contempt', 'mouthCorners')).toBeGreaterThan(5 * meanRegion(m, 'contempt', 'brows'));
    // The same holds, weaker, in the micro set.
    const u = clean.micro;
    expect(meanRegion(u, 'positive', 'mouthCorners')).toBeGreaterThan(3 * meanRegion(u, 'positive', 'brows'));
    expect(meanRegion(u, 'surprise', 'brows')).toBeGreaterThan(3 * meanRegion(u, 'positive', 'brows'));
    expect(meanRegion(u, 'surprise', 'chin')).toBeGreaterThan(2 * meanRegion(u, 'positive', 'chin'));
    expect(meanRegion(u, 'positive', 'mouthCorners')).toBeLessThan(meanRegion(m, 'happiness', 'mouthCorners'));
  });
});

describe('generateSynthetic: domain gap', () => {
  it('macro appearance moves away from the micro cameras as gap grows', () => {
    const distance = (gap: number) => {
      const d = generateSynthetic({ gap, micro: { subjectsPerSource: 3, clipsPerSubject: 3 }, macro: { subjects: 12, clipsPerSubject: 2 } });
      const a = appearance(d.micro);
      const b = appearance(d.macro);
      return Math.abs(a.mean - b.mean) + Math.abs(a.std - b.std);
    };
    const d0 = distance(0);
    const d5 = distance(0.5);
    const d1 = distance(1);
    expect(d0).toBeLessThan(d5);
    expect(d5).toBeLessThan(d1);
    expect(d1 - d0).toBeGreaterThan(20);
  });
});

describe('validateSyntheticConfig', () => {
  it('fills defaults and keeps given fields', () => {
    expect(validateSyntheticConfig({})).toEqual(DEFAULT_SYNTHETIC_CONFIG);
    const c = validateSyntheticConfig({ size: 64, micro: { intensity: 0.2 } });
    expect(c.size).toBe(64);
    expect(c.micro.intensity).toBe(0.2);
    expect(c.micro.sources).toBe(DEFAULT_SYNTHETIC_CONFIG.micro.sources);
    expect(c.macro).toEqual(DEFAULT_SYNTHETIC_CONFIG.macro);
    // Filling defaults must not share the default arrays.
    c.micro.classShares[0] = 9;
    expect(DEFAULT_SYNTHETIC_CONFIG.micro.classShares[0]).toBeCloseTo(250 / 442);
  });

  it('errors name the field and quote the value', () => {
    expect(() => validateSyntheticConfig({ size: 0 })).toThrow(/size must be an integer in \[8, 512\], got 0/);
    expect(() => validateSyntheticConfig({ frames: 2.5 })).toThrow(/frames .*got 2\.5/);
    expect(() => validateSyntheticConfig({ channels: 2 })).toThrow(/channels must be 1 or 3, got 2/);
    expect(() => validateSyntheticConfig({ gap: 1.5 })).toThrow(/gap .*got 1\.5/);
    expect(() => validateSyntheticConfig({ micro: { intensity: -1 } })).toThrow(/micro\.intensity .*got -1/);
    expect(() => validateSyntheticConfig({ micro: { intensity: 0 } })).toThrow(/micro\.intensity must be a number in \(0, 2\]/);
    expect(() => validateSyntheticConfig({ macro: { subjects: '3' as unknown as number } })).toThrow(/macro\.subjects .*got "3"/);
    expect(() => validateSyntheticConfig({ micro: { classShares: [1, 2] as unknown as [number, number, number] } })).toThrow(/micro\.classShares .*got \[1,2\]/);
    expect(() => validateSyntheticConfig({ micro: { intensty: 1 } as never })).toThrow(/unknown field "micro\.intensty"/);
    expect(() => validateSyntheticConfig({ sise: 32 } as never)).toThrow(/unknown field "sise"/);
    expect(() => generateSynthetic({ macro: { noise: Number.NaN } })).toThrow(/macro\.noise/);
  });
});
