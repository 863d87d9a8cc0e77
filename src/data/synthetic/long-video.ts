/**
 * Long synthetic videos with known expression times, for spotting on a fresh
 * machine: an aligned face filmed for many seconds at a video frame rate,
 * mostly neutral, showing a few macro-expressions (over half a second, full
 * intensity) and micro-expressions (at most half a second, low intensity),
 * among distractors a spotter must not report: blinks, small head movements,
 * a slow drift of pose and lighting, per-frame tremor, flicker and sensor noise.
 *
 * Events (expressions, blinks, head movements) never overlap and keep `gap`
 * seconds apart, so every frame-to-frame change outside them comes from the
 * drift, tremor, flicker and noise alone. Ground truth is in frame indices:
 * at `onset` the face is still neutral, it moves on every frame up to `apex`
 * (the peak) and back, and at `offset` it is neutral again.
 *
 * The defaults below are calibrated against the baseline spotter
 * (src/motion/spot.ts): with them `mimanet spot-eval` scores an overall F1
 * between 0.3 and 0.7 (docs/spotting.md, "Calibration", records every run).
 * Micro intensity, the per-frame nuisances (noise, jitter, flicker) and the
 * macro durations set that difficulty; the other distractors are the other knobs.
 */
import { Rng } from '../../util/rng.js';
import { type ExpressionKind, type FrameInterval, MICRO_MAX_SECONDS, microMaxFrames } from '../../motion/intervals.js';
import type { TruthInterval } from '../../motion/spot-metric.js';
import { ACTION_UNITS, type AuVector, EMOTIONS, type Emotion, faceGeometry, sampleIdentity, zeroAus } from './faces.js';
import { CameraSession } from './camera.js';
import { type Range, SyntheticConfigError, checkNumber, checkSection } from './config.js';
import { clipAus, microSource, smoothstep } from './generate.js';

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

/** How the expressions of one kind look. */
export interface LongVideoExpressionConfig {
  /** Expressions of this kind per video. Micro default 3, macro 2. */
  count: number;
  /** Apex AU amplitude as a fraction of the full (macro) amplitude. Micro default 0.8, macro 1.0. */
  intensity: number;
  /** Each expression's intensity varies uniformly in intensity * [1 - j, 1 + j]. Default 0.2 for both. */
  intensityJitter: number;
  /**
   * Shortest and longest duration in seconds, every frame of onset..offset counted. Micro default
   * 0.2 and 0.5 (at most MICRO_MAX_SECONDS), macro default 1 and 2 (above MICRO_MAX_SECONDS).
   */
  minSeconds: number;
  maxSeconds: number;
}

export interface LongVideoConfig {
  /** PRNG seed (integer). Default 1. */
  seed: number;
  /** Number of videos, each of its own subject. Default 4. */
  videos: number;
  /** Length of each video in seconds. Default 30. */
  seconds: number;
  /** Frame rate. Default 30 (CAS(ME)^2's; SAMM Long Videos run at 200). */
  fps: number;
  /** Frame height = width in pixels. Default 64. */
  size: number;
  /** 1 (grey) or 3 (RGB). Default 1. */
  channels: number;
  micro: LongVideoExpressionConfig;
  macro: LongVideoExpressionConfig;
  /** Blinks per minute, each 0.1-0.3 s. Default 12 (people blink 10-20 times a minute). */
  blinksPerMinute: number;
  /** Small head movements per minute, each 0.3-1.5 s, half of them moving back, half staying. Default 4. */
  headMovesPerMinute: number;
  /** Largest shift of a head movement, face units (2 = frame width). Default 0.04 (1.3 px at 64x64). */
  headAmplitude: number;
  /** Amplitude of the slow wander of the neutral head (periods 10-40 s), face units. Default 0.015. */
  drift: number;
  /** Amplitude of the slow change of lighting gain (periods 10-40 s). Default 0.02. */
  lightDrift: number;
  /** Std of the per-frame head tremor, face units. Default 0.0005. */
  jitter: number;
  /** Std of the per-frame global gain change (lamp flicker). Default 0.00125. */
  flicker: number;
  /** Std of per-pixel sensor noise in grey levels (0..255). Default 0.5. */
  noise: number;
  /** Least time between two events, and before the first and after the last, seconds. Default 0.5. */
  gap: number;
}

