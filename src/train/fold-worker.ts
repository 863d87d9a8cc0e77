/** Worker thread entry: rebuilds the experiment context, then runs the fold jobs (or MaNet units) it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { backendIdentity, onednnThreadsOf } from '../results/folder.js';
import { runFoldJob, runManetJob, workerContext, type ExperimentEvents } from './experiment.js';
import type { WorkerInit, WorkerMessage, WorkerTask } from './workers.js';

const port = parentPort;
if (!port) throw new Error('fold-worker.ts must run as a worker thread');
const init = workerData as WorkerInit;
const send = (m: WorkerMessage): void => port.postMessage(m);

/**
 * Debug hook: MIMANET_DEBUG_JITTER_MS=N waits a random 0..N ms before each job, so that tests can
 * shake the order in which workers reach shared state (results must not change).
 */
const JITTER_MS = Number(process.env.MIMANET_DEBUG_JITTER_MS ?? 0);
const jitter = (): Promise<void> => new Promise((r) => setTimeout(r, JITTER_MS > 0 ? Math.random() * JITTER_MS : 0));

try {
  tf.enableProdMode();
  const onednnThreads = init.backend === undefined ? undefined : onednnThreadsOf(init.backend);
  const info = await initBackend(init.cfg.backend, { threads: init.threads, ...(onednnThreads ? { onednnThreads } : {}) });
  // a worker whose kernels differ from the run's (no oneDNN on this machine, another thread count)
  // would write results that round differently into the same folder
  if (init.backend !== undefined && backendIdentity(info) !== init.backend) {
    throw new Error(`this worker computes on ${backendIdentity(info)}, and the run is made on ${init.backend}; backends round differently, so their results are not mixed`);
  }
  const ctx = await workerContext(init.cfg, init.seeds);
  const events: ExperimentEvents = { tick: (steps, info) => send({ type: 'tick', steps, info }), log: (message) => send({ type: 'log', message }) };
  port.on('message', (msg: WorkerTask) => {
    const work = jitter().then(() => 'manet' in msg ? runManetJob(init.cfg, ctx.data, msg.manet, msg.record, events).then((m) => m.dispose()) : runFoldJob(ctx, msg.data, events));
    work
      .then(() => send({ type: 'done', job: msg.job }))
      .catch((e: unknown) => send({ type: 'error', message: e instanceof Error ? e.message : String(e), name: e instanceof Error ? e.name : 'Error' }));
  });
  send({ type: 'ready' });
} catch (e) {
  send({ type: 'error', message: e instanceof Error ? e.message : String(e), name: e instanceof Error ? e.name : 'Error' });
}
