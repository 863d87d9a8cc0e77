/**
 * `mimanet worker`: takes the jobs of `mimanet run --queue` from Redis until
 * stopped. Each job runs on a fresh worker thread (the fold-worker of local
 * runs), so this thread stays free to renew the job's lock while the thread
 * computes: when a worker dies, its lock lapses, BullMQ's stalled-job check
 * puts the job back, and another worker runs it. A fold job skips the rows
 * already in the results folder, and every file is written atomically, so a
 * job that runs twice leaves one correct result.
 */
import { hostname, availableParallelism } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job, type Queue } from 'bullmq';
import type { BackendChoice } from '../backend/index.js';
import { hasFoldResult } from '../results/index.js';
import { runTaskInThread, type WorkerTask } from '../train/workers.js';
import { connectionErrorLog, openQueue, watchConnection, type RedisTarget } from './redis.js';
import { describeJob, foldJobId, refusal, type QueueJobData } from './jobs.js';

export interface QueueWorkerOptions {
  target: RedisTarget;
  /** Queue name (`--queue-name`). */
  name: string;
  /** Jobs run at once, each on its own thread with the cores shared out. */
  concurrency: number;
  /** Takes only jobs of runs made on this backend (refuses the others). */
  backend?: BackendChoice;
  /** A job whose worker has not renewed its lock for this long goes to another worker. */
  stalledAfterS: number;
  log: (message: string) => void;
}

export interface RunningQueueWorker {
  /** `host:pid`, as jobs record who processed them. */
  id: string;
  /** Stops taking jobs and hands the running ones back to the queue at once (they restart elsewhere); resolves when closed. */
  stop(): Promise<void>;
}

/** How often a running job's progress (optimiser steps done) is written to Redis. */
const PROGRESS_EVERY_MS = 1000;
/** A job may be recovered from a stalled (dead) worker this many times before it fails. */
const MAX_STALLED = 3;

export async function startQueueWorker(o: QueueWorkerOptions): Promise<RunningQueueWorker> {
  const id = `${hostname()}:${process.pid}`;
  const queue: Queue = await openQueue(o.target, o.name, o.log);
  const threads = Math.max(1, Math.floor(availableParallelism() / o.concurrency));
  const running = new Map<string, AbortController>();

  const processor = async (job: Job<QueueJobData>, token?: string): Promise<string> => {
    const data = job.data;
    const what = `${job.id} (${describeJob(data)})`;
    const why = refusal(data, id, o.backend);
    if (why) {
      o.log(`${what}: ${why}`);
      throw new UnrecoverableError(why);
    }
    if (data.kind === 'release') {
      const { run, version, fingerprint, cfg, record } = data;
      await queue.addBulk(
        data.folds.map((f) => ({ name: 'fold', data: { run, version, fingerprint, cfg, record, ...f } satisfies QueueJobData, opts: { ...data.opts, jobId: foldJobId(run, f.job) } })),
      );
      return `queued ${data.folds.length} fold jobs`;
    }
    let task: WorkerTask;
    if (data.kind === 'manet') task = { job: 0, manet: data.seed, record: data.record };
    else {
      const { seed, fold, share } = data.job;
      const variants = data.job.variants.filter((v) => !hasFoldResult(data.cfg.out, seed, { index: fold, subject: data.subject }, v, share));
      if (variants.length === 0) return 'already in the results folder';
      task = { job: 0, data: { ...data.job, variants } };
    }
    const cfg = data.cfg;
    const abort = new AbortController();
    running.set(String(job.id), abort);
    const t0 = Date.now();
    let steps = 0;
    let shown = 0;
    o.log(`${what}: started (attempt ${job.attemptsMade + 1})`);
    try {
      await runTaskInThread(
        { cfg, seeds: data.kind === 'fold' ? [data.job.seed] : [], threads, backend: String(data.record.settings.backend) },
        task,
        {
          tick: (n) => {
            steps += n;
            if (Date.now() - shown < PROGRESS_EVERY_MS) return;
            shown = Date.now();
            job.updateProgress({ steps }).catch(() => {});
          },
          log: (m) => o.log(`${what}: ${m}`),
        },
        abort.signal,
      );
      await job.updateProgress({ steps }).catch(() => {});
      o.log(`${what}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return `${steps} steps`;
    } catch (e) {
      if (!abort.signal.aborted) {
        o.log(`${what}: failed: ${(e as Error).message}`);
        throw e;
      }
      // stopping: the job goes back to the queue now instead of when its lock lapses
      await job.moveToWait(token);
      o.log(`${what}: handed back to the queue`);
      throw new WaitingError();
    } finally {
      running.delete(String(job.id));
    }
  };

  const worker = new Worker<QueueJobData, string>(o.name, processor, {
    connection: o.target.options,
    concurrency: o.concurrency,
    name: id,
    lockDuration: o.stalledAfterS * 1000,
    stalledInterval: Math.max(1000, (o.stalledAfterS * 1000) / 2),
    maxStalledCount: MAX_STALLED,
  });
  worker.on('error', connectionErrorLog(o.target, o.log));
  await worker.waitUntilReady();
  const unwatch = watchConnection(queue, o.target, o.log);
  o.log(`worker ${id}: queue "${o.name}" at ${o.target.display}, ${o.concurrency} job(s) at a time, ${threads} thread(s) each`);

  let stopping: Promise<void> | undefined;
  return {
    id,
    stop() {
      stopping ??= (async () => {
        unwatch();
        const closing = worker.close();
        for (const a of running.values()) a.abort(new Error('worker stopping'));
        await closing;
        await queue.close();
      })();
      return stopping;
    },
  };
}
