/** Worker thread entry: rebuilds the experiment context, then runs the fold jobs (or MaNet units) it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { runFoldJob, runManetJob, workerContext, type ExperimentEvents } from './experiment.js';
import type { WorkerInit, WorkerMessage, WorkerTask } from './workers.js';

const port = parentPort;
if (!port) throw new Error('fold-worker.ts must run as a worker thread');
const init = workerData as WorkerInit;
const send = (m: WorkerMessage): void => port.postMessage(m);

try {
  tf.enableProdMode();
  await initBackend(init.cfg.backend, { threads: init.threads });
  const ctx = await workerContext(init.cfg, init.seeds);
  const events: ExperimentEvents = { tick: (steps, info) => send({ type: 'tick', steps, info }), log: (message) => send({ type: 'log', message }) };
  port.on('message', (msg: WorkerTask) => {
    const work = 'manet' in msg ? runManetJob(init.cfg, ctx.data, msg.manet, msg.record, events).then((m) => m.dispose()) : runFoldJob(ctx, msg.data, events);
    work
      .then(() => send({ type: 'done', job: msg.job }))
      .catch((e: unknown) => send({ type: 'error', message: e instanceof Error ? e.message : String(e), name: e instanceof Error ? e.name : 'Error' }));
  });
  send({ type: 'ready' });
} catch (e) {
  send({ type: 'error', message: e instanceof Error ? e.message : String(e), name: e instanceof Error ? e.name : 'Error' });
}
