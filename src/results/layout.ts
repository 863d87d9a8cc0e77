/**
 * Where each piece of a results folder lives. `mimanet run --out DIR` writes:
 *
 *   DIR/config.json                              the resolved config
 *   DIR/run.json                                 backend, workers, settings fingerprint
 *   DIR/summary.json, summary.md                 scores per ablation row
 *   DIR/predictions.csv, folds.csv               per clip and per fold
 *   DIR/report.html                              the HTML report
 *   DIR/seed-S/manet.*, manet-curve.json         MaNet weights and pretraining curve
 *   DIR/seed-S/manet-transfer.json               MaNet alone scored on every micro clip (transfer diagnostic)
 *   DIR/seed-S/embeddings.json                   features of the first fold (report t-SNE maps)
 *   DIR/seed-S/folds/NNN-subject/
 *       minet-pretrained[@shareX].*, ...-curve.json       the fold's pretrained MiNet
 *       <losses>[@shareX].json                            one ablation row's result
 *   (`@shareX` when the row trained on a share X < 1 of the fold's training subjects)
 *       checkpoints/<losses>/                             its fine-tuned MiNet (per foldCheckpoints)
 *
 * `mimanet train --out DIR` keeps its intermediate weights in the same
 * layout under DIR/training/.
 */
import { join } from 'node:path';
import { LOSS_TERMS, variantName, type LossTerm } from '../model/losses.js';

export const CONFIG_FILE = 'config.json';
export const RUN_FILE = 'run.json';
export const SUMMARY_JSON = 'summary.json';
export const SUMMARY_MD = 'summary.md';
export const PREDICTIONS_CSV = 'predictions.csv';
export const FOLDS_CSV = 'folds.csv';
export const REPORT_FILE = 'report.html';
export const EMBEDDINGS_FILE = 'embeddings.json';

/** The fold of a LOSO split as the folder names it. */
export interface FoldRef {
  /** 0-based fold index. */
  index: number;
  /** The held-out subject. */
  subject: string;
}

/** File-name form of a loss set, e.g. `c+s+sam+t+con`. */
export function variantKey(losses: readonly LossTerm[]): string {
  return losses.join('+');
}

/** File-name suffix of a training share: '' for all subjects, `@share0.5` otherwise. */
export function shareSuffix(share: number): string {
  return share === 1 ? '' : `@share${share}`;
}

/** Display name of a row: the loss set, and the share of training subjects when not all. */
export function rowName(losses: readonly LossTerm[], share: number): string {
  return share === 1 ? variantName(losses) : `${variantName(losses)} (${Math.round(share * 1000) / 10}% subjects)`;
}

/** Names a row result file: `<losses>[@shareX].json`. */
export const FOLD_RESULT_FILE = new RegExp(`^(${LOSS_TERMS.join('|')})(\\+(${LOSS_TERMS.join('|')}))*(@share[0-9.e-]+)?\\.json$`);

function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

export function seedDir(out: string, seed: number): string {
  return join(out, `seed-${seed}`);
}

/** `seed-S/folds/NNN-subject`: one folder per held-out subject. */
export function foldDir(out: string, seed: number, fold: FoldRef): string {
  return join(seedDir(out, seed), 'folds', `${String(fold.index + 1).padStart(3, '0')}-${safe(fold.subject)}`);
}

export function foldResultPath(out: string, seed: number, fold: FoldRef, losses: readonly LossTerm[], share = 1): string {
  return join(foldDir(out, seed, fold), `${variantKey(losses)}${shareSuffix(share)}.json`);
}

/** Base path (without extension) of a seed's MaNet weights. */
export function manetPath(out: string, seed: number): string {
  return join(seedDir(out, seed), 'manet');
}

/** Base path of a fold's pretrained MiNet weights (one per training share). */
export function minetPretrainedPath(out: string, seed: number, fold: FoldRef, share = 1): string {
  return join(foldDir(out, seed, fold), `minet-pretrained${shareSuffix(share)}`);
}

/** Where MaNet's scores on the micro clips (the transfer diagnostic) are kept. */
export function transferPath(out: string, seed: number): string {
  return join(seedDir(out, seed), 'manet-transfer.json');
}

/** The pretraining curve beside a net's weights: `<base>-curve.json`. */
export function curvePath(weightsBase: string): string {
  return `${weightsBase}-curve.json`;
}

export function foldCheckpointDir(out: string, seed: number, fold: FoldRef, losses: readonly LossTerm[]): string {
  return join(foldDir(out, seed, fold), 'checkpoints', variantKey(losses));
}

export function embeddingsPath(out: string, seed: number): string {
  return join(seedDir(out, seed), EMBEDDINGS_FILE);
}