export type LongVideoConfigInput = Partial<Omit<LongVideoConfig, 'micro' | 'macro'>> & {
  micro?: Partial<LongVideoExpressionConfig>;
  macro?: Partial<LongVideoExpressionConfig>;
};

export const DEFAULT_LONG_VIDEO_CONFIG: LongVideoConfig = {
  seed: 1,
  videos: 4,
  seconds: 30,
  fps: 30,
  size: 64,
  channels: 1,
  micro: { count: 3, intensity: 0.8, intensityJitter: 0.2, minSeconds: 0.2, maxSeconds: 0.5 },
  macro: { count: 2, intensity: 1, intensityJitter: 0.2, minSeconds: 1, maxSeconds: 2 },
  blinksPerMinute: 12,
  headMovesPerMinute: 4,
  headAmplitude: 0.04,
  drift: 0.015,
  lightDrift: 0.02,
  jitter: 0.0005,
  flicker: 0.00125,
  noise: 0.5,
  gap: 0.5,
};

/** Durations of the distractors, seconds. */
export const BLINK_SECONDS: readonly [number, number] = [0.1, 0.3];
export const HEAD_MOVE_SECONDS: readonly [number, number] = [0.3, 1.5];
/** Fewest frames of any event: onset, apex and offset are distinct frames. */
const MIN_EVENT_FRAMES = 3;

const SCOPE = 'long-video config';
const TOP_RANGES: Record<Exclude<keyof LongVideoConfig, 'micro' | 'macro' | 'channels'>, Range> = {
  seed: [-(2 ** 53), 2 ** 53, true],
  videos: [1, 1000, true],
  seconds: [1, 3600],
  fps: [10, 1000],
  size: [16, 512, true],
  blinksPerMinute: [0, 60],
  headMovesPerMinute: [0, 60],
  headAmplitude: [0, 0.2],
  drift: [0, 0.1],
  lightDrift: [0, 0.2],
  jitter: [0, 0.05],
  flicker: [0, 0.2],
  noise: [0, 64],
  gap: [0, 10],
};
const KIND_RANGES: Record<ExpressionKind, Record<keyof LongVideoExpressionConfig, Range>> = {
  micro: { count: [0, 1000, true], intensity: [0, 2, false, true], intensityJitter: [0, 0.9], minSeconds: [0, MICRO_MAX_SECONDS, false, true], maxSeconds: [0, MICRO_MAX_SECONDS, false, true] },
  macro: { count: [0, 1000, true], intensity: [0, 2, false, true], intensityJitter: [0, 0.9], minSeconds: [MICRO_MAX_SECONDS, 60, false, true], maxSeconds: [MICRO_MAX_SECONDS, 60, false, true] },
};

/** Frame ranges [shortest, longest] of each kind of event at the config's frame rate. */
export function eventFrameRanges(cfg: LongVideoConfig): Record<ExpressionKind | 'blink' | 'head', [number, number]> {
  const f = (s: number) => Math.round(s * cfg.fps);
  const microMax = microMaxFrames(cfg.fps);
  return {
    micro: [Math.max(MIN_EVENT_FRAMES, f(cfg.micro.minSeconds)), Math.min(microMax, f(cfg.micro.maxSeconds))],
    macro: [Math.max(microMax + 1, f(cfg.macro.minSeconds)), f(cfg.macro.maxSeconds)],
    blink: [Math.max(MIN_EVENT_FRAMES, f(BLINK_SECONDS[0])), Math.max(MIN_EVENT_FRAMES, f(BLINK_SECONDS[1]))],
    head: [Math.max(MIN_EVENT_FRAMES, f(HEAD_MOVE_SECONDS[0])), Math.max(MIN_EVENT_FRAMES, f(HEAD_MOVE_SECONDS[1]))],
  };
}

