/**
 * The page's spotting timeline as files, made by the library's timeline code (`timelineFromSpot`,
 * `timelineCsv`, `timelineJsonFields` of src/predict/timeline.ts, what `mimanet predict VIDEO`
 * writes): JSON with `predict --json`'s fields for a timeline (the spotter's options, each pass's k
 * and threshold, the intervals with the label and probabilities of each micro one) plus the video,
 * the per-frame score and the frames a second the page sustained; CSV in `predict --out FILE.csv`'s
 * columns, which `mimanet spot score --pred` reads. No DOM.
 */
import { timelineCsv, timelineFromSpot, timelineJsonFields, type IntervalClip, type SpotOptions, type SpottedInterval, type Timeline } from '../../src/browser.js';

/** What the page knows of a spotting run when it saves it. */
export interface SpotRunState {
  /** `webcam` or the video file's name without its extension. */
  video: string;
  /** `webcam` or the video file's name. */
  source: string;
  /** Side of the grey frames the flow was computed on. */
  size: number;
  options: SpotOptions;
  /** Frames analysed. */
  frames: number;
  intervals: readonly SpottedInterval[];
  passes: ReadonlyArray<{ name: 'micro' | 'macro'; k: number; threshold: number }>;
  /** Per frame: the larger of the two passes' contrast over their threshold (1 = at the threshold). */
  score: readonly number[];
  /** Frames analysed per second of wall time, from the first frame handed to the spotter to its latest result. */
  processingFps: number | null;
  /** The checkpoint that recognises the micro intervals, or null (then nothing is recognised). */
  model: { source: string; labels: readonly string[] } | null;
  /** Class probabilities of one micro interval's onset..apex. */
  recognise: (clip: IntervalClip) => Promise<number[]>;
}

/** The timeline of the run: every interval, each micro one recognised when there is a model. */
export async function runTimeline(s: SpotRunState): Promise<Timeline> {
  const labels = s.model ? [...s.model.labels] : [];
  return timelineFromSpot({ intervals: [...s.intervals], passes: s.passes.map((p) => ({ ...p, contrast: new Float64Array(0), difference: new Float64Array(0) })) }, s.frames, { options: s.options, size: s.size, align: 'none' }, labels, s.model ? s.recognise : null);
}

/** `NAME.spot.json`. */
export function timelineJson(s: SpotRunState, t: Timeline): Record<string, unknown> {
  return {
    video: s.video,
    model: s.model?.source ?? null,
    source: s.source,
    ...timelineJsonFields(t),
    score: s.score.map((x) => Number(x.toFixed(5))),
    processingFps: s.processingFps,
  };
}

/** `NAME.spot.csv`: `video,onset,apex,offset,kind,score,start_s,apex_s,end_s,label` and one probability column a class. */
export function timelineCsvText(s: SpotRunState, t: Timeline): string {
  return timelineCsv(s.video, t);
}
