/**
 * The page's spotting timeline as files: JSON (the spotter's options, per-frame score and the
 * intervals, with the label the checkpoint gave each micro interval) and CSV in the columns
 * `mimanet spot score --pred` reads, plus apex, score, label and one probability column per class.
 * No DOM.
 */
import { formatSpotCsv, type SpotOptions, type SpottedInterval } from '../../src/browser.js';

/** A micro interval's recognition: the class and the probabilities of every class. */
export interface IntervalLabel {
  label: string;
  probs: number[];
}

/** What "Download timeline (JSON)" writes. Frames are indices of the frames the page analysed (0 = the first). */
export interface SpotTimeline {
  video: string;
  /** `webcam` or the video file's name. */
  source: string;
  fps: number;
  frames: number;
  /** Working size of the grey frames the flow was computed on. */
  size: number;
  /** How frames became the spotter's input: `none` = whole frames (a video) or the centre square (webcam), resized. */
  align: 'none';
  options: SpotOptions;
  /** Checkpoint that labelled the micro intervals, and its classes (empty without one). */
  checkpoint: string | null;
  labels: string[];
  passes: Array<{ name: string; k: number; threshold: number }>;
  /** Per frame: the larger of the two passes' contrast over their threshold (1 = at the threshold). */
  score: number[];
  intervals: Array<SpottedInterval & { start: number; end: number; label: string | null; probs: Record<string, number> | null }>;
  /** Frames analysed per second of wall time, from the first frame handed to the spotter to its last result. */
  processingFps: number | null;
}

export function spotTimeline(
  base: Omit<SpotTimeline, 'intervals' | 'labels' | 'checkpoint'>,
  intervals: readonly SpottedInterval[],
  labelOf: (iv: SpottedInterval) => IntervalLabel | undefined,
  model: { source: string; labels: readonly string[] } | null,
): SpotTimeline {
  const t = (f: number): number => Number((f / base.fps).toFixed(4));
  const labels = model ? [...model.labels] : [];
  return {
    ...base,
    checkpoint: model?.source ?? null,
    labels,
    intervals: intervals.map((iv) => {
      const l = labelOf(iv);
      return {
        ...iv,
        start: t(iv.onset),
        end: t(iv.offset + 1),
        label: l?.label ?? null,
        probs: l ? Object.fromEntries(labels.map((name, i) => [name, l.probs[i]!])) : null,
      };
    }),
  };
}

/** The name of a class's probability column. */
export function probColumn(label: string): string {
  return `p_${label.replace(/[^\w-]+/g, '_')}`;
}

/** `video,onset,offset,kind,apex,score,start_s,end_s,label,p_<class>...`; label and probabilities empty where there is none (macro intervals). */
export function spotTimelineCsv(t: SpotTimeline): string {
  const probCols = t.labels.map(probColumn);
  const rows = t.intervals.map((iv) => {
    const row: Record<string, string | number> = { video: t.video, onset: iv.onset, offset: iv.offset, kind: iv.kind, apex: iv.apex, score: iv.score, start_s: iv.start, end_s: iv.end, label: iv.label ?? '' };
    t.labels.forEach((name, i) => (row[probCols[i]!] = iv.probs ? iv.probs[name]! : ''));
    return row as Record<string, string | number> & { video: string; onset: number; offset: number; kind: string };
  });
  return formatSpotCsv(rows, ['apex', 'score', 'start_s', 'end_s', 'label', ...probCols]);
}