/** Events of each kind in one video. */
export function eventCounts(cfg: LongVideoConfig): Record<ExpressionKind | 'blink' | 'head', number> {
  return {
    micro: cfg.micro.count,
    macro: cfg.macro.count,
    blink: Math.round((cfg.blinksPerMinute * cfg.seconds) / 60),
    head: Math.round((cfg.headMovesPerMinute * cfg.seconds) / 60),
  };
}

/** Fills defaults into partial options and checks every field and that the events fit; errors name the field and quote the value. */
export function validateLongVideoConfig(partial: LongVideoConfigInput = {}): LongVideoConfig {
  const d = DEFAULT_LONG_VIDEO_CONFIG;
  let micro: unknown;
  let macro: unknown;
  let channels: unknown;
  const top = checkSection<LongVideoConfig>(
    '',
    partial,
    { ...d, micro: { ...d.micro }, macro: { ...d.macro } },
    TOP_RANGES,
    (key, value) => {
      if (key === 'micro') return (micro = value);
      if (key === 'macro') return (macro = value);
      if (key === 'channels') return (channels = value);
      throw new SyntheticConfigError(key, value, undefined, SCOPE);
    },
    SCOPE,
  );
  const cfg: LongVideoConfig = {
    ...top,
    micro: checkSection('micro', micro, { ...d.micro }, KIND_RANGES.micro, undefined, SCOPE),
    macro: checkSection('macro', macro, { ...d.macro }, KIND_RANGES.macro, undefined, SCOPE),
    channels: channels === undefined ? d.channels : channels === 1 || channels === 3 ? channels : fail('channels', channels, '1 or 3'),
  };
  for (const kind of ['micro', 'macro'] as const) {
    const k = cfg[kind];
    if (k.maxSeconds < k.minSeconds) fail(`${kind}.maxSeconds`, k.maxSeconds, `at least ${kind}.minSeconds (${k.minSeconds})`);
  }
  const frames = eventFrameRanges(cfg);
  if (cfg.micro.count > 0 && frames.micro[0] > frames.micro[1]) {
    fail('fps', cfg.fps, `high enough for micro-expressions of ${MIN_EVENT_FRAMES} frames (onset, apex, offset) within ${cfg.micro.maxSeconds} s`);
  }
  if (cfg.macro.count > 0 && frames.macro[0] > frames.macro[1]) {
    fail('macro.maxSeconds', cfg.macro.maxSeconds, `long enough for ${frames.macro[0]} frames at ${cfg.fps} fps (macro-expressions last over ${MICRO_MAX_SECONDS} s)`);
  }
  // every event at its longest, with a gap around each, must fit
  const counts = eventCounts(cfg);
  const kinds = ['micro', 'macro', 'blink', 'head'] as const;
  const events = kinds.reduce((s, k) => s + counts[k], 0);
  const need = kinds.reduce((s, k) => s + counts[k] * frames[k][1], 0) + (events + 1) * Math.round(cfg.gap * cfg.fps);
  if (need > Math.round(cfg.seconds * cfg.fps)) {
    fail(
      'seconds',
      cfg.seconds,
      `at least ${(need / cfg.fps).toFixed(2)} s to hold ${counts.micro} micro, ${counts.macro} macro, ${counts.blink} blink and ${counts.head} head-movement events at their longest, ${cfg.gap} s apart`,
    );
  }
  return cfg;
}

function fail(field: string, value: unknown, want: string): never {
  throw new SyntheticConfigError(field, value, want, SCOPE);
}

// ---------------------------------------------------------------------------
// Videos and their ground truth
// ---------------------------------------------------------------------------

/** One expression of a long video: its frames, peak, kind and the emotion it poses. */
export interface LongVideoExpression extends FrameInterval {
  apex: number;
  kind: ExpressionKind;
  emotion: Emotion;
}

export type DistractorKind = 'blink' | 'head';

/** A distractor: where it moves the face (a head movement that stays has its apex at the offset). */
export interface LongVideoDistractor extends FrameInterval {
  apex: number;
  kind: DistractorKind;
}

export interface LongVideo {
  /** `synth-lv01`, ...; also the subject (one video per subject). */
  id: string;
  subject: string;
  fps: number;
  /** Number of frames. */
  frames: number;
  size: number;
  channels: number;
  /** frames * size * size * channels bytes, frame after frame. */
  pixels: Uint8Array;
  /** The ground truth, by onset. */
  expressions: LongVideoExpression[];
  /** What else moves, by onset. */
  distractors: LongVideoDistractor[];
}

