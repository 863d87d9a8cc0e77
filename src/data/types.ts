/**
 * The one in-memory form of a prepared clip, shared by the synthetic generator,
 * the real-dataset readers and the on-disk cache.
 *
 * A clip runs from onset to apex ("neutral face to emotional face"), resampled
 * to T frames, so the apex frame is always the last one.
 */
export interface Clip {
  /** Unique id within its ClipSet, e.g. `casme2/sub01_EP02_01f`. Safe as a file name after `/` -> `__`. */
  id: string;
  /** Subject id, unique across sources (prefix it with the source: `casme2/sub01`). LOSO holds out one subject. */
  subject: string;
  /** Source dataset of the clip (`smic`, `casme2`, `samm`, `synth-a`, ...); per-source metrics group by it. */
  source: string;
  /** Class index into the owning ClipSet's `labels`. */
  label: number;
  /** T*H*W*C bytes (0..255), frame-major, rows, columns, channels (NHWC per frame). */
  frames: Uint8Array;
  /**
   * With `model.input: flow`: T*H*W*3 float32, per pixel u, v (pixels) and optical strain of the
   * flow from the onset to frame t (src/motion/clip-flow.ts), attached from the flow cache (src/data/flow-cache.ts).
   */
  flow?: Float32Array;
}

/** A set of prepared clips with one geometry. */
export interface ClipSet {
  /** Name, e.g. `synthetic-micro`, `megc2019`, `ckplus`. */
  name: string;
  /** Class names; `Clip.label` indexes this array. */
  labels: string[];
  /** Frames per clip (T). */
  frames: number;
  /** Frame height in pixels. */
  height: number;
  /** Frame width in pixels. */
  width: number;
  /** 1 (grey) or 3 (RGB). */
  channels: number;
  clips: Clip[];
  /** Clips of the source dataset that this set does not hold, with why (recorded with the results of a run). */
  leftOut?: LeftOutClip[];
}

/** A clip left out of a prepared set: an error skipped with --skip-bad, or excluded by the label scheme. */
export interface LeftOutClip {
  dataset: string;
  clip: string;
  kind: 'error' | 'excluded';
  reason: string;
}

/** Bytes of one clip's frames in a set of this geometry. */
export function clipBytes(set: Pick<ClipSet, 'frames' | 'height' | 'width' | 'channels'>): number {
  return set.frames * set.height * set.width * set.channels;
}
