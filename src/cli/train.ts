/** `mimanet train`: the deployable MiNet, trained on every micro subject, written as a checkpoint folder. */
import type { Command } from 'commander';
import { ConfigError } from '../config.js';
import { parseLosses, variantName, type LossTerm } from '../model/losses.js';
import { initBackend } from '../backend/index.js';
import { BACKEND_HELP, configFromFlags, type RunFlags } from './run.js';
import { DEFAULT_TRAIN_LOSSES, trainAll } from '../train/train-all.js';
import { createProgress, PROGRESS_LINE_MS, type Progress } from '../util/progress.js';

export interface TrainFlags extends Omit<RunFlags, 'losses' | 'seeds' | 'workers'> {
  losses?: string;
  init?: string;
}

/** Default checkpoint folder: models/<preset>, apart from the results folders of `run`. */
export function defaultModelDir(preset: string): string {
  return `models/${preset}`;
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train MaNet, then MiNet on all micro subjects with guided fine-tuning, and write a checkpoint folder for `mimanet predict`')
    .option('--preset <name>', 'quick (CPU-sized, minutes) or paper (ResNet18 at 112x112, T=16)')
    .option('--config <file>', 'JSON or YAML config file (see README: Configuration)')
    .option('--out <dir>', 'checkpoint folder (default models/<preset>); a rerun reuses the pretrained nets in OUT/training')
    .option('--seed <n>', 'seed of initialisation, sampling and augmentation')
    .option('--losses <terms>', 'loss terms of guided fine-tuning, e.g. c,s,sam,t,con (default: all five, or the config\'s single row)')
    .option('--init <spec>', 'imagenet:FILE: start both ResNet18 trunks from torchvision/timm ImageNet weights (.safetensors; needs width 64)')
    .option('--backend <name>', BACKEND_HELP)
    .option('--micro <name>', 'real micro dataset: casme2, samm, smic, casme3, 4dme, megc2019, or a list such as smic,casme2,samm,casme3 (default: the embedded synthetic data)')
    .option('--macro <name>', 'real macro dataset: ckplus or mmi')
    .option('--root <name=dir>', 'dataset root folder, e.g. --root casme2=/data/CASME2 (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--cache <dir>', 'prepared-clip cache folder (default .cache/mimanet)')
    .option('--skip-bad', 'skip clips that cannot be prepared (each is reported) instead of stopping')
    .option('--quiet', 'no progress bar or log lines')
    .action(async (flags: TrainFlags) => {
      const { losses: lossFlag, ...runFlags } = flags;
      // --init goes into the config, so it is validated, saved in config.json and covered by the fingerprint
      const cfg = await configFromFlags(runFlags);
      if (flags.out === undefined && cfg.out === `runs/${cfg.preset}`) cfg.out = defaultModelDir(cfg.preset);
      let losses: LossTerm[];
      try {
        losses = lossFlag !== undefined ? parseLosses(lossFlag) : cfg.variants.length === 1 ? cfg.variants[0] : [...DEFAULT_TRAIN_LOSSES];
      } catch (e) {
        throw new ConfigError(`option --losses: ${(e as Error).message}`);
      }
      const backend = await initBackend(cfg.backend);
      const log = (m: string): void => {
        if (!flags.quiet) process.stderr.write(`${m}\n`);
      };
      log(`mimanet train: preset ${cfg.preset}, backend ${backend.name}, ${variantName(losses)}, checkpoint in ${cfg.out}`);
      let bar: Progress | undefined;
      try {
        const r = await trainAll(cfg, {
          losses,
          info: { backend: { ...backend }, workers: 1 },
          events: {
            log,
            plan: (total) => {
              if (total > 0 && !flags.quiet) bar = createProgress({ label: 'training', total, lineEveryMs: PROGRESS_LINE_MS });
            },
            tick: (steps, info) => bar?.tick(steps, info),
          },
        });
        bar?.stop();
        log(`MiNet accuracy on its own training clips ${r.trainAccuracy.toFixed(3)} (not a test score; see \`mimanet run\`); ${r.seconds.toFixed(0)} s`);
        process.stdout.write(`${r.dir}\n`);
      } finally {
        bar?.stop();
      }
    });
}