export interface LongVideoSet {
  /** The options the videos were made with, defaults filled in. */
  config: LongVideoConfig;
  videos: LongVideo[];
}

/** Id of video `index` (0-based). */
export function longVideoId(index: number, count: number): string {
  return `synth-lv${String(index + 1).padStart(Math.max(2, String(count).length), '0')}`;
}

interface PlacedEvent extends FrameInterval {
  apex: number;
  kind: ExpressionKind | DistractorKind;
}

/** Shuffled events with durations, then the slack shared out at random between the gaps. */
function placeEvents(cfg: LongVideoConfig, rng: Rng): PlacedEvent[] {
  const counts = eventCounts(cfg);
  const ranges = eventFrameRanges(cfg);
  const spans: Array<{ kind: PlacedEvent['kind']; frames: number }> = [];
  for (const kind of ['micro', 'macro', 'blink', 'head'] as const) {
    const [lo, hi] = ranges[kind];
    for (let i = 0; i < counts[kind]; i++) spans.push({ kind, frames: lo + rng.int(hi - lo + 1) });
  }
  const order = rng.shuffle(spans);
  const total = Math.round(cfg.seconds * cfg.fps);
  const gap = Math.round(cfg.gap * cfg.fps);
  const slack = total - order.reduce((s, e) => s + e.frames, 0) - (order.length + 1) * gap;
  const cuts = Array.from({ length: order.length }, () => rng.int(slack + 1)).sort((a, b) => a - b);
  const events: PlacedEvent[] = [];
  let cursor = gap + (cuts[0] ?? slack);
  order.forEach((e, i) => {
    const onset = cursor;
    const offset = onset + e.frames - 1;
    // the peak somewhere in the middle third or so; never on the onset or offset frame
    const apex = onset + Math.min(e.frames - 2, Math.max(1, Math.round(rng.range(0.3, 0.6) * (e.frames - 1))));
    events.push({ kind: e.kind, onset, offset, apex });
    cursor = offset + 1 + gap + ((cuts[i + 1] ?? slack) - cuts[i]);
  });
  return events;
}

/** 0 at the onset and offset, 1 at the apex, rising and falling smoothly. */
function bump(e: PlacedEvent, t: number): number {
  if (t <= e.onset || t >= e.offset) return 0;
  return t <= e.apex ? smoothstep((t - e.onset) / (e.apex - e.onset)) : smoothstep((e.offset - t) / (e.offset - e.apex));
}

/** Slow wander: two sines of periods 10-40 s, weights 0.6 and 0.4, in [-1, 1]. */
function wander(rng: Rng, fps: number): (t: number) => number {
  const w = [0, 1].map(() => ({ omega: (2 * Math.PI) / (rng.range(10, 40) * fps), phase: rng.range(0, 2 * Math.PI) }));
  return (t) => 0.6 * Math.sin(w[0].omega * t + w[0].phase) + 0.4 * Math.sin(w[1].omega * t + w[1].phase);
}

