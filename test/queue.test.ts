/**
 * The job queue end to end, with a real redis-server on a loopback port and
 * real `mimanet run --queue` and `mimanet worker` processes: a worker killed
 * mid-job, a coordinator killed and started again, Redis restarted with its
 * queue lost, a job that fails every time, and workers refusing jobs of
 * another version or run. Summaries are compared with a local run of the
 * same config. See test/queue-helpers.ts for how Redis is found.
 */
import { describe, it, expect, beforeAll, vi } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Queue, type Job } from 'bullmq';
import { runCli, tempDir, tinyConfig } from './helpers.js';
import { REDIS_FOUND, REDIS_REQUIRED, REDIS_SERVER, startMimanet, startRedis, type Child, type RunningRedis } from './queue-helpers.js';
import { parseRedisUrl } from '../src/queue/redis.js';
import { STOP_TIMEOUT_S } from '../src/cli/worker.js';
import { startQueueWorker } from '../src/queue/worker.js';
import { foldJobId, manetJobId, runId, type QueueJobData } from '../src/queue/jobs.js';
import { configFromFlags } from '../src/cli/run.js';
import { configFingerprint, prepareRunFolder } from '../src/results/index.js';
import { MIMANET_VERSION } from '../src/version.js';
import { NATIVE_ADDON_PATH } from '../src/backend/native.js';

const NATIVE_BUILT = existsSync(NATIVE_ADDON_PATH);

// These tests wait on events (a line printed, a process ended, a job's state), never on a clock tuned to a
// quiet machine: on a loaded one they only take longer. The timeout is the net for a hang, not a budget.
vi.setConfig({ testTimeout: 20 * 60_000, hookTimeout: 20 * 60_000 });

const ENABLED = REDIS_REQUIRED || REDIS_FOUND;
if (!ENABLED) {
  console.warn(`queue tests skipped: no ${REDIS_SERVER}; install it (apt-get install -y redis-server) or set MIMANET_REDIS_SERVER=PATH, and MIMANET_REQUIRE_REDIS=1 to require it`);
}

/** Seconds after which a dead worker's job goes to another worker, in these tests. */
const STALLED_AFTER = '5';

let dir: string;
let configPath: string;
/** summary.json and predictions.csv of a local run of the tiny config. */
let local: { summary: Record<string, unknown>; predictions: string };

function results(out: string): { summary: Record<string, unknown>; predictions: string } {
  const { config, ...summary } = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, unknown>;
  // the config differs only in `out`
  summary.config = { ...(config as object), out: undefined };
  return { summary, predictions: readFileSync(join(out, 'predictions.csv'), 'utf8') };
}

/** redis-server with its files in DIR/NAME. */
async function redisIn(name: string, opts: { password?: string; persist?: boolean } = {}): Promise<RunningRedis> {
  const d = join(dir, name);
  mkdirSync(d);
  return startRedis(d, opts);
}

/** SIGTERM: the worker stops cleanly. */
async function stopWorker(w: Child): Promise<void> {
  w.proc.kill('SIGTERM');
  expect(await w.exited).toBe(0);
  expect(w.output()).toMatch(/stopped/);
}

function worker(url: string, ...more: string[]): Child {
  return startMimanet(['worker', '--queue', url, '--stalled-after', STALLED_AFTER, ...more]);
}

beforeAll(async () => {
  if (!ENABLED) return;
  if (!REDIS_FOUND) throw new Error(`${REDIS_SERVER} not found and MIMANET_REQUIRE_REDIS=1 requires it: the queue tests run a real Redis; install it with \`apt-get install -y redis-server\``);
  dir = tempDir('queue');
  configPath = join(dir, 'tiny.json');
  writeFileSync(configPath, JSON.stringify(tinyConfig));
  const r = await runCli(['run', '--config', configPath, '--out', join(dir, 'local'), '--workers', '1', '--quiet']);
  expect(r.code).toBe(0);
  local = results(join(dir, 'local'));
});

