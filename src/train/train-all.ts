/**
 * Trains the deployable MiNet: the paper's pipeline once, on every micro
 * subject (no held-out subject: this is for use, not for scoring).
 *
 *   MaNet    pretrained on the macro data (L_c)
 *   MiNet    pretrained on all micro clips (L_c)
 *   MiNet    guided fine-tuning by the frozen MaNet with the chosen loss terms (Eq. 8)
 *   ->       checkpoint folder (src/model/checkpoint.ts), v = aggregate of the v(s)
 *
 *   OUT/model.json, weights.bin, mimanet.json   the checkpoint (`mimanet predict --model OUT`)
 *   OUT/config.json                             the resolved config
 *   OUT/labels.txt                              class names, one a line, in output order
 *   OUT/training/                               MaNet and pretrained MiNet weights, curves (a rerun resumes from them)
 */
import { join } from 'node:path';
import type { MimanetConfig } from '../config.js';
import { loadExperimentData } from '../data/load.js';
import { TwoStreamNet } from '../model/twostream.js';
import { withInitSeed } from '../model/resnet.js';
import { hasNetWeights } from '../model/io.js';
import { LOSS_TERMS, variantName, type LossTerm } from '../model/losses.js';
import { AGGREGATION_VERSION, saveCheckpoint, type CheckpointMeta } from '../model/checkpoint.js';
import { parseImagenetInit, readSafetensors } from '../model/safetensors.js';
import { netConfig, obtainManet, obtainMinet, finetuneOptions, normalizationOf, type ExperimentEvents } from './experiment.js';
import { configFingerprint, lockRunFolder, manetPath, prepareRunFolder, seedDir, type RunInfo, type Settings } from '../results/index.js';
import { pretrainSteps, predictClips } from './pretrain.js';
import { finetuneSteps, guidedFinetune } from './finetune.js';
import { deriveSeed } from '../util/rng.js';
import { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';

/** Loss terms of the deployable model unless told otherwise: all five of Eq. 8. */
export const DEFAULT_TRAIN_LOSSES: readonly LossTerm[] = LOSS_TERMS;

export interface TrainAllOptions {
  /** Loss terms of guided fine-tuning. Default {@link DEFAULT_TRAIN_LOSSES}. */
  losses?: LossTerm[];
  /** 'scratch' or `imagenet:FILE` (start both trunks of MaNet and MiNet from torchvision/timm ResNet18 weights). Default: the config's `model.init`. */
  init?: string;
  /** Recorded in OUT/training/run.json. */
  info?: RunInfo;
  events?: ExperimentEvents;
}

export interface TrainAllResult {
  /** The checkpoint folder (cfg.out). */
  dir: string;
  meta: CheckpointMeta;
  /** Accuracy of the final MiNet on its own training clips (a sanity check, not a score). */
  trainAccuracy: number;
  /** Per-epoch mean L_c of MiNet pretraining (empty when resumed from disk). */
  pretrainCurve: number[];
  /** Per-epoch means of each loss term of guided fine-tuning. */
  curves: Array<Record<string, number>>;
  seconds: number;
}

/** Folder of the intermediate weights of a `train` run. */
export function trainingDir(out: string): string {
  return join(out, 'training');
}

interface InitRecord {
  init: string | null;
}

/**
 * Refuses to resume from intermediate weights that were started from another
 * initialisation (the config fingerprint does not cover it).
 */
function checkInitRecord(dir: string, init: string | undefined): void {
  const p = join(dir, 'init.json');
  const prev = readJsonIfExists<InitRecord>(p);
  const now = init ?? null;
  if (prev && prev.init !== now) {
    throw new Error(`${dir} holds weights trained from init ${JSON.stringify(prev.init)}, now ${JSON.stringify(now)}; choose another --out or delete the folder`);
  }
  writeJsonAtomic(p, { init: now } satisfies InitRecord);
}

/** Fails early, before any data is loaded, when the weight file cannot fit the configured trunks. */
function checkImagenetWidth(file: string, width: number): void {
  const conv1 = readSafetensors(file).entries.get('conv1.weight');
  if (!conv1) throw new Error(`${file}: no tensor "conv1.weight": not a torchvision/timm ResNet18 state dict`);
  if (conv1.shape[0] !== width) {
    throw new Error(`${file}: conv1 has ${conv1.shape[0]} filters, model.width is ${width}; ImageNet ResNet18 weights need model.width ${conv1.shape[0]}`);
  }
}

/** Trains MaNet, then MiNet on all micro subjects with guidance, and writes the checkpoint folder `cfg.out`. */
export async function trainAll(cfg: MimanetConfig, opts: TrainAllOptions = {}): Promise<TrainAllResult> {
  const t0 = Date.now();
  const events = opts.events ?? {};
  const losses = [...(opts.losses ?? DEFAULT_TRAIN_LOSSES)];
  if (!losses.includes('c')) throw new Error(`loss set ${losses.join(',')} must include "c" (L_c)`);
  const initSpec = opts.init ?? cfg.model.init;
  const init = initSpec === 'scratch' ? undefined : initSpec;
  const imagenet = init === undefined ? undefined : parseImagenetInit(init);
  if (imagenet !== undefined) checkImagenetWidth(imagenet, cfg.model.width);
  const seed = cfg.seed;
  const data = await loadExperimentData(cfg);
  const { micro, macro } = data;
  const all = micro.clips.map((_, i) => i);
  if (all.length < cfg.finetune.n) throw new Error(`micro dataset "${micro.name}": ${all.length} clips, fewer than finetune.n=${cfg.finetune.n}`);

  const work: MimanetConfig = { ...cfg, out: trainingDir(cfg.out) };
  checkInitRecord(work.out, init);
  const lock = lockRunFolder(work.out);
  try {
    const { settings } = prepareRunFolder(work, opts.info ?? { backend: {}, workers: 1 });
    return await trainLocked(cfg, work, data, { losses, init, initSpec, imagenet, settings, t0, events });
  } finally {
    lock.release();
  }
}

async function trainLocked(
  cfg: MimanetConfig,
  work: MimanetConfig,
  data: Awaited<ReturnType<typeof loadExperimentData>>,
  o: { losses: LossTerm[]; init: string | undefined; initSpec: string; imagenet: string | undefined; settings: Settings; t0: number; events: ExperimentEvents },
): Promise<TrainAllResult> {
  const { losses, init, initSpec, imagenet, settings, t0, events } = o;
  const seed = cfg.seed;
  const { micro, macro } = data;
  const all = micro.clips.map((_, i) => i);
  // MaNet and MiNet start from the same initialisation: the option's, else the config's
  const run: MimanetConfig = { ...work, model: { ...work.model, init: initSpec } };
  const minetBase = join(seedDir(work.out, seed), 'minet-pretrained');
  let steps = finetuneSteps(all.length, cfg.finetune.epochs, cfg.finetune.n);
  if (!hasNetWeights(manetPath(work.out, seed))) steps += pretrainSteps(macro.clips.length, cfg.pretrain.manetEpochs, cfg.pretrain.batchSize);
  if (!hasNetWeights(minetBase)) steps += pretrainSteps(all.length, cfg.pretrain.minetEpochs, cfg.pretrain.batchSize);
  events.log?.(
    `${micro.name}: ${all.length} micro clips of ${new Set(micro.clips.map((c) => c.subject)).size} subjects, all used for training; ` +
      `${macro.name}: ${macro.clips.length} macro clips; guided fine-tuning with ${variantName(losses)}`,
  );
  events.plan?.(steps);

  const manet = await obtainManet(run, data, seed, events, { settings });
  const minet = withInitSeed(deriveSeed(seed, 'minet', 'all-subjects'), () => new TwoStreamNet(netConfig(cfg, micro.labels.length), 'MiNet'));
  try {
    const { curve: pretrainCurve, init: initReport } = await obtainMinet(
      run,
      data,
      minet,
      { base: minetBase, train: all, seed: deriveSeed(seed, 'minet-train', 'all-subjects'), where: 'MiNet pretraining on all micro subjects', stage: 'MiNet', meta: { settings } },
      events,
    );
    if (initReport) events.log?.(`ImageNet weights ${imagenet}: ${initReport.loaded.length} tensors loaded per trunk, ${initReport.skipped.length} skipped (${initReport.skipped.filter((s) => !s.endsWith('num_batches_tracked')).join(', ')})`);

    const curves = await guidedFinetune(
      minet,
      manet,
      micro,
      all,
      macro,
      finetuneOptions(run, data, losses, {
        seed: deriveSeed(seed, 'finetune', 'all-subjects', losses.join('+')),
        where: `guided fine-tuning on all micro subjects, ${variantName(losses)}`,
        onStep: (s) => events.tick?.(1, { stage: 'guided', L: s.losses.total }),
      }),
    );
    writeJsonAtomic(join(work.out, `seed-${seed}`, 'finetune-curves.json'), { losses, curves });
    const preds = await predictClips(minet, micro, all, 'intervals', { normalization: normalizationOf(run) });
    const trainAccuracy = preds.filter((p, i) => p.pred === micro.clips[i].label).length / all.length;

    const provenance = {
      trainedAt: new Date().toISOString(),
      seed,
      losses,
      variant: variantName(losses),
      init: init ?? null,
      fingerprint: configFingerprint(cfg),
      data: {
        kind: cfg.data.kind,
        micro: micro.name,
        macro: macro.name,
        microClips: all.length,
        microSubjects: new Set(micro.clips.map((c) => c.subject)).size,
        macroClips: macro.clips.length,
      },
      trainAccuracy,
    };
    const meta = { labels: [...micro.labels], temporal: 'intervals' as const, normalization: normalizationOf(run), preprocessing: data.preprocessing, provenance };
    await saveCheckpoint(minet, cfg.out, meta);
    writeJsonAtomic(join(cfg.out, 'config.json'), cfg);
    writeFileAtomic(join(cfg.out, 'labels.txt'), micro.labels.join('\n') + '\n');
    return {
      dir: cfg.out,
      meta: { format: 'mimanet-checkpoint', version: 1, net: minet.config, aggregationVersion: AGGREGATION_VERSION, ...meta },
      trainAccuracy,
      pretrainCurve,
      curves,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    minet.dispose();
    manet.dispose();
  }
}
