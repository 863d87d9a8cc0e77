/**
 * From a long video to labelled micro-expressions: the spotter
 * (src/motion/spot.ts) finds the intervals, then each micro interval is
 * recognised as a clip whose onset and apex are the interval's. Macro intervals
 * are listed as spotted and left unrecognised: a MiNet checkpoint is trained
 * on micro-expressions.
 *
 * Browser-safe: no Node imports. The spotter's frames, the flow and the
 * recognition of one interval come in as arguments, so that `mimanet predict`
 * (Node: ffmpeg, sharp, native TV-L1) and a page can share this code.
 */
import { formatCsv } from '../results/csv.js';
import { resolveSpotOptions, spot, type FlowFn, type SpotOptions, type SpotResult } from '../motion/spot.js';
import type { ExpressionKind } from '../motion/intervals.js';

/** How the spotter was run: enough to run it again the same way. */
export interface TimelineSpotting {
  /** The spotter's options, defaults filled in (fps included). */
  options: SpotOptions;
  /** Side of the grey face frames the flow was computed on, pixels. */
  size: number;
  /** How those frames were made: `face` (aligned by the eyes of the first frame with a face) or `none` (whole frames resized). */
  align: 'face' | 'none';
  /** Half-window k (frames) and threshold of each pass. */
  passes: Array<{ name: 'micro' | 'macro'; k: number; threshold: number }>;
}

/** One spotted interval of the timeline; frames are indices of the video's frames (0 = the first). */
export interface TimelineInterval {
  kind: ExpressionKind;
  onset: number;
  apex: number;
  offset: number;
  /** Seconds: onset / fps, apex / fps and (offset + 1) / fps (the end of the last frame), as `mimanet spot` records them. */
  start: number;
  apexTime: number;
  end: number;
  /** The spotter's score: contrast at the apex over the pass's threshold (1 = at the threshold). */
  score: number;
  /** Whether the model saw it: micro intervals are recognised, macro ones only spotted. */
  recognised: boolean;
  /** The predicted class and its index in the timeline's labels; undefined when not recognised. */
  label?: string;
  index?: number;
  /** Class probabilities in the timeline's labels' order; undefined when not recognised. */
  probs?: number[];
}

export interface Timeline {
  fps: number;
  /** Frames of the video. */
  frames: number;
  /** The model's classes. */
  labels: string[];
  /** How onset, apex and offset were chosen, in one sentence (see {@link spottedSentence}). */
  chosen: string;
  spotting: TimelineSpotting;
  /** Every spotted interval by onset: micro ones with their label, macro ones spotted only. */
  intervals: TimelineInterval[];
}

/** The frames of one interval the model is given: onset..apex, the clips it was trained on (onset first, apex last). */
export interface IntervalClip {
  onset: number;
  apex: number;
  offset: number;
}

/** Class probabilities of one interval, in the model's labels' order. */
export type RecogniseFn = (clip: IntervalClip) => Promise<number[]>;

/** Decimals of the times (seconds) in a timeline. */
const TIME_DECIMALS = 4;

const seconds = (frame: number, fps: number): number => Number((frame / fps).toFixed(TIME_DECIMALS));

/** One sentence saying that onset, apex and offset were spotted, and with which settings. */
export function spottedSentence(s: Omit<TimelineSpotting, 'passes'>): string {
  const o = s.options;
  return (
    `onset, apex and offset spotted (mimanet spot: p ${o.p}, windows ${o.microWindow} s and ${o.macroWindow} s, ${o.fps} fps, ` +
    `faces ${s.size}x${s.size} ${s.align === 'face' ? 'aligned by the eyes' : 'resized whole (--align none)'}); ` +
    'each micro interval recognised on its frames onset..apex; macro intervals spotted, not recognised'
  );
}

/**
 * The timeline of a spotting result: every interval, and for each micro one
 * the class probabilities `recognise` gives for its onset..apex. Intervals are
 * recognised one after another, in onset order. Without `recognise` (no model
 * yet) every interval is listed as spotted, none recognised.
 */
