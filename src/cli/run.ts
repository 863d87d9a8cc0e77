/** `mimanet run`: the paper's ablation protocol under LOSO, printing the Table 3 layout and writing a results folder. */
import { cpus } from 'node:os';
import type { Command } from 'commander';
import { resolveConfig, readConfigFile, ConfigError, type BackendSetting, type DeepPartial, type MimanetConfig, type Preset } from '../config.js';
import { parseLosses } from '../model/losses.js';
import { BACKEND_CHOICES, checkBackendChoice, initBackend, isGpuBackend, type BackendChoice } from '../backend/index.js';
import { runExperiment } from '../train/experiment.js';
import { runJobsInWorkers } from '../train/workers.js';
import { runExperimentOnQueue } from '../queue/coordinator.js';
import { DEFAULT_ATTEMPTS, DEFAULT_QUEUE_NAME } from '../queue/jobs.js';
import { parseRedisUrl } from '../queue/redis.js';
import { renderConsoleTable } from '../eval/summary.js';
import { writeRunSummary } from '../eval/run-summary.js';
import { writeReport } from '../eval/report-html.js';
import { createProgress, PROGRESS_LINE_MS, type Progress } from '../util/progress.js';

export interface RunFlags {
  preset?: string;
  config?: string;
  out?: string;
  seed?: string;
  seeds?: string;
  losses?: string[];
  backend?: string;
  workers?: string;
  micro?: string;
  macro?: string;
  root?: string[];
  cache?: string;
  scheme?: string;
  skipBad?: boolean;
  quiet?: boolean;
  init?: string;
  trainShares?: string;
  allowBackendChange?: boolean;
  queue?: string;
  queueName?: string;
  attempts?: string;
}

export function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ConfigError(`option --${name} is ${JSON.stringify(v)}: expected an integer`);
  return n;
}

/** What `--backend` accepts, for the help texts. */
export const BACKEND_HELP = BACKEND_CHOICES.join(', ');

/** The backend of a --backend option (default 'auto'), checked. */
export function backendFlag(v: string | undefined): BackendChoice {
  try {
    return checkBackendChoice(v ?? 'auto');
  } catch (e) {
    throw new ConfigError(`option --backend: ${(e as Error).message}`);
  }
}

/** Parses `NAME=DIR` pairs of --root. */
function parseRoots(values: string[] | undefined): Record<string, string> {
  const roots: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0) throw new ConfigError(`option --root is ${JSON.stringify(v)}: expected NAME=DIR, e.g. casme2=/data/CASME2`);
    roots[v.slice(0, i)] = v.slice(i + 1);
  }
  return roots;
}

