/**
 * `mimanet run --queue`: the coordinator. It plans the run as a local run
 * does (`prepareExperiment`), queues its jobs on Redis (see ./jobs.ts), shows
 * their progress, and returns once every fold-row is in the results folder;
 * the command then writes the summary and the report as after a local run.
 *
 * The results folder is the record of what is done; Redis only says what is
 * queued and who runs it. Every poll compares the two: a unit whose results
 * are missing and that has no job (a Redis restarted without persistence, a
 * job removed by hand) is queued again, and a unit already on disk is never
 * queued. Started again with the same command, the coordinator finds the same
 * job ids and adds nothing; jobs that had failed are queued afresh.
 */
import { resolve } from 'node:path';
import { FlowProducer, type Job, type JobsOptions, type Queue } from 'bullmq';
import type { MimanetConfig } from '../config.js';
import { hasNetWeights } from '../model/io.js';
import { configFingerprint, hasTransfer, lockRunFolder, manetPath, seedsOf, type RunInfo } from '../results/index.js';
import type { BackendInfo } from '../backend/index.js';
import { experimentResult, planJobs, prepareExperiment, type ExperimentEvents, type ExperimentResult, type FoldJob } from '../train/experiment.js';
import { MIMANET_VERSION } from '../version.js';
import { connectionErrorLog, openQueue, watchConnection, type RedisTarget } from './redis.js';
import { backendChoiceOf, describeJob, foldJobId, jobOptions, manetJobId, releaseJobId, runId, type FoldJobData, type JobHeader, type QueueJobData } from './jobs.js';

export interface QueueRunOptions {
  target: RedisTarget;
  /** Queue name (`--queue-name`); the workers must take jobs from the same. */
  name: string;
  /** Tries of each job before the run fails. */
  attempts: number;
  info: RunInfo;
  /** The backend the run is made on (initialised here); every job computes on the same. */
  backend: BackendInfo;
  /** Resume a folder begun on another backend (see `mimanet run --allow-backend-change`). */
  allowBackendChange?: boolean;
  events?: ExperimentEvents;
  /** How often the queue is looked at (default 1 s). */
  pollMs?: number;
}

/** A job that failed all its tries: the run stops with its error. */
export class QueueJobFailedError extends Error {
  override name = 'QueueJobFailedError';
}

/** Seconds a job may stay completed while its results are not in the results folder (a shared folder can lag). */
const COMPLETED_GRACE_S = 60;

interface Tracked {
  what: string;
  steps: number;
  state: string;
  /** Failed attempts so far. */
  failures: number;
  final: boolean;
  completedAt?: number;
}

export async function runExperimentOnQueue(cfgIn: MimanetConfig, opts: QueueRunOptions): Promise<ExperimentResult> {
  // workers on other machines read and write the same folder: an absolute path
  const cfg: MimanetConfig = { ...cfgIn, out: resolve(cfgIn.out) };
  // the coordinator holds the folder's lock as a local run does; workers only add records to it
  const lock = lockRunFolder(cfg.out);
  try {
    if (lock.note) opts.events?.log?.(lock.note);
    return await coordinate(cfg, opts);
  } finally {
    lock.release();
  }
}