export async function timelineFromSpot(
  result: Pick<SpotResult, 'intervals' | 'passes'>,
  frames: number,
  spotting: Omit<TimelineSpotting, 'passes'>,
  labels: readonly string[],
  recognise: RecogniseFn | null,
): Promise<Timeline> {
  const fps = spotting.options.fps;
  const intervals: TimelineInterval[] = [];
  for (const i of result.intervals) {
    const base = { kind: i.kind, onset: i.onset, apex: i.apex, offset: i.offset, start: seconds(i.onset, fps), apexTime: seconds(i.apex, fps), end: seconds(i.offset + 1, fps), score: Number(i.score.toFixed(5)) };
    if (i.kind !== 'micro' || !recognise) {
      intervals.push({ ...base, recognised: false });
      continue;
    }
    if (!(i.apex > i.onset)) throw new Error(`spotted interval ${i.onset}..${i.offset}: apex ${i.apex} is not after the onset; a clip needs onset and apex`);
    const probs = await recognise({ onset: i.onset, apex: i.apex, offset: i.offset });
    if (probs.length !== labels.length) throw new Error(`interval ${i.onset}..${i.offset}: ${probs.length} probabilities for ${labels.length} labels`);
    if (probs.some((x) => !Number.isFinite(x))) throw new Error(`interval ${i.onset}..${i.offset}: non-finite probabilities (${probs.map(String).join(', ')})`);
    const index = probs.indexOf(Math.max(...probs));
    intervals.push({ ...base, recognised: true, label: labels[index], index, probs });
  }
  return {
    fps,
    frames,
    labels: [...labels],
    chosen: spottedSentence(spotting),
    spotting: { ...spotting, passes: result.passes.map((p) => ({ name: p.name, k: p.k, threshold: p.threshold })) },
    intervals,
  };
}

/**
 * Spots the grey face frames (each size x size, 0..255; the video's frames in
 * order) with `flow`, then recognises each micro interval with `recognise`.
 */
export async function spotThenRecognise(
  frames: readonly Float32Array[],
  size: number,
  flow: FlowFn,
  options: Partial<SpotOptions> & { fps: number },
  align: 'face' | 'none',
  labels: readonly string[],
  recognise: RecogniseFn,
  progress?: (done: number) => void,
): Promise<Timeline> {
  const resolved = resolveSpotOptions(options);
  const result = spot(frames, size, size, flow, resolved, progress);
  return timelineFromSpot(result, frames.length, { options: resolved, size, align }, labels, recognise);
}

/** The micro intervals that were recognised. */
export function recognisedIntervals(t: Pick<Timeline, 'intervals'>): TimelineInterval[] {
  return t.intervals.filter((i) => i.recognised);
}

/** One JSON object a timeline interval: probabilities keyed by label (as `predict --json` has them), null where not recognised. */
export function timelineIntervalJson(i: TimelineInterval, labels: readonly string[]): Record<string, unknown> {
  const { probs, label, index, ...rest } = i;
  return {
    ...rest,
    label: label ?? null,
    index: index ?? null,
    probabilities: probs ? Object.fromEntries(labels.map((l, k) => [l, probs[k]])) : null,
  };
}

/**
 * The fields a timeline's JSON has wherever it is written (`predict --json`, the demo's download):
 * fps, frames, how onset and apex were chosen, the spotter's settings, the labels, the counts of
 * each kind and the intervals.
 */
export function timelineJsonFields(t: Timeline): Record<string, unknown> {
  return {
    fps: t.fps,
    frames: t.frames,
    chosen: t.chosen,
    spotting: t.spotting,
    labels: t.labels,
    micro: t.intervals.filter((i) => i.kind === 'micro').length,
    macro: t.intervals.filter((i) => i.kind === 'macro').length,
    intervals: t.intervals.map((i) => timelineIntervalJson(i, t.labels)),
  };
}

/** Decimals of the probabilities in CSV (as the batch CSV of `predict`). */
const CSV_DECIMALS = 6;

/**
 * The timeline as CSV: `video,onset,apex,offset,kind,score,start_s,apex_s,end_s,label`, then one
 * probability column per class (empty for macro intervals). The first eight columns are those of
 * `mimanet spot`'s CSV, so `mimanet spot score --pred` reads this file too.
 */
export function timelineCsv(video: string, t: Pick<Timeline, 'intervals' | 'labels'>): string {
  return formatCsv([
    ['video', 'onset', 'apex', 'offset', 'kind', 'score', 'start_s', 'apex_s', 'end_s', 'label', ...t.labels],
    ...t.intervals.map((i) => [
      video,
      i.onset,
      i.apex,
      i.offset,
      i.kind,
      i.score,
      i.start,
      i.apexTime,
      i.end,
      i.label ?? '',
      ...t.labels.map((_, k) => (i.probs ? i.probs[k].toFixed(CSV_DECIMALS) : '')),
    ]),
  ]);
}
