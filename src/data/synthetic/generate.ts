/**
 * Embedded synthetic micro- and macro-expression data, so the whole MiMaNet
 * pipeline (pretraining MiNet/MaNet, L_s, L_sam, L_t, L_con, LOSO) runs on a
 * fresh machine without any dataset download.
 *
 * Both sets pose the same action-unit prototypes on procedurally drawn faces:
 *
 * - the micro set mimics the MEGC 2019 composite (CDE): three classes,
 *   several sources with their own subjects and camera quirks (like SMIC,
 *   CASME II and SAMM), few subjects and clips, low intensity, a
 *   heterogeneous `negative` class (anger, contempt, disgust, fear, sadness)
 *   and the composite's class imbalance;
 * - the macro set mimics CK+: the seven CK+ classes, many subjects, full
 *   intensity, a faster onset-to-apex ramp and its own appearance (lighting
 *   gradient, brightness, contrast, colour, noise), whose distance from the
 *   micro appearance is set by `gap`.
 *
 * Nothing here is tuned to favour a method: the macro set carries the same
 * facial motion as the micro set, only stronger and on other faces under
 * other cameras, which is the premise the paper's transfer relies on.
 */
import type { Clip, ClipSet } from '../types.js';
import { Rng } from '../../util/rng.js';
import { ACTION_UNITS, type AuVector, EMOTION_PROTOTYPES, EMOTIONS, type Emotion, type FaceIdentity, drawFace, faceGeometry, sampleIdentity, zeroAus } from './faces.js';
import type { Rgb } from './raster.js';
import { type AppearanceStyle, CameraSession } from './camera.js';
import {
  CDE_CLASS_SHARES,
  MACRO_LABELS,
  MACRO_TO_MICRO,
  MICRO_LABELS,
  NEGATIVE_EMOTIONS,
  type ExpressionSetConfig,
  type SyntheticConfig,
  type SyntheticConfigInput,
  validateSyntheticConfig,
} from './config.js';

// ---------------------------------------------------------------------------
// Appearance (camera) styles
// ---------------------------------------------------------------------------

export interface MicroSource {
  name: string;
  style: AppearanceStyle;
  /** Weights of anger, contempt, disgust, fear, sadness within the source's `negative` class. */
  negativeMix: number[];
}

/**
 * The three named micro sources, after their real counterparts: SMIC-HS (low
 * face resolution, dim, greenish), CASME II (bright, warm, white background),
 * SAMM (grey camera, high contrast). Negative mixes follow which emotions
 * each database pools into `negative` (CASME II mostly disgust and
 * repression, drawn here as the lip-press contempt pattern; SAMM mostly anger).
 */
const NAMED_SOURCES: MicroSource[] = [
  {
    name: 'synth-smic',
    style: { brightness: -0.04, contrast: 0.92, gain: [0.94, 1.04, 0.9], saturation: 0.85, blur: 0.03, gradient: 0.05, background: [0.3, 0.32, 0.34] },
    negativeMix: [0.2, 0.15, 0.25, 0.2, 0.2],
  },
  {
    name: 'synth-casme2',
    style: { brightness: 0.04, contrast: 1.0, gain: [1.05, 1.0, 0.93], saturation: 1, blur: 0.012, gradient: 0.03, background: [0.78, 0.78, 0.76] },
    negativeMix: [0.05, 0.3, 0.5, 0.05, 0.1],
  },
  {
    name: 'synth-samm',
    style: { brightness: 0, contrast: 1.12, gain: [1, 1, 1], saturation: 0, blur: 0, gradient: 0.02, background: [0.5, 0.5, 0.5] },
    negativeMix: [0.4, 0.15, 0.2, 0.1, 0.15],
  },
];

/** The camera and negative-class mix of micro source `index` (the named three first, then seeded ones). */
export function microSource(index: number, seed: number): MicroSource {
  if (index < NAMED_SOURCES.length) return NAMED_SOURCES[index];
  const name = `synth-micro${index + 1}`;
  const r = Rng.derive(seed, `source:${name}`);
  const bg = r.range(0.25, 0.8);
  return {
    name,
    style: {
      brightness: r.range(-0.05, 0.05),
      contrast: r.range(0.9, 1.12),
      gain: [r.range(0.94, 1.06), r.range(0.96, 1.04), r.range(0.92, 1.06)],
      saturation: r.next() < 0.3 ? 0 : r.range(0.7, 1),
      blur: r.range(0, 0.03),
      gradient: r.range(0, 0.05),
      background: [bg, bg, bg * r.range(0.95, 1.05)],
    },
    negativeMix: [1, 1, 1, 1, 1],
  };
}