/** Renders video `index` of the options (validated ones: see validateLongVideoConfig); the same video whatever the number of videos. */
export function generateLongVideo(cfg: LongVideoConfig, index: number): LongVideo {
  const { seed, size, channels: C, fps } = cfg;
  const id = longVideoId(index, cfg.videos);
  const identity = sampleIdentity(Rng.derive(seed, `identity:${id}`));
  const events = placeEvents(cfg, Rng.derive(seed, `long-video:${id}:events`));

  // what each event does to the face, drawn in event order
  const traits = Rng.derive(seed, `long-video:${id}:traits`);
  const expressions: LongVideoExpression[] = [];
  const distractors: LongVideoDistractor[] = [];
  const effects = events.map((e) => {
    if (e.kind === 'micro' || e.kind === 'macro') {
      const emotion = traits.pick(EMOTIONS);
      const k = cfg[e.kind];
      const weights = clipAus(emotion, { intensity: k.intensity, intensityJitter: k.intensityJitter, nuisance: 0 }, identity, traits);
      const side = traits.next() < 0.5 ? -1 : 1;
      expressions.push({ onset: e.onset, apex: e.apex, offset: e.offset, kind: e.kind, emotion });
      return { weights, side, dx: 0, dy: 0, stays: false };
    }
    if (e.kind === 'blink') {
      distractors.push({ onset: e.onset, apex: e.apex, offset: e.offset, kind: 'blink' });
      return { weights: null, side: 1, dx: 0, dy: 0, stays: false };
    }
    const angle = traits.range(0, 2 * Math.PI);
    const r = cfg.headAmplitude * traits.range(0.5, 1);
    const stays = traits.next() < 0.5;
    distractors.push({ onset: e.onset, apex: stays ? e.offset : e.apex, offset: e.offset, kind: 'head' });
    return { weights: null, side: 1, dx: r * Math.cos(angle), dy: r * Math.sin(angle), stays };
  });

  const motion = Rng.derive(seed, `long-video:${id}:motion`);
  const ox0 = motion.range(-0.02, 0.02);
  const oy0 = motion.range(-0.02, 0.02);
  const scale = 1 + motion.range(-0.01, 0.01);
  const driftX = wander(motion, fps);
  const driftY = wander(motion, fps);
  const light = wander(motion, fps);
  const cameraRng = Rng.derive(seed, `long-video:${id}:camera`);
  const camera = new CameraSession(microSource(index % 3, seed).style, size, C, cfg.noise, cameraRng);

  const frames = Math.round(cfg.seconds * fps);
  const frameBytes = size * size * C;
  const pixels = new Uint8Array(frames * frameBytes);
  const a: AuVector = zeroAus();
  let next = 0; // first event not yet over
  let shiftX = 0; // head movements that stayed
  let shiftY = 0;
  for (let t = 0; t < frames; t++) {
    while (next < events.length && events[next].offset < t) {
      if (effects[next].stays) {
        shiftX += effects[next].dx;
        shiftY += effects[next].dy;
      }
      next++;
    }
    const e = next < events.length && events[next].onset <= t ? events[next] : null;
    const fx = e ? effects[next] : null;
    const p = e ? bump(e, t) : 0;
    for (const au of ACTION_UNITS) a[au] = fx?.weights ? fx.weights[au] * p : 0;
    const blink = e?.kind === 'blink' ? p : 0;
    let hx = shiftX;
    let hy = shiftY;
    if (e?.kind === 'head' && fx) {
      const h = fx.stays ? smoothstep((t - e.onset) / (e.offset - e.onset)) : p;
      hx += fx.dx * h;
      hy += fx.dy * h;
    }
    const geometry = faceGeometry(identity, a, fx?.side ?? 1, blink);
    const view = {
      ox: ox0 + cfg.drift * driftX(t) + hx + cfg.jitter * motion.normal(),
      oy: oy0 + cfg.drift * driftY(t) + hy + cfg.jitter * motion.normal(),
      scale,
    };
    const flick = 1 + cfg.lightDrift * light(t) + cfg.flicker * motion.normal();
    camera.shoot(identity, geometry, view, flick, cameraRng, pixels, t * frameBytes);
  }
  return { id, subject: id, fps, frames, size, channels: C, pixels, expressions, distractors };
}

/** Validates the options and renders every video; deterministic for given options (seed included). */
export function generateLongVideos(input: LongVideoConfigInput = {}): LongVideoSet {
  const config = validateLongVideoConfig(input);
  return { config, videos: Array.from({ length: config.videos }, (_, i) => generateLongVideo(config, i)) };
}

/** The ground truth of some videos in the form the MEGC metric takes. */
export function longVideoTruth(videos: readonly LongVideo[]): TruthInterval[] {
  return videos.flatMap((v) => v.expressions.map((x) => ({ video: v.id, onset: x.onset, offset: x.offset, kind: x.kind })));
}

/** Frame `t` of a video (a view, not a copy). */
export function longVideoFrame(video: LongVideo, t: number): Uint8Array {
  const n = video.size * video.size * video.channels;
  return video.pixels.subarray(t * n, (t + 1) * n);
}
