/**
 * The spotter's passes with their flows shared out over worker threads (Node only). The flows of
 * both passes (one per frame and pass) are independent, and at the working size (64x64) one flow
 * is too small to keep two threads busy (its rows are cut into bands that meet at barriers), so
 * whole flows run side by side instead: each worker computes, with one thread, the TV-L1 flow and
 * regionMotion of the frame pairs it is sent, exactly as spotPasses does with spotFlow(1). The
 * flow does not depend on the thread that computes it, so the passes are the same for any number
 * of workers (test/spot-parallel.test.ts compares them).
 */
import type { Worker } from 'node:worker_threads';
import { spawnSiblingWorker } from '../util/worker.js';
import { opticalFlow } from './flow.js';
import { differenceAndContrast, halfWindow, resolveSpotOptions, spotPasses, type FlowFn, type SpotOptions, type SpotPass } from './spot.js';

export interface SpotWorkerInit {
  /** Every frame, frame after frame, width * height float32 each. */
  frames: SharedArrayBuffer;
  width: number;
  height: number;
  grid: number;
  topCells: number;
}

/** Frame pairs (earlier, later), flattened. */
export interface SpotWorkerTask {
  id: number;
  pairs: Int32Array;
}

export type SpotWorkerReply = { type: 'ready' } | { type: 'done'; id: number; m: Float64Array } | { type: 'error'; id: number; message: string };

/** Flows a worker is sent at a time: few enough to share the work out evenly, enough to cost more than the message. */
const CHUNK = 24;

/** The spotter's flow on one thread: TV-L1 with its default parameters (native where built). */
const flowOneThread: FlowFn = (a, b, w, h) => opticalFlow(a, b, w, h, {}, { threads: 1 });

/**
 * The two passes of spotPasses (same windows, same flow, same motion, same difference and contrast)
 * with the flows computed on `workers` worker threads, one thread each. `workers` 1 computes them
 * on this thread.
 */
export async function spotPassesParallel(frames: readonly Float32Array[], width: number, height: number, options: Partial<SpotOptions> & { fps: number }, workers: number, progress?: (done: number) => void): Promise<SpotPass[]> {
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 256)) throw new Error(`spot: workers is ${JSON.stringify(workers)}, expected an integer from 1 to 256`);
  if (workers === 1) return spotPasses(frames, width, height, flowOneThread, options, progress);
  const o = resolveSpotOptions(options);
  const n = width * height;
  for (const [i, f] of frames.entries()) {
    if (f.length !== n) throw new Error(`spot: frame ${i} has ${f.length} values, expected ${width}x${height} = ${n}`);
  }
  const shared = new SharedArrayBuffer(frames.length * n * 4);
  const all = new Float32Array(shared);
  frames.forEach((f, i) => all.set(f, i * n));

  const passes = (
    [
      ['micro', o.microWindow],
      ['macro', o.macroWindow],
    ] as const
  ).map(([name, seconds]) => ({ name, k: halfWindow(seconds, o.fps), m: new Float64Array(frames.length) }));
  // every flow of both passes: (pass, j) for the pair j - k, j
  const jobs: Array<{ pass: number; j: number }> = [];
  passes.forEach((p, pass) => {
    for (let j = p.k; j < frames.length; j++) jobs.push({ pass, j });
  });
  const chunks: Array<Array<{ pass: number; j: number }>> = [];
  for (let s = 0; s < jobs.length; s += CHUNK) chunks.push(jobs.slice(s, s + CHUNK));

  const init: SpotWorkerInit = { frames: shared, width, height, grid: o.grid, topCells: o.topCells };
  const count = Math.min(workers, chunks.length);
  const running: Worker[] = [];
  let next = 0;
  let failure: Error | undefined;
  const one = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const w = spawnSiblingWorker(import.meta.url, 'spot-worker', init);
      running.push(w);
      let current = -1;
      let finished = false;
      const send = (): void => {
        if (failure || next >= chunks.length) {
          finished = true;
          resolve();
          return;
        }
        current = next++;
        const pairs = new Int32Array(2 * chunks[current].length);
        chunks[current].forEach(({ pass, j }, q) => {
          pairs[2 * q] = j - passes[pass].k;
          pairs[2 * q + 1] = j;
        });
        w.postMessage({ id: current, pairs } satisfies SpotWorkerTask);
      };
      w.on('message', (r: SpotWorkerReply) => {
        if (r.type === 'error') {
          failure ??= new Error(`spot: ${r.message}`);
          reject(failure);
          return;
        }
        if (r.type === 'done') {
          chunks[r.id].forEach(({ pass, j }, q) => (passes[pass].m[j] = r.m[q]));
          progress?.(chunks[r.id].length);
        }
        send();
      });
      w.on('error', (e) => {
        failure ??= e;
        reject(e);
      });
      w.on('exit', (code) => {
        if (!finished && !failure) {
          failure = new Error(`spot: a flow worker exited with code ${code} before finishing`);
          reject(failure);
        }
      });
    });
  try {
    await Promise.all(Array.from({ length: count }, one));
  } finally {
    await Promise.all(running.map((w) => w.terminate()));
  }
  if (failure) throw failure;
  return passes.map(({ name, k, m }) => {
    const { d, c } = differenceAndContrast(m, k);
    return { name, k, difference: d, contrast: c };
  });
}