/**
 * The macro camera: at gap 0 it is the micro sources' average look; towards
 * gap 1 it gets brighter, flatter, cooler, less saturated, with a strong side
 * light, like a posed-expression lab recording.
 */
function macroStyle(gap: number): AppearanceStyle {
  const lerp = (a: number, b: number) => a + (b - a) * gap;
  return {
    brightness: lerp(0, 0.12),
    contrast: lerp(1.01, 0.7),
    gain: [lerp(1, 0.96), 1, lerp(0.94, 1.06)],
    saturation: lerp(0.62, 0.25),
    blur: lerp(0.014, 0),
    gradient: lerp(0.03, 0.35),
    background: [lerp(0.53, 0.72), lerp(0.53, 0.72), lerp(0.53, 0.76)],
  };
}

// ---------------------------------------------------------------------------
// Clip rendering
// ---------------------------------------------------------------------------

interface ClipSpec {
  identity: FaceIdentity;
  emotion: Emotion;
  style: AppearanceStyle;
  set: ExpressionSetConfig;
  rng: Rng;
}

/** Per-clip variation of an emotion prototype: weights jitter, a secondary AU may drop, a nuisance AU may join. */
export function clipAus(emotion: Emotion, set: Pick<ExpressionSetConfig, 'intensity' | 'intensityJitter' | 'nuisance'>, id: FaceIdentity, rng: Rng): AuVector {
  const proto = EMOTION_PROTOTYPES[emotion];
  const keys = Object.keys(proto) as (keyof AuVector)[];
  const w = zeroAus();
  for (const k of keys) w[k] = (proto[k] ?? 0) * rng.range(0.75, 1.25);
  if (keys.length > 2 && rng.next() < 0.25) w[keys[1 + rng.int(keys.length - 1)]] = 0;
  if (rng.next() < set.nuisance) {
    const others = ACTION_UNITS.filter((au) => !(au in proto));
    w[rng.pick(others)] = rng.range(0.2, 0.5);
  }
  const amp = set.intensity * id.expressiveness * rng.range(1 - set.intensityJitter, 1 + set.intensityJitter);
  for (const au of ACTION_UNITS) w[au] *= amp * id.auGain[au];
  return w;
}

export function smoothstep(x: number): number {
  const t = x < 0 ? 0 : x > 1 ? 1 : x;
  return t * t * (3 - 2 * t);
}

