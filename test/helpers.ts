import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.js';
import type { ClipSet } from '../src/data/types.js';
import { Rng } from '../src/util/rng.js';

/** Tests compute on the cpu backend unless they say otherwise: exact and deterministic. */
export async function useCpu(): Promise<void> {
  await initBackend('cpu');
}

/** A small random clip set: `subjects` subjects, clips cycling through the classes. */
export function randomClipSet(opts: { name: string; clips: number; classes: number; subjects: number; T: number; size: number; channels?: number; seed?: number }): ClipSet {
  const C = opts.channels ?? 1;
  const rng = new Rng(opts.seed ?? 1);
  return {
    name: opts.name,
    labels: Array.from({ length: opts.classes }, (_, i) => `class${i}`),
    frames: opts.T,
    height: opts.size,
    width: opts.size,
    channels: C,
    clips: Array.from({ length: opts.clips }, (_, i) => ({
      id: `${opts.name}/clip${i}`,
      subject: `${opts.name}/s${i % opts.subjects}`,
      source: opts.name,
      label: i % opts.classes,
      frames: Uint8Array.from({ length: opts.T * opts.size * opts.size * C }, () => rng.int(256)),
    })),
  };
}

export function numTensors(): number {
  return tf.memory().numTensors;
}
