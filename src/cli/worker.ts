/** `mimanet worker`: takes the jobs of `mimanet run --queue` until stopped (see src/queue/worker.ts). */
import type { Command } from 'commander';
import { ConfigError } from '../config.js';
import { startQueueWorker } from '../queue/worker.js';
import { DEFAULT_QUEUE_NAME } from '../queue/jobs.js';
import { PASSWORD_ENV, parseRedisUrl, withinSeconds } from '../queue/redis.js';
import { BACKEND_CHOICES } from '../backend/index.js';
import { backendFlag, intFlag } from './run.js';

interface WorkerFlags {
  queue: string;
  queueName?: string;
  concurrency?: string;
  backend?: string;
  stalledAfter?: string;
  quiet?: boolean;
}

/** Seconds without a lock renewal after which a job is given to another worker, unless --stalled-after says otherwise. */
export const DEFAULT_STALLED_AFTER_S = 30;
/** Seconds a stopping worker waits for Redis to take its jobs back before it exits anyway. */
export const STOP_TIMEOUT_S = 10;

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'take jobs of `mimanet run --queue` (MaNet pretraining, LOSO folds) from a Redis queue until stopped. ' +
        'Every machine must see the run\'s results folder at the same path (a shared folder) and run the same mimanet version. ' +
        'SIGTERM or Ctrl-C hands the running jobs back to the queue and exits; a worker that dies has its jobs retried elsewhere.',
    )
    .requiredOption('--queue <url>', `Redis: redis://[:PASSWORD@]HOST:PORT[/DB] or rediss:// (TLS); the password may come from ${PASSWORD_ENV} instead, and is never printed`)
    .option('--queue-name <name>', `the queue to take jobs from, as given to \`mimanet run --queue-name\` (default ${DEFAULT_QUEUE_NAME})`)
    .option('--concurrency <n>', 'jobs run at once, each on its own thread with the cores shared out (default 1)')
    .option('--backend <name>', `run only jobs of runs made on this backend (${BACKEND_CHOICES.filter((b) => b !== 'auto').join(', ')}), refusing the others; without it a worker computes each job on the backend its run was made on`)
    .option('--stalled-after <seconds>', `a job whose worker stops renewing its lock for this long (a killed worker, a lost machine) is given to another worker (default ${DEFAULT_STALLED_AFTER_S})`)
    .option('--quiet', 'no log lines')
    .action(async (flags: WorkerFlags) => {
      const target = parseRedisUrl(flags.queue);
      const concurrency = intFlag('concurrency', flags.concurrency) ?? 1;
      if (concurrency < 1) throw new ConfigError(`option --concurrency is ${concurrency}: expected 1 or more`);
      const stalledAfterS = flags.stalledAfter === undefined ? DEFAULT_STALLED_AFTER_S : Number(flags.stalledAfter);
      if (!Number.isFinite(stalledAfterS) || stalledAfterS < 1) throw new ConfigError(`option --stalled-after is ${JSON.stringify(flags.stalledAfter)}: expected seconds, 1 or more`);
      const backend = flags.backend === undefined ? undefined : backendFlag(flags.backend);
      if (backend === 'auto') throw new ConfigError('option --backend of a worker names the backend of the runs it takes (tfjs-node, native, wasm or cpu); a run records the one it resolved auto to');
      const log = (m: string): void => {
        if (!flags.quiet) process.stderr.write(`${new Date().toISOString()} ${m}\n`);
      };
      const worker = await startQueueWorker({
        target,
        name: flags.queueName ?? DEFAULT_QUEUE_NAME,
        concurrency,
        backend,
        stalledAfterS,
        log,
      });
      // runs until a signal: the first hands the running jobs back and exits, a second exits at once;
      // without Redis nothing can be handed back, so the first exits after STOP_TIMEOUT_S all the same
      const clean = await new Promise<boolean>((resolve) => {
        let signals = 0;
        const onSignal = (sig: NodeJS.Signals): void => {
          if (++signals > 1) process.exit(130);
          log(`worker ${worker.id}: ${sig}, handing back running jobs and stopping`);
          const late = `Redis at ${target.display} did not answer within ${STOP_TIMEOUT_S} s of ${sig}; exiting without handing back jobs (their locks lapse and other workers take them)`;
          void withinSeconds(worker.stop(), STOP_TIMEOUT_S, late).then(
            () => resolve(true),
            (e: unknown) => {
              log(`worker ${worker.id}: ${(e as Error).message}`);
              resolve(false);
            },
          );
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      if (!clean) process.exit(1);
      log(`worker ${worker.id}: stopped`);
    });
}
