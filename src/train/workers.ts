/**
 * Runs LOSO fold jobs on worker threads, one backend per thread, so that a
 * run uses every core. Folds are independent given MaNet, and each fold's
 * random choices are seeded by (seed, subject), so results do not depend on
 * how many workers ran them or in which order.
 */
import type { Worker } from 'node:worker_threads';
import { spawnSiblingWorker } from '../util/worker.js';
import { availableParallelism } from 'node:os';
import type { MimanetConfig } from '../config.js';
import { currentBackendInfo } from '../backend/index.js';
import { backendIdentity } from '../results/folder.js';
import type { ExperimentEvents, FoldJob, RecordStamp } from './experiment.js';

export type WorkerMessage =
  | { type: 'tick'; steps: number; info: Record<string, string | number> }
  | { type: 'log'; message: string }
  | { type: 'done'; job: number }
  | { type: 'ready' }
  | { type: 'error'; message: string; name: string };

export interface WorkerInit {
  cfg: MimanetConfig;
  seeds: number[];
  /** Compute threads of each worker's backend: the cores shared out, so workers do not oversubscribe them. */
  threads: number;
  /**
   * The backend the run is made on (`backendIdentity`, e.g. `native/onednn-t2`): the worker computes
   * with the same oneDNN thread count, whatever `threads` is, and refuses to run if its backend differs.
   */
  backend?: string;
}

/**
 * What a worker thread is sent: a fold job, or (queue workers, src/queue) a
 * seed's MaNet unit (`runManetJob`). `job` numbers the task in its 'done' reply.
 */
export type WorkerTask = { job: number; data: FoldJob } | { job: number; manet: number; record: RecordStamp };

/** The worker entry; run from TypeScript sources (tests, tsx), it first registers the TypeScript loader in the new thread. */
/** The backend of this thread, which worker threads must match. */
function backendHere(): { backend?: string } {
  const info = currentBackendInfo();
  return info ? { backend: backendIdentity(info) } : {};
}

/** Runs the jobs on `workers` threads, each computing on the backend `cfg.backend` names. */
export async function runJobsInWorkers(cfg: MimanetConfig, jobs: FoldJob[], workers: number, events: ExperimentEvents): Promise<void> {
  const seeds = [...new Set(jobs.map((j) => j.seed))];
  const queue = jobs.map((job, i) => ({ job, i }));
  const count = Math.min(workers, jobs.length);
  const running: Worker[] = [];
  let failure: Error | undefined;
  const one = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const init: WorkerInit = { cfg, seeds, threads: Math.max(1, Math.floor(availableParallelism() / count)), ...backendHere() };
      const w = spawnSiblingWorker(import.meta.url, 'fold-worker', init);
      running.push(w);
      let finished = false;
      const next = (): void => {
        const item = failure ? undefined : queue.shift();
        if (!item) {
          finished = true;
          void w.terminate().then(() => resolve());
          return;
        }
        w.postMessage({ job: item.i, data: item.job } satisfies WorkerTask);
      };
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready' || m.type === 'done') next();
        else if (m.type === 'tick') events.tick?.(m.steps, m.info);
        else if (m.type === 'log') events.log?.(m.message);
        else if (m.type === 'error') {
          const err = new Error(m.message);
          err.name = m.name;
          failure ??= err;
          void w.terminate();
          reject(err);
        }
      });
      w.on('error', (e) => {
        failure ??= e;
        reject(e);
      });
      w.on('exit', (code) => {
        if (code !== 0 && !failure && !finished) {
          failure = new Error(`fold worker exited with code ${code}`);
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
}

/**
 * Runs one task on a new worker thread and ends the thread: how a queue worker
 * (src/queue) runs a job, so that its own thread stays free to renew the job's
 * lock. `signal` ends the thread early (the promise then rejects with its reason).
 */
export function runTaskInThread(init: WorkerInit, task: WorkerTask, events: ExperimentEvents, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const w = spawnSiblingWorker(import.meta.url, 'fold-worker', init);
    let settled = false;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void w.terminate().then(() => (err ? reject(err) : resolve()));
    };
    const onAbort = (): void => settle(signal?.reason instanceof Error ? signal.reason : new Error('stopped'));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort);
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') w.postMessage(task);
      else if (m.type === 'done') settle();
      else if (m.type === 'tick') events.tick?.(m.steps, m.info);
      else if (m.type === 'log') events.log?.(m.message);
      else if (m.type === 'error') {
        const err = new Error(m.message);
        err.name = m.name;
        settle(err);
      }
    });
    w.on('error', (e) => settle(e));
    w.on('exit', (code) => settle(new Error(`job thread exited with code ${code} before finishing`)));
  });
}
