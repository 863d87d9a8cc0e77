/** What the page and the spot worker say to each other. */
import type { SpotOptions, SpottedInterval } from '../../src/browser.js';

export type SpotRequest =
  | { type: 'start'; width: number; height: number; options: Partial<SpotOptions> & { fps: number } }
  /** One grey frame (width x height values 0..255, float32 bytes), in capture order. */
  | { type: 'frame'; grey: ArrayBuffer };

export type SpotReply =
  | { type: 'started'; options: SpotOptions; windows: Array<{ name: 'micro' | 'macro'; k: number }> }
  /** After each frame: the spotter's result over all frames so far, and the worker's time for that frame. */
  | { type: 'spotted'; frames: number; ms: number; score: number[]; passes: Array<{ name: 'micro' | 'macro'; k: number; threshold: number }>; intervals: SpottedInterval[] }
  | { type: 'error'; message: string };