/** Resolves the config of a run from a file, a preset and command-line flags (flags win). */
export async function configFromFlags(flags: RunFlags): Promise<MimanetConfig> {
  const fromFile: DeepPartial<MimanetConfig> = flags.config ? await readConfigFile(flags.config) : {};
  const partial: DeepPartial<MimanetConfig> & { preset?: Preset } = { ...fromFile };
  if (flags.preset !== undefined) partial.preset = flags.preset as Preset;
  if (flags.out !== undefined) partial.out = flags.out;
  if (flags.seed !== undefined) partial.seed = intFlag('seed', flags.seed);
  if (flags.seeds !== undefined) partial.seeds = intFlag('seeds', flags.seeds);
  if (flags.backend !== undefined) partial.backend = flags.backend as BackendSetting; // checked by resolveConfig
  if (flags.init !== undefined) partial.model = { ...(partial.model ?? {}), init: flags.init };
  if (flags.trainShares !== undefined) {
    partial.microTrainShares = flags.trainShares.split(',').map((x) => {
      const v = Number(x.trim());
      if (x.trim() === '' || !Number.isFinite(v)) throw new ConfigError(`option --train-shares is ${JSON.stringify(flags.trainShares)}: expected shares in (0, 1] separated by commas, e.g. 1,0.5,0.25`);
      return v;
    });
  }
  if (flags.losses && flags.losses.length > 0) {
    partial.variants = flags.losses.map((l) => {
      try {
        return parseLosses(l);
      } catch (e) {
        throw new ConfigError(`option --losses: ${(e as Error).message}`);
      }
    });
  }
  if (flags.micro !== undefined || flags.macro !== undefined) {
    const fileData = (fromFile.data ?? {}) as Record<string, unknown>;
    for (const role of ['micro', 'macro'] as const) {
      if (flags[role] === undefined && fileData[role] === undefined) {
        const other = role === 'micro' ? 'macro' : 'micro';
        const names = role === 'micro' ? 'casme2, samm, smic, casme3, 4dme, megc2019 or a list of them' : 'ckplus or mmi';
        throw new ConfigError(`option --${role} is missing: a run on a real --${other} dataset needs a ${role} dataset too (${names}), or data.${role} in the config`);
      }
    }
    partial.data = {
      ...fileData,
      kind: 'prepared',
      micro: flags.micro ?? (fileData.micro as string | undefined) ?? '',
      macro: flags.macro ?? (fileData.macro as string | undefined) ?? '',
      roots: { ...((fileData.roots as Record<string, string> | undefined) ?? {}), ...parseRoots(flags.root) },
      ...(flags.cache !== undefined ? { cacheDir: flags.cache } : {}),
      ...(flags.scheme !== undefined ? { scheme: flags.scheme } : {}),
      ...(flags.skipBad ? { skipBad: true } : {}),
    } as DeepPartial<MimanetConfig>['data'];
  }
  return resolveConfig(partial);
}

/**
 * Workers beyond the cores only add memory (each holds a backend and the data);
 * beyond the folds they would idle. Returns the count and a note when capped.
 */
export function capWorkers(requested: number, cores: number, folds?: number): { workers: number; note?: string } {
  const limit = Math.max(1, Math.min(cores, folds ?? Infinity));
  if (requested <= limit) return { workers: requested };
  const why = folds !== undefined && folds < cores ? `${folds} folds` : `${cores} cores`;
  return { workers: limit, note: `--workers ${requested}: using ${limit}, one per ${why.split(' ')[1].replace(/s$/, '')} (${why}); more would only add memory` };
}

