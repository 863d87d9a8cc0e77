/**
 * Worker thread of src/motion/spot-parallel.ts: computes the motion m of the frame pairs it is
 * sent, with the spotter's flow (TV-L1, default parameters, one thread) and regionMotion, on the
 * frames the main thread shares with it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { opticalFlow } from './flow.js';
import { regionMotion } from './spot.js';
import type { SpotWorkerInit, SpotWorkerReply, SpotWorkerTask } from './spot-parallel.js';

const port = parentPort;
if (!port) throw new Error('spot-worker.ts must run as a worker thread');
const init = workerData as SpotWorkerInit;
const n = init.width * init.height;
const all = new Float32Array(init.frames);
const frame = (i: number): Float32Array => all.subarray(i * n, (i + 1) * n);

port.on('message', (task: SpotWorkerTask) => {
  try {
    const m = new Float64Array(task.pairs.length / 2);
    for (let p = 0; p < m.length; p++) {
      const f = opticalFlow(frame(task.pairs[2 * p]), frame(task.pairs[2 * p + 1]), init.width, init.height, {}, { threads: 1 });
      m[p] = regionMotion(f.u, f.v, init.width, init.height, init.grid, init.topCells);
    }
    port.postMessage({ type: 'done', id: task.id, m } satisfies SpotWorkerReply);
  } catch (e) {
    port.postMessage({ type: 'error', id: task.id, message: e instanceof Error ? e.message : String(e) } satisfies SpotWorkerReply);
  }
});
port.postMessage({ type: 'ready' } satisfies SpotWorkerReply);
