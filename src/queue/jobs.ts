/**
 * The jobs of a run on the queue: what each carries, its id, and the checks a
 * worker makes before it takes one.
 *
 * A run is split into the units `mimanet run` computes anyway:
 *
 *   manet    one per seed: MaNet pretrained (or loaded) and the transfer diagnostic
 *   release  one per seed, the parent of `manet` in a BullMQ flow: it becomes
 *            runnable only once `manet` has completed, and queues the seed's fold jobs
 *   fold     one per seed, training share and LOSO fold: MiNet pretraining, then
 *            the rows (`runFoldJob`)
 *
 * Job ids are derived from the run and the unit, so queueing a unit twice
 * (a coordinator started again, a release job retried) adds nothing. Every
 * job carries the resolved config; the weights and results live in the
 * results folder, which every machine mounts at the same path.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { JobsOptions } from 'bullmq';
import type { MimanetConfig } from '../config.js';
import { checkBackendChoice, type BackendChoice, type BackendInfo } from '../backend/index.js';
import type { FoldJob, RecordStamp } from '../train/experiment.js';
import { configFingerprint, readRunRecord, settingsFingerprint } from '../results/index.js';
import { MIMANET_VERSION } from '../version.js';

/** Queue name used when none is given (`--queue-name`). */
export const DEFAULT_QUEUE_NAME = 'mimanet';
/** Tries of a job before it fails the run (`--attempts`). */
export const DEFAULT_ATTEMPTS = 3;
/** Wait before the first retry of a failed job; doubled at each further try. */
export const RETRY_DELAY_MS = 2000;
/** Finished jobs stay in Redis this long (for `mimanet run` started again, and for inspection). */
const KEEP_FINISHED_S = 14 * 24 * 3600;

/** What every job of a run carries. */
export interface JobHeader {
  /** The run's id (see {@link runId}). */
  run: string;
  /** mimanet version of the coordinator that queued it. */
  version: string;
  /** Settings fingerprint of `cfg` where it was queued. */
  fingerprint: string;
  /** The run's resolved config; `out` is an absolute path, `backend` the one the run is made on. */
  cfg: MimanetConfig;
  /** What every record of the run keeps: its settings, the backend included. */
  record: RecordStamp;
}

export type QueueJobData = JobHeader &
  (
    | { kind: 'manet'; seed: number }
    | { kind: 'release'; seed: number; folds: FoldJobData[]; opts: JobsOptions }
    | FoldJobData
  );

export interface FoldJobData {
  kind: 'fold';
  job: FoldJob;
  /** The held-out subject of `job.fold` (names the fold's folder). */
  subject: string;
}

/** A run's id: its settings, results folder, rows and shares. The same command gives the same id. */
export function runId(cfg: MimanetConfig): string {
  const key = { fingerprint: configFingerprint(cfg), out: resolve(cfg.out), variants: cfg.variants, shares: cfg.microTrainShares };
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 12);
}

export function manetJobId(run: string, seed: number): string {
  return `${run}.manet.s${seed}`;
}

export function releaseJobId(run: string, seed: number): string {
  return `${run}.release.s${seed}`;
}

export function foldJobId(run: string, job: Pick<FoldJob, 'seed' | 'share' | 'fold'>): string {
  return `${run}.fold.s${job.seed}.share${job.share}.f${job.fold + 1}`;
}

/** Retries with exponential back-off; finished jobs kept for two weeks. */
export function jobOptions(attempts: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: RETRY_DELAY_MS },
    removeOnComplete: { age: KEEP_FINISHED_S },
    removeOnFail: { age: KEEP_FINISHED_S },
  };
}

/** A job's unit in words, for logs and errors. */
export function describeJob(data: QueueJobData): string {
  if (data.kind === 'manet') return `seed ${data.seed}, MaNet`;
  if (data.kind === 'release') return `seed ${data.seed}, queueing fold jobs`;
  const { seed, fold, share } = data.job;
  return `seed ${seed}, fold ${fold + 1} (held-out subject ${data.subject})${share === 1 ? '' : `, share ${share}`}`;
}

/**
 * Why this worker must not run a job, or undefined when it may: the job was
 * queued by another mimanet version, this copy reads its config to another
 * fingerprint, the results folder it writes to is not visible here or belongs
 * to another run, or the worker is tied (`backend`) to another backend.
 */
export function refusal(data: JobHeader, worker: string, backend?: BackendChoice): string | undefined {
  const head = `worker ${worker} (mimanet ${MIMANET_VERSION}) refuses the job`;
  if (data.version !== MIMANET_VERSION) {
    return `${head}: it was queued by mimanet ${data.version}; run workers of the same version as \`mimanet run --queue\``;
  }
  const here = configFingerprint(data.cfg);
  if (here !== data.fingerprint) {
    return `${head}: its config has fingerprint ${here} here but ${data.fingerprint} where it was queued; run workers of the same build as the coordinator`;
  }
  let run;
  try {
    run = readRunRecord(data.cfg.out);
  } catch (e) {
    return `${head}: ${(e as Error).message}`;
  }
  if (!run) {
    return `${head}: the results folder ${data.cfg.out} is not visible on this machine; mount the shared folder at the same path on every machine`;
  }
  const settings = settingsFingerprint(data.record.settings);
  if (run.fingerprint !== settings) {
    return `${head}: ${data.cfg.out} holds a run with settings fingerprint ${run.fingerprint}, the job belongs to ${settings}`;
  }
  if (backend !== undefined && backend !== data.cfg.backend) {
    return `${head}: it runs only jobs on backend ${backend} (--backend), and this run is made on ${data.cfg.backend}; backends round differently, so their results are not mixed`;
  }
  return undefined;
}

/**
 * The backend choice that initialises `info`'s backend again on a worker
 * (`auto` resolved, so that every worker computes on the backend the run
 * records).
 */
export function backendChoiceOf(info: BackendInfo): BackendChoice {
  if (info.name === 'tensorflow') return info.kernels === 'cuda' ? 'tfjs-node-gpu' : 'tfjs-node';
  return checkBackendChoice(info.name);
}