async function coordinate(cfg: MimanetConfig, opts: QueueRunOptions): Promise<ExperimentResult> {
  const events = opts.events ?? {};
  const log = events.log ?? (() => {});
  const prepared = await prepareExperiment(cfg, opts.info, events, opts);
  const { data, folds, record } = prepared;
  events.plan?.(prepared.steps);

  const run = runId(cfg);
  // every worker computes on the backend this run is recorded with (`auto` resolved here)
  const queued: MimanetConfig = { ...cfg, backend: backendChoiceOf(opts.backend) };
  const header: JobHeader = { run, version: MIMANET_VERSION, fingerprint: configFingerprint(cfg), cfg: queued, record };
  const jobOpts: JobsOptions = jobOptions(opts.attempts);
  const foldData = (job: FoldJob): FoldJobData => ({ kind: 'fold', job, subject: folds[job.fold].subject });
  const queue: Queue = await openQueue(opts.target, opts.name, log);
  const flows = new FlowProducer({ connection: opts.target.options });
  flows.on('error', connectionErrorLog(opts.target, log));
  const unwatch = watchConnection(queue, opts.target, log);
  log(`queue "${opts.name}" at ${opts.target.display}, run ${run}; start workers with: mimanet worker --queue ${opts.target.display} --queue-name ${opts.name}`);

  const tracked = new Map<string, Tracked>();
  const t0 = Date.now();
  let shownSteps = 0;
  let shownInfo = '';
  let first = true;

  /** Queues MaNet and, behind it in a flow, the release job that queues the seed's fold jobs. */
  const addManetFlow = async (seed: number, jobs: FoldJob[]): Promise<void> => {
    const release: QueueJobData = { ...header, kind: 'release', seed, folds: jobs.map(foldData), opts: jobOpts };
    const manet: QueueJobData = { ...header, kind: 'manet', seed };
    await flows.add({
      name: 'release',
      queueName: opts.name,
      data: release,
      opts: { ...jobOpts, jobId: releaseJobId(run, seed) },
      children: [{ name: 'manet', queueName: opts.name, data: manet, opts: { ...jobOpts, jobId: manetJobId(run, seed), failParentOnFailure: true } }],
    });
  };
  const addFold = async (job: FoldJob): Promise<void> => {
    await queue.add('fold', { ...header, ...foldData(job) } satisfies QueueJobData, { ...jobOpts, jobId: foldJobId(run, job) });
  };

  /**
   * Makes sure the unit `id` has a live job. A failed or completed job whose
   * unit is not done is removed and queued again when the coordinator starts;
   * later a failed job ends the run, and a completed one whose results do not
   * appear in the folder is an error about the shared folder.
   */
  const ensure = async (id: string, what: string, add: () => Promise<void>, removeId = id): Promise<void> => {
    let t = tracked.get(id);
    if (!t) tracked.set(id, (t = { what, steps: 0, state: 'unknown', failures: 0, final: false }));
    const job: Job<QueueJobData> | undefined = await queue.getJob(id);
    const state = job ? await job.getState() : 'unknown';
    if (state === 'unknown') {
      await add();
      if (!first) log(`${what}: queued again (its job was not in Redis)`);
      return;
    }
    if ((state === 'failed' || state === 'completed') && first) {
      await (await queue.getJob(removeId))?.remove();
      await (await queue.getJob(id))?.remove();
      await add();
      log(`${what}: queued again (${state} in an earlier attempt of this run)`);
      return;
    }
    if (state === 'failed' && job) {
      throw new QueueJobFailedError(`${what} failed after ${job.attemptsMade} attempt(s): ${job.failedReason}`);
    }
    if (state === 'completed') {
      t.completedAt ??= Date.now();
      if (Date.now() - t.completedAt > COMPLETED_GRACE_S * 1000) {
        throw new Error(`${what} completed on worker ${job?.processedBy ?? '?'}, but its results are not in ${cfg.out}: is that folder shared, at the same path, with every worker?`);
      }
    }
  };

  /** Reads the state and progress of every job seen so far; logs starts, ends and retries. */
  /** Jobs done, running and failed attempts, and the ETA from the steps done so far. */
  const status = (): { steps: number; text: string; eta: string } => {
    const all = [...tracked.values()];
    const steps = all.reduce((s, t) => s + t.steps, 0);
    const count = (state: string): number => all.filter((t) => t.state === state).length;
    const failures = all.reduce((s, t) => s + t.failures, 0);
    return { steps, text: `${count('completed')}/${all.length} done, ${count('active')} running, ${failures} failed attempt(s)`, eta: eta(t0, steps, prepared.steps) };
  };

  const look = async (): Promise<void> => {
    for (const [id, t] of tracked) {
      if (t.final) continue;
      const job: Job<QueueJobData> | undefined = await queue.getJob(id);
      if (!job) continue;
      const state = await job.getState();
      const p = job.progress as { steps?: number } | number;
      if (typeof p === 'object' && typeof p.steps === 'number') t.steps = p.steps;
      t.failures = job.attemptsMade;
      if (state !== t.state) {
        t.state = state;
        if (state === 'active') log(`${t.what}: started on ${job.processedBy ?? 'a worker'} (attempt ${job.attemptsMade + 1})`);
        else if (state === 'delayed' && job.failedReason) log(`${t.what}: attempt ${job.attemptsMade} failed (${job.failedReason}); retried in a moment`);
        else if (state === 'completed') {
          const st = status();
          log(`${t.what}: done; jobs ${st.text}, ETA ${st.eta}`);
        }
      }
      if (state === 'completed') t.final = true;
    }
  };

  /** The jobs not yet done: withdrawn when the run fails, so that workers do not compute for nothing. */
  const withdraw = async (): Promise<void> => {
    for (const id of tracked.keys()) {
      const job = await queue.getJob(id).catch(() => undefined);
      const state = job ? await job.getState().catch(() => 'unknown') : 'unknown';
      if (job && ['waiting', 'delayed', 'prioritized', 'waiting-children'].includes(state)) await job.remove().catch(() => {});
    }
  };

  try {
    for (;;) {
      const { jobs } = planJobs(cfg, data, folds);
      for (const j of jobs) j.record = record;
      const manetSeeds = seedsOf(cfg).filter(
        (seed) => (jobs.some((j) => j.seed === seed) || !hasTransfer(cfg.out, seed)) && !(hasNetWeights(manetPath(cfg.out, seed)) && hasTransfer(cfg.out, seed)),
      );
      if (jobs.length === 0 && manetSeeds.length === 0) {
        await look(); // the last jobs' end lines
        break;
      }
      for (const seed of manetSeeds) {
        const seedJobs = jobs.filter((j) => j.seed === seed);
        await ensure(manetJobId(run, seed), describeJob({ ...header, kind: 'manet', seed }), () => addManetFlow(seed, seedJobs), releaseJobId(run, seed));
        // the release job queues these once MaNet is done; until then they are only watched
        for (const j of seedJobs) if (!tracked.has(foldJobId(run, j))) tracked.set(foldJobId(run, j), { what: describeJob({ ...header, ...foldData(j) }), steps: 0, state: 'unknown', failures: 0, final: false });
      }
      for (const j of jobs) {
        if (manetSeeds.includes(j.seed)) continue;
        await ensure(foldJobId(run, j), describeJob({ ...header, ...foldData(j) }), () => addFold(j));
      }
      first = false;
      await look();
      const { steps, text } = status();
      if (steps > shownSteps || text !== shownInfo) {
        // the bar draws its own ETA
        events.tick?.(Math.max(0, Math.min(steps, prepared.steps) - Math.min(shownSteps, prepared.steps)), { jobs: text });
        shownSteps = Math.max(shownSteps, steps);
        shownInfo = text;
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
    }
    log(`queue: all jobs of run ${run} done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } catch (e) {
    if (e instanceof QueueJobFailedError) await withdraw();
    throw e;
  } finally {
    unwatch();
    await flows.close().catch(() => {});
    await queue.close().catch(() => {});
  }
  return experimentResult(cfg, prepared);
}

/** Remaining time from the rate of optimiser steps so far. */
function eta(t0: number, steps: number, total: number): string {
  if (steps <= 0 || total <= steps) return '?';
  const s = ((Date.now() - t0) / steps) * (total - steps) / 1000;
  return s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}