export function defaultWorkers(): number {
  return Math.max(1, Math.min(2, cpus().length));
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the ablation rows of Tables 2-5 under leave-one-subject-out and write a results folder')
    .option('--preset <name>', 'quick (CPU-sized, minutes) or paper (ResNet18 at 112x112, T=16)', undefined)
    .option('--config <file>', 'JSON or YAML config file (see README: Configuration)')
    .option('--out <dir>', 'results folder (default runs/<preset>); a rerun resumes what is there')
    .option('--seed <n>', 'base seed (seed i of --seeds is seed + i)')
    .option('--seeds <n>', 'repeat the protocol with this many seeds and report mean and std')
    .option('--losses <terms>', 'one ablation row, e.g. c,s,sam,t,con; repeat for several rows (default: the six rows of Table 3)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--backend <name>', BACKEND_HELP)
    .option('--workers <n>', 'parallel fold workers, one backend each (default: min(2, cores))')
    .option('--train-shares <list>', 'sample efficiency: shares of each fold\'s micro training subjects, e.g. 1,0.5,0.25 (one set of rows per share; default 1)')
    .option('--init <spec>', 'imagenet:FILE: start both ResNet18 trunks of MiNet and MaNet from torchvision/timm ImageNet weights (.safetensors; needs width 64)')
    .option('--micro <name>', 'real micro dataset: casme2, samm, smic, casme3, 4dme, megc2019, or a list such as smic,casme2,samm,casme3 (default: the embedded synthetic data)')
    .option('--macro <name>', 'real macro dataset: ckplus or mmi')
    .option('--root <name=dir>', 'dataset root folder, e.g. --root casme2=/data/CASME2 (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--cache <dir>', 'prepared-clip cache folder (default .cache/mimanet)')
    .option('--scheme <name>', 'label scheme of the micro dataset, e.g. casme2-7 (default: its usual task: casme2-5, samm-5, smic-3, casme3-7, 4dme-5, megc2019; megc-3 for a list)')
    .option('--skip-bad', 'skip clips that cannot be prepared (each is reported) instead of stopping')
    .option('--allow-backend-change', 'resume a results folder begun on another backend (each new row records its backend)')
    .option('--queue <url>', 'run the jobs on `mimanet worker` processes through Redis: redis://[:PASSWORD@]HOST:PORT[/DB] or rediss:// (TLS); the password may come from MIMANET_REDIS_PASSWORD instead (see README: Running on many machines)')
    .option('--queue-name <name>', `with --queue: the queue the workers take jobs from (default ${DEFAULT_QUEUE_NAME})`)
    .option('--attempts <n>', `with --queue: tries of a job before it fails the run (default ${DEFAULT_ATTEMPTS})`)
    .option('--quiet', 'no progress bar or log lines; only the final table')
    .action(async (flags: RunFlags) => {
      const cfg = await configFromFlags(flags);
      const target = flags.queue !== undefined ? parseRedisUrl(flags.queue) : undefined;
      if (target && flags.workers !== undefined) throw new ConfigError('option --workers sets the threads of a local run; with --queue, start `mimanet worker --concurrency N` on each machine');
      if (!target && (flags.queueName !== undefined || flags.attempts !== undefined)) throw new ConfigError('options --queue-name and --attempts need --queue');
      const attempts = intFlag('attempts', flags.attempts) ?? DEFAULT_ATTEMPTS;
      if (attempts < 1) throw new ConfigError(`option --attempts is ${attempts}: expected 1 or more`);
      const asked = intFlag('workers', flags.workers);
      if (asked !== undefined && asked < 1) throw new ConfigError(`option --workers is ${asked}: expected 1 or more`);
      // a queued run is made on the backend chosen here: its workers compute on the same
      const backend = await initBackend(cfg.backend);
      const onGpu = isGpuBackend(backend);
      const requested = target ? 1 : (asked ?? (onGpu ? 1 : defaultWorkers()));
      const { workers, note } = target ? { workers: 0, note: undefined }
        : onGpu && requested > 1 ? { workers: 1, note: `--workers ${requested}: using 1 on the GPU backend ${backend.requested === 'auto' ? backend.name : backend.requested} (fold workers would only share one GPU)` }
          : capWorkers(requested, cpus().length);
      const log = (m: string): void => {
        if (!flags.quiet) process.stderr.write(`${m}\n`);
      };
      if (note) log(note);
      const queueName = flags.queueName ?? DEFAULT_QUEUE_NAME;
      log(`mimanet run: preset ${cfg.preset}, backend ${backend.name}, ${target ? `jobs on queue "${queueName}" at ${target.display}` : `${workers} worker(s)`}, results in ${cfg.out}`);
      let bar: Progress | undefined;
      const t0 = Date.now();
      const events = {
        log,
        plan: (total: number) => {
          if (total > 0 && !flags.quiet) bar = createProgress({ label: 'training', total, lineEveryMs: PROGRESS_LINE_MS });
        },
        tick: (steps: number, info: Record<string, string | number>) => bar?.tick(steps, info),
      };
      try {
        const result = target
          ? await runExperimentOnQueue(cfg, {
              target,
              name: queueName,
              attempts,
              backend,
              allowBackendChange: flags.allowBackendChange,
              info: { backend: { ...backend }, workers, queue: { url: target.display, name: queueName } },
              events,
            })
          : await runExperiment(cfg, { workers, allowBackendChange: flags.allowBackendChange, info: { backend: { ...backend }, workers }, runJobsInWorkers, events });
        bar?.stop();
        const summary = writeRunSummary(cfg, { name: result.dataset, labels: result.labels }, result.folds);
        log(`report: ${await writeReport(cfg.out)}`);
        process.stdout.write(renderConsoleTable(summary) + '\n');
        log(`${result.computedUnits} fold-rows trained, ${result.resumedUnits} reused; ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        log(`results: ${result.out}/summary.md, summary.json, predictions.csv, folds.csv, config.json`);
      } finally {
        bar?.stop();
      }
    });
}