/** Renders one onset -> apex clip to T*H*W*C bytes. */
function renderClip(spec: ClipSpec, size: number, T: number, C: number): Uint8Array {
  const { identity: id, style, set, rng } = spec;
  const weights = clipAus(spec.emotion, set, id, rng);
  const side = rng.next() < 0.5 ? -1 : 1;
  const delay = rng.range(0, set.onsetDelay);
  const ramp = set.rampDuration * (1 - delay);
  const ox = rng.range(-set.placement, set.placement);
  const oy = rng.range(-set.placement, set.placement);
  const scale = 1 + rng.range(-set.placement, set.placement) / 2;
  const camera = new CameraSession(style, size, C, set.noise, rng);
  const out = new Uint8Array(T * size * size * C);
  const a = zeroAus();

  for (let t = 0; t < T; t++) {
    const tau = t / (T - 1);
    const progress = smoothstep((tau - delay) / ramp);
    for (const au of ACTION_UNITS) a[au] = weights[au] * progress;
    const geometry = faceGeometry(id, a, side);
    const view = { ox: ox + set.jitter * rng.normal(), oy: oy + set.jitter * rng.normal(), scale };
    const flick = 1 + set.flicker * rng.normal();
    camera.shoot(id, geometry, view, flick, rng, out, t * size * size * C);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Labels and subjects
// ---------------------------------------------------------------------------

/** Clip counts per class from shares by largest remainder, each class with a positive share getting at least one clip. */
export function classCounts(total: number, shares: readonly number[]): number[] {
  const K = shares.length;
  const sum = shares.reduce((s, x) => s + x, 0);
  const raw = shares.map((s) => (s / sum) * total);
  const counts = raw.map(Math.floor);
  const order = raw.map((r, c) => [r - Math.floor(r), c]).sort((x, y) => y[0] - x[0] || x[1] - y[1]);
  for (let k = 0; counts.reduce((s, x) => s + x, 0) < total; k++) counts[order[k % K][1]]++;
  for (let c = 0; c < K; c++) {
    if (counts[c] === 0 && shares[c] > 0 && counts.some((n) => n > 1)) {
      counts[counts.indexOf(Math.max(...counts))]--;
      counts[c]++;
    }
  }
  return counts;
}

/**
 * Deals micro labels to subjects so that the totals follow `shares`, every
 * subject shows more than one class (when it has two or more clips) and every
 * class appears for at least min(3, subjects, its clip count) subjects, so
 * each LOSO training fold holds all classes.
 *
 * A subject with two or more classes holds at most perSubject - 1 clips of
 * one class, so no class may exceed subjects * (perSubject - 1) clips; a
 * dominant class above that cap (e.g. negative with 2 clips per subject)
 * gives its excess to the classes furthest below their share. Shares need at
 * least two positive entries when perSubject >= 2.
 */
export function allocateMicroLabels(subjects: number, perSubject: number, shares: readonly number[], rng: Rng): number[][] {
  const N = subjects * perSubject;
  const counts = classCounts(N, shares);
  const multi = perSubject >= 2 && subjects >= 1;
  if (multi) {
    if (shares.filter((x) => x > 0).length < 2) {
      throw new Error(`synthetic micro labels: classShares ${JSON.stringify(shares)} leave one class, but each subject needs two`);
    }
    const cap = subjects * (perSubject - 1);
    const sum = shares.reduce((s, x) => s + x, 0);
    for (let c = 0; c < counts.length; c++) {
      while (counts[c] > cap) {
        let best = -1;
        for (let o = 0; o < counts.length; o++) {
          if (o === c || shares[o] <= 0 || counts[o] >= cap) continue;
          if (best < 0 || (shares[o] / sum) * N - counts[o] > (shares[best] / sum) * N - counts[best]) best = o;
        }
        counts[c]--;
        counts[best]++;
      }
    }
  }
  const dealt: number[] = [];
  counts.forEach((n, c) => {
    for (let i = 0; i < n; i++) dealt.push(c);
  });
  const flat = rng.shuffle(dealt);
  const subj: number[][] = [];
  for (let s = 0; s < subjects; s++) subj.push(flat.slice(s * perSubject, (s + 1) * perSubject));
  if (!multi || subjects < 2) return subj;

  const distinct = (xs: number[]) => new Set(xs).size;
  const countOf = (xs: number[], c: number) => xs.filter((x) => x === c).length;
  const target = counts.map((n) => Math.min(3, subjects, n));
  const swap = (s: number, i: number, t: number, j: number) => {
    const x = subj[s][i];
    subj[s][i] = subj[t][j];
    subj[t][j] = x;
  };
  // Repair the random deal by swaps; keeps the per-subject class mix varied, as in real data.
  for (let iter = 0; iter < 20 * N; iter++) {
    const single = subj.findIndex((xs) => distinct(xs) < 2);
    if (single >= 0) {
      const a = subj[single][0];
      const cands: Array<[number, number]> = [];
      subj.forEach((xs, t) => {
        if (t === single) return;
        xs.forEach((b, j) => {
          if (b === a) return;
          const after = xs.slice();
          after[j] = a;
          if (distinct(after) >= 2) cands.push([t, j]);
        });
      });
      if (cands.length === 0) break;
      const [t, j] = rng.pick(cands);
      swap(single, rng.int(perSubject), t, j);
      continue;
    }
    const c = target.findIndex((n, cls) => subj.filter((xs) => xs.includes(cls)).length < n);
    if (c < 0) return subj;
    const lacking = subj.map((xs, s) => (xs.includes(c) ? -1 : s)).filter((s) => s >= 0);
    const donors = subj.map((xs, t) => (countOf(xs, c) >= 2 ? t : -1)).filter((t) => t >= 0);
    if (lacking.length === 0 || donors.length === 0) break;
    const s = rng.pick(lacking);
    const t = rng.pick(donors);
    const spare = subj[s].map((x, i) => (countOf(subj[s], x) >= 2 ? i : -1)).filter((i) => i >= 0);
    const i = spare.length > 0 ? rng.pick(spare) : rng.int(perSubject);
    swap(s, i, t, subj[t].indexOf(c));
  }
  // Fallback that always satisfies both rules under the cap: deal the class-sorted
  // labels round-robin (a class's clips are consecutive, so they spread over
  // min(count, subjects) subjects and never fill one subject).
  const sorted = flat.slice().sort((x, y) => x - y);
  const order = rng.shuffle(Array.from({ length: subjects }, (_, s) => s));
  for (let s = 0; s < subjects; s++) subj[s] = [];
  sorted.forEach((label, k) => subj[order[k % subjects]].push(label));
  for (let s = 0; s < subjects; s++) subj[s] = rng.shuffle(subj[s]);
  return subj;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export interface SyntheticData {
  /** Micro set: 3 classes (MICRO_LABELS), subjects `synth-smic/s01`, clips `synth-smic/s01_e01`. */
  micro: ClipSet;
  /** Macro set: 7 CK+ classes (MACRO_LABELS), subjects `synth-macro/m001`, clips `synth-macro/m001_e01`. */
  macro: ClipSet;
  /** Macro class index -> micro class index (or -1), for L_con. */
  macroToMicro: number[];
  /** The emotion each micro clip poses, index-aligned with `micro.clips` (shows which pattern a `negative` clip used). */
  microEmotions: Emotion[];
}

/** Generates both sets; deterministic for a given config (seed included). */
export function generateSynthetic(config: SyntheticConfigInput = {}): SyntheticData {
  const cfg = validateSyntheticConfig(config);
  const { seed, size, frames: T, channels: C } = cfg;

  const micro: ClipSet = { name: 'synthetic-micro', labels: [...MICRO_LABELS], frames: T, height: size, width: size, channels: C, clips: [] };
  const microEmotions: Emotion[] = [];
  const m = cfg.micro;
  const nMicroSubjects = m.sources * m.subjectsPerSource;
  const labels = allocateMicroLabels(nMicroSubjects, m.clipsPerSubject, m.classShares, Rng.derive(seed, 'micro-labels'));
  const sw = Math.max(2, String(m.subjectsPerSource).length);
  const cw = Math.max(2, String(m.clipsPerSubject).length);
  for (let s = 0; s < m.sources; s++) {
    const source = microSource(s, seed);
    for (let k = 0; k < m.subjectsPerSource; k++) {
      const subject = `${source.name}/s${pad(k + 1, sw)}`;
      const identity = sampleIdentity(Rng.derive(seed, `identity:${subject}`));
      const subjectLabels = labels[s * m.subjectsPerSource + k];
      subjectLabels.forEach((label, e) => {
        const id = `${subject}_e${pad(e + 1, cw)}`;
        const rng = Rng.derive(seed, `clip:${id}`);
        const emotion: Emotion =
          label === 0 ? NEGATIVE_EMOTIONS[rng.weighted(source.negativeMix)] : label === 1 ? 'happiness' : 'surprise';
        const frames = renderClip({ identity, emotion, style: source.style, set: m, rng }, size, T, C);
        micro.clips.push({ id, subject, source: source.name, label, frames } satisfies Clip);
        microEmotions.push(emotion);
      });
    }
  }

  const macro: ClipSet = { name: 'synthetic-macro', labels: [...MACRO_LABELS], frames: T, height: size, width: size, channels: C, clips: [] };
  const M = cfg.macro;
  const style = macroStyle(cfg.gap);
  const mw = Math.max(3, String(M.subjects).length);
  const ew = Math.max(2, String(M.clipsPerSubject).length);
  for (let k = 0; k < M.subjects; k++) {
    const subject = `synth-macro/m${pad(k + 1, mw)}`;
    const identity = sampleIdentity(Rng.derive(seed, `identity:${subject}`));
    const order = Rng.derive(seed, `macro-labels:${subject}`);
    let perm: number[] = [];
    for (let e = 0; e < M.clipsPerSubject; e++) {
      if (e % MACRO_LABELS.length === 0) perm = order.shuffle(MACRO_LABELS.map((_, i) => i));
      const label = perm[e % MACRO_LABELS.length];
      const id = `${subject}_e${pad(e + 1, ew)}`;
      const rng = Rng.derive(seed, `clip:${id}`);
      const frames = renderClip({ identity, emotion: MACRO_LABELS[label], style, set: M, rng }, size, T, C);
      macro.clips.push({ id, subject, source: 'synth-macro', label, frames } satisfies Clip);
    }
  }

  return { micro, macro, macroToMicro: [...MACRO_TO_MICRO], microEmotions };
}

// Keep the two label vocabularies in step with the face model's emotions.
for (const e of MACRO_LABELS) if (!EMOTIONS.includes(e)) throw new Error(`synthetic: macro label ${e} has no face prototype`);