describe.skipIf(!ENABLED)('mimanet run --queue with mimanet worker processes', () => {
  it('two workers, one SIGKILLed mid-job: its job is retried on the other and the summary equals a local run; the password is never shown', async () => {
    const password = 'pw-' + Math.random().toString(36).slice(2);
    const redis = await redisIn('redis-kill', { password });
    const out = join(dir, 'kill');
    const w1 = worker(redis.url);
    const w2 = worker(redis.url);
    await Promise.all([w1.waitFor(/1 job\(s\) at a time/), w2.waitFor(/1 job\(s\) at a time/)]);
    const coord = startMimanet(['run', '--config', configPath, '--out', out, '--queue', redis.url]);

    // the first fold job to start: kill its worker while it computes
    const starts = [w1, w2].map((w) => w.waitFor(/(\S+\.fold\.\S+) \(.*\): started/).then((m) => ({ w, job: m[1] })));
    for (const p of starts) p.catch(() => {}); // the loser of the race may never match
    const started = await Promise.race(starts);
    started.w.proc.kill('SIGKILL');
    const survivor = started.w === w1 ? w2 : w1;
    expect(await started.w.exited).toBe('SIGKILL');

    expect(await coord.exited).toBe(0);
    // the killed worker's job ran again, on the other worker
    expect(survivor.output()).toMatch(new RegExp(`${started.job.replace(/\./g, '\\.')} \\(.*\\): done`));
    expect(coord.output()).toMatch(/L_c \+ L_s \+ L_sam \+ L_t \+ L_con\s+\d\.\d{3}/);
    expect(coord.output()).toMatch(/8 fold-rows trained, 0 reused/);
    const queued = results(out);
    expect(queued.summary).toEqual(local.summary);
    expect(queued.predictions).toBe(local.predictions);

    // SIGTERM: the survivor stops cleanly
    await stopWorker(survivor);

    const runJson = readFileSync(join(out, 'run.json'), 'utf8');
    expect(JSON.parse(runJson).queue).toEqual({ url: `redis://:***@127.0.0.1:${redis.port}`, name: 'mimanet' });
    for (const text of [coord.output(), w1.output(), w2.output(), runJson, readFileSync(join(out, 'config.json'), 'utf8'), readFileSync(join(out, 'summary.json'), 'utf8')]) {
      expect(text).not.toContain(password);
    }
    await redis.stop();
  });

  it.skipIf(!NATIVE_BUILT)('one worker with --concurrency 2 on the native kernels (oneDNN where present), under CPU burners: the predictions of a local one-worker run, byte for byte', async () => {
    const cfg = join(dir, 'native.json');
    writeFileSync(cfg, JSON.stringify({ ...tinyConfig, backend: 'native', model: { ...tinyConfig.model, width: 8 } }));
    const ref = await runCli(['run', '--config', cfg, '--out', join(dir, 'native-local'), '--workers', '1', '--quiet']);
    expect(ref.code, ref.err).toBe(0);
    const redis = await redisIn('redis-concurrency');
    const w = startMimanet(['worker', '--queue', redis.url, '--stalled-after', STALLED_AFTER, '--concurrency', '2'], { MIMANET_DEBUG_JITTER_MS: '300' });
    await w.waitFor(/2 job\(s\) at a time/);
    const burners = [0, 1].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    try {
      const coord = startMimanet(['run', '--config', cfg, '--out', join(dir, 'native-queued'), '--queue', redis.url]);
      expect(await coord.exited, coord.output()).toBe(0);
    } finally {
      for (const b of burners) b.kill('SIGKILL');
    }
    // fold jobs overlapped in the one worker process: a second one started before the first was done
    const events = [...w.output().matchAll(/\.fold\.\S+ \(.*\): (started|done)/g)].map((m) => m[1]);
    expect(events.slice(0, 2)).toEqual(['started', 'started']);
    expect(readFileSync(join(dir, 'native-queued', 'predictions.csv'), 'utf8')).toBe(readFileSync(join(dir, 'native-local', 'predictions.csv'), 'utf8'));
    await stopWorker(w);
    await redis.stop();
  });

  it('a coordinator killed and started again adds no job twice; Redis restarted with its queue lost: the units missing from the folder are queued again and the run completes', async () => {
    const redis = await redisIn('redis-restart');
    const out = join(dir, 'restart');
    const w = worker(redis.url);
    const args = ['run', '--config', configPath, '--out', out, '--queue', redis.url];
    const c1 = startMimanet(args);
    await c1.waitFor(/seed 1, MaNet: done/);
    c1.proc.kill('SIGKILL');
    await c1.exited;

    const c2 = startMimanet(args);
    await c2.waitFor(/fold \d .*: done/);
    // no job was queued twice, so none started twice
    const starts = [...w.output().matchAll(/(\S+) \(.*\): started/g)].map((m) => m[1]);
    expect(new Set(starts).size).toBe(starts.length);
    expect(c2.output()).not.toMatch(/queued again/);

    await redis.restart();
    expect(await c2.exited).toBe(0);
    // units were still missing after the restart, and their jobs were gone with the queue
    expect(c2.output()).toMatch(/queued again \(its job was not in Redis\)/);
    expect(results(out)).toEqual({ ...local });
    await stopWorker(w);
    await redis.stop();
  });

  it('a worker stopped by SIGTERM mid-job hands the job back at once; Redis restarted with its append-only file keeps the queue; the run completes', async () => {
    const redis = await redisIn('redis-aof', { persist: true });
    const out = join(dir, 'aof');
    const first = worker(redis.url);
    const c = startMimanet(['run', '--config', configPath, '--out', out, '--queue', redis.url]);
    const job = (await first.waitFor(/(\S+\.fold\.\S+) \(.*\): started/))[1];
    await stopWorker(first);
    expect(first.output()).toMatch(/handed back to the queue/);
    // back in the queue at once, not once its lock has lapsed
    const queue = new Queue('mimanet', { connection: parseRedisUrl(redis.url).options });
    expect(await queue.getJobState(job)).toBe('waiting');
    await queue.close();
    const w = worker(redis.url);
    await w.waitFor(new RegExp(`${job.replace(/\./g, '\\.')} \\(.*\\): done`));
    await c.waitFor(/fold \d .*: done/);
    await redis.restart();
    const before = w.output().length;
    expect(await c.exited).toBe(0);
    // the restart came mid-run (jobs started after it), and the new server read the queue back from its file
    expect(w.output().slice(before)).toMatch(/fold\.\S+ \(.*\): started/);
    expect(redis.output()).toMatch(/DB loaded from append only file/);
    expect(c.output()).not.toMatch(/queued again/);
    expect(results(out)).toEqual({ ...local });
    await stopWorker(w);
    await redis.stop();
  });

  it('a worker whose Redis stops answering says so after the command wait, and says when it answers again; once Redis is gone, the first SIGTERM exits within the stop timeout', async () => {
    const redis = await redisIn('redis-silent');
    const w = startMimanet(['worker', '--queue', redis.url]);
    await w.waitFor(/1 job\(s\) at a time/);
    const shown = `Redis at redis://127\\.0\\.0\\.1:${redis.port}`;
    // a stopped process keeps its socket open and answers nothing
    redis.signal('SIGSTOP');
    await w.waitFor(new RegExp(`${shown}: no answer for \\d+ s; waiting for it`));
    redis.signal('SIGCONT');
    await w.waitFor(new RegExp(`${shown}: answering again`));
    await redis.stop();
    w.proc.kill('SIGTERM');
    expect(await w.exited, w.output()).toBe(1);
    expect(w.output()).toMatch(new RegExp(`${shown} did not answer within ${STOP_TIMEOUT_S} s of SIGTERM; exiting without handing back jobs \\(their locks lapse and other workers take them\\)`));
  });

  it('a job that fails every time fails the run with its error after the given number of attempts', async () => {
    const redis = await redisIn('redis-fail');
    // bad data: ImageNet weights that are not a safetensors file; MaNet's job reads them first
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, 'not weights\n');
    const cfg = join(dir, 'bad.json');
    writeFileSync(cfg, JSON.stringify({ ...tinyConfig, model: { ...tinyConfig.model, width: 64, init: `imagenet:${bad}` } }));
    const w = worker(redis.url);
    const c = startMimanet(['run', '--config', cfg, '--out', join(dir, 'fail'), '--queue', redis.url, '--attempts', '2']);
    expect(await c.exited).toBe(1);
    expect(c.output()).toMatch(/mimanet: error: seed 1, MaNet failed after 2 attempt\(s\): .*bad\.safetensors: header length \d+ is implausible/);
    expect(w.output().match(/manet\.s1 \(seed 1, MaNet\): started/g)).toHaveLength(2);
    await stopWorker(w);
    await redis.stop();
  });

  it('a worker refuses, without retries, jobs of another mimanet version, another fingerprint, a results folder it cannot see or of another run, or another backend than its --backend', async () => {
    const redis = await redisIn('redis-refuse');
    const target = parseRedisUrl(redis.url);
    const cfg = await configFromFlags({ config: configPath, out: join(dir, 'refuse') });
    const folder = prepareRunFolder(cfg, { backend: { name: 'wasm' }, workers: 0 });
    const run = runId(cfg);
    const header = { run, version: MIMANET_VERSION, fingerprint: configFingerprint(cfg), cfg, record: { settings: folder.settings } };
    const queue = new Queue<QueueJobData>('refuse', { connection: target.options });
    const logs: string[] = [];
    const w = await startQueueWorker({ target, name: 'refuse', concurrency: 1, backend: 'wasm', stalledAfterS: 5, log: (m) => logs.push(m) });
    try {
      const cases: Array<[QueueJobData, RegExp]> = [
        [{ ...header, version: '0.0.0-other', kind: 'manet', seed: 1 }, /refuses the job: it was queued by mimanet 0\.0\.0-other; run workers of the same version/],
        [{ ...header, fingerprint: '0123456789abcdef', kind: 'manet', seed: 2 }, /its config has fingerprint [0-9a-f]{16} here but 0123456789abcdef where it was queued/],
        [{ ...header, cfg: { ...cfg, out: join(dir, 'not-shared') }, kind: 'manet', seed: 3 }, /results folder .*not-shared is not visible on this machine; mount the shared folder/],
        [{ ...header, record: { settings: { ...folder.settings, 'finetune.lr': 1 } }, kind: 'manet', seed: 4 }, /holds a run with settings fingerprint [0-9a-f]{16}, the job belongs to [0-9a-f]{16}/],
        [{ ...header, cfg: { ...cfg, backend: 'cpu' }, kind: 'manet', seed: 5 }, /it runs only jobs on backend wasm \(--backend\), and this run is made on cpu/],
      ];
      for (const [data, pattern] of cases) {
        const job = await queue.add('manet', data, { jobId: manetJobId(run, data.kind === 'manet' ? data.seed : 0), attempts: 3 });
        const failed = await waitForState(queue, job.id!, 'failed');
        expect(failed.failedReason).toMatch(pattern);
        expect(failed.attemptsMade).toBe(1);
      }
      expect(logs.join('\n')).toMatch(/refuses the job/);
      expect(foldJobId(run, { seed: 1, share: 1, fold: 0 })).not.toContain(':');
    } finally {
      await w.stop();
      await queue.obliterate({ force: true });
      await queue.close();
      await redis.stop();
    }
  });
});

/** Polls until job `id` is in `state` (vitest's test timeout is the net for a job that never gets there). */
async function waitForState(queue: Queue, id: string, state: string): Promise<Job> {
  for (;;) {
    const job = (await queue.getJob(id)) as Job;
    // read the job again once it is there: the copy fetched before the state changed lacks failedReason
    if ((await job.getState()) === state) return (await queue.getJob(id)) as Job;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('mimanet worker --help', () => {
  it('explains the options', async () => {
    const r = await runCli(['worker', '--help']);
    expect(r.code).toBe(0);
    for (const opt of ['--queue <url>', '--queue-name', '--concurrency', '--backend', '--stalled-after', 'MIMANET_REDIS_PASSWORD', 'SIGTERM']) expect(r.out).toContain(opt);
  });
});
