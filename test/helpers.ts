import * as tf from '@tensorflow/tfjs';
import { afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/index.js';
import type { ClipSet } from '../src/data/types.js';
import { Rng } from '../src/util/rng.js';

/** A run small enough for a test: 4 subjects, 4 frames of 32x32, ResNet18 of width 2, two rows. */
export const tinyConfig = {
  preset: 'quick',
  variants: [['c'], ['c', 's', 'sam', 't', 'con']],
  backend: 'wasm',
  data: {
    kind: 'synthetic',
    options: { micro: { sources: 2, subjectsPerSource: 2, clipsPerSubject: 4 }, macro: { subjects: 4, clipsPerSubject: 4 } },
  },
  model: { size: 32, frames: 4, width: 2, sc: 2, K: 2, headWidths: [4, 4, 4] },
  pretrain: { manetEpochs: 1, minetEpochs: 1, batchSize: 8 },
  finetune: { epochs: 1, n: 4 },
};

/** Settings of a guided fine-tuning step at test size (GuidedStep's options, less the losses). */
export const GUIDED_STEP_OPTIONS = {
  lr: 1e-2,
  n: 4,
  weights: { s: 0.1, sam: 0.2, t: 0.2, con: 0.1 },
  tau: 0.1,
  conReduction: 'mean' as const,
  conDenominator: 'eq7' as const,
  headWidths: [4, 4, 4] as [number, number, number],
  macroToMicro: [0, 0, 0, 0, 1, 0, 2],
  seed: 5,
};

const tempDirs: string[] = [];

/**
 * A new, empty temporary folder `mimanet-PREFIX-*`, removed after the test
 * file's last test (test/global-setup.ts fails the run when one remains).
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mimanet-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** Removes every folder `tempDir` made so far in this test file. */
export function removeTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

// registered while the importing test file is collected, so it runs after all of that file's tests
afterAll(removeTempDirs);

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

/** Runs the `mimanet` command line in this process and returns its exit code and what it printed. */
export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../src/cli/index.js');
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'mimanet', ...args]);
    return { code, out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

/** n uniform values in [-1, 1) from a seeded generator, for kernel comparisons. */
export function randn(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.next() * 2 - 1);
}
