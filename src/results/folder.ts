/**
 * Reading and writing a results folder: the one place that knows its files'
 * formats. Training writes through it, the summary and the report read through it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { MimanetConfig } from '../config.js';
import type { LossTerm } from '../model/losses.js';
import { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { formatCsv, parseCsv } from './csv.js';
import {
  CONFIG_FILE,
  EMBEDDINGS_FILE,
  FOLD_RESULT_FILE,
  FOLDS_CSV,
  PREDICTIONS_CSV,
  RUN_FILE,
  SUMMARY_JSON,
  SUMMARY_MD,
  curvePath,
  embeddingsPath,
  foldResultPath,
  transferPath,
  type FoldRef,
} from './layout.js';
import type { CurveFile, EmbeddingsFile, FoldRow, FoldVariantResult, RunInfo, RunRecord, SummaryFile, TransferRecord } from './records.js';

/** Settings that change results; seeds and rows may grow between reruns of one folder. */
export function configFingerprint(cfg: MimanetConfig): string {
  // shares add rows like seeds do; they are not a setting of the rows already there
  const relevant = { data: cfg.data, model: cfg.model, pretrain: cfg.pretrain, finetune: cfg.finetune, flip: cfg.flip, seed: cfg.seed };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 16);
}

/** The seeds of a config: seed, seed + 1, ..., seed + seeds - 1. */
export function seedsOf(cfg: Pick<MimanetConfig, 'seed' | 'seeds'>): number[] {
  return Array.from({ length: cfg.seeds }, (_, i) => cfg.seed + i);
}

/**
 * Checks and records the run folder `cfg.out`: a folder made with other
 * settings is not mixed into; the resolved config is saved beside the results.
 */
export function prepareRunFolder(cfg: MimanetConfig, info: RunInfo): void {
  mkdirSync(cfg.out, { recursive: true });
  const fingerprint = configFingerprint(cfg);
  const runPath = join(cfg.out, RUN_FILE);
  const prev = readJsonIfExists<RunRecord>(runPath);
  if (prev && prev.fingerprint !== fingerprint) {
    throw new Error(
      `${cfg.out} holds results of a run with other settings (fingerprint ${prev.fingerprint}, now ${fingerprint}); choose another --out or delete the folder`,
    );
  }
  writeJsonAtomic(runPath, { fingerprint, started: new Date().toISOString(), ...info } satisfies RunRecord);
  writeJsonAtomic(join(cfg.out, CONFIG_FILE), cfg);
}

// ---------------------------------------------------------------- JSON records

/** Reads JSON, naming the file in any error. */
export function readJson<T>(path: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

export function writeCurve(weightsBase: string, curve: CurveFile): void {
  writeJsonAtomic(curvePath(weightsBase), curve);
}

/** The pretraining curve beside a net's weights; empty when there is none. */
export function readCurve(weightsBase: string): CurveFile | undefined {
  return readJsonIfExists<CurveFile>(curvePath(weightsBase));
}

export function writeFoldResult(out: string, fold: FoldRef, result: FoldVariantResult): void {
  writeJsonAtomic(foldResultPath(out, result.seed, fold, result.losses, result.share ?? 1), result);
}

export function hasFoldResult(out: string, seed: number, fold: FoldRef, losses: readonly LossTerm[], share = 1): boolean {
  return existsSync(foldResultPath(out, seed, fold, losses, share));
}

/** Every row result of the configured seeds, shares and rows that is on disk, in seed, share, fold, row order. */
export function collectResults(cfg: MimanetConfig, folds: readonly FoldRef[]): FoldVariantResult[] {
  const out: FoldVariantResult[] = [];
  for (const seed of seedsOf(cfg)) {
    for (const share of cfg.microTrainShares) {
      for (const fold of folds) {
        for (const v of cfg.variants) {
          const r = readJsonIfExists<FoldVariantResult>(foldResultPath(cfg.out, seed, fold, v, share));
          if (r) out.push(r);
        }
      }
    }
  }
  return out;
}

export function writeTransfer(out: string, record: TransferRecord): void {
  writeJsonAtomic(transferPath(out, record.seed), record);
}

export function hasTransfer(out: string, seed: number): boolean {
  return existsSync(transferPath(out, seed));
}

/** The transfer records of the configured seeds that are on disk. */
export function collectTransfer(cfg: MimanetConfig): TransferRecord[] {
  return seedsOf(cfg)
    .map((seed) => readJsonIfExists<TransferRecord>(transferPath(cfg.out, seed)))
    .filter((r): r is TransferRecord => r !== undefined && r !== null);
}

/** The `seed-S` folders of a results folder, by seed. */
export function seedDirs(dir: string): Array<{ seed: number; path: string }> {
  return readdirSync(dir)
    .map((name) => ({ name, m: /^seed-(\d+)$/.exec(name) }))
    .filter((x) => x.m && statSync(join(dir, x.name)).isDirectory())
    .map((x) => ({ seed: Number(x.m![1]), path: join(dir, x.name) }))
    .sort((a, b) => a.seed - b.seed);
}

/** Every row result file under a results folder, whatever config made it. */
export function scanFoldResults(dir: string): FoldVariantResult[] {
  const out: FoldVariantResult[] = [];
  for (const { path } of seedDirs(dir)) {
    const folds = join(path, 'folds');
    if (!existsSync(folds)) continue;
    for (const f of readdirSync(folds).sort()) {
      const fdir = join(folds, f);
      if (!statSync(fdir).isDirectory()) continue;
      for (const name of readdirSync(fdir).sort()) {
        if (!FOLD_RESULT_FILE.test(name)) continue;
        const file = join(fdir, name);
        const r = readJson<FoldVariantResult>(file);
        if (!Array.isArray(r.curves) || typeof r.variant !== 'string') throw new Error(`${file}: not a fold result (no "curves" list or "variant")`);
        out.push(r);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- embeddings

export function writeEmbeddings(out: string, seed: number, e: EmbeddingsFile): void {
  writeJsonAtomic(embeddingsPath(out, seed), e);
}

/** Checks the shape of an embeddings file; errors name the file and the point. */
export function validateEmbeddings(e: unknown, file: string): EmbeddingsFile {
  const x = e as Partial<EmbeddingsFile>;
  if (typeof x !== 'object' || x === null || !Array.isArray(x.points) || !Array.isArray(x.labels)) throw new Error(`${file}: expected { fold, labels, points }`);
  let width = -1;
  x.points.forEach((p, i) => {
    const where = `${file}: point ${i}`;
    if (p.stage !== 'before' && p.stage !== 'after') throw new Error(`${where}: stage ${JSON.stringify(p.stage)}, expected "before" or "after"`);
    if (p.net !== 'MiNet' && p.net !== 'MaNet') throw new Error(`${where}: net ${JSON.stringify(p.net)}, expected "MiNet" or "MaNet"`);
    if (p.domain !== 'micro' && p.domain !== 'macro') throw new Error(`${where}: domain ${JSON.stringify(p.domain)}, expected "micro" or "macro"`);
    if (typeof p.label !== 'string') throw new Error(`${where}: label ${JSON.stringify(p.label)} is not a string`);
    if (!Array.isArray(p.z) || p.z.length === 0 || p.z.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new Error(`${where}: z is not a list of finite numbers`);
    if (width < 0) width = p.z.length;
    else if (p.z.length !== width) throw new Error(`${where}: z has ${p.z.length} values, point 0 has ${width}`);
  });
  return x as EmbeddingsFile;
}

/** The embeddings of every seed that has them. */
export function readEmbeddings(dir: string): Array<{ seed: number; file: string; data: EmbeddingsFile }> {
  const found: Array<{ seed: number; file: string; data: EmbeddingsFile }> = [];
  for (const { seed, path } of seedDirs(dir)) {
    const file = join(path, EMBEDDINGS_FILE);
    if (existsSync(file)) found.push({ seed, file, data: validateEmbeddings(readJson(file), file) });
  }
  return found;
}

// ---------------------------------------------------------------- folds.csv

const FOLD_COLUMNS = ['seed', 'fold', 'subject', 'variant', 'clips', 'accuracy', 'correct', 'seconds'] as const;

/** The folds.csv row of one row result. */
export function foldRow(r: FoldVariantResult): FoldRow {
  const correct = r.predictions.filter((p) => p.label === p.pred).length;
  const clips = r.predictions.length;
  return { seed: r.seed, fold: r.fold + 1, subject: r.subject, variant: r.variant, clips, accuracy: clips > 0 ? correct / clips : 0, correct, seconds: r.seconds };
}

export function formatFoldsCsv(rows: readonly FoldRow[]): string {
  return formatCsv([FOLD_COLUMNS, ...rows.map((r) => [r.seed, r.fold, r.subject, r.variant, r.clips, r.accuracy.toFixed(4), r.correct, r.seconds.toFixed(1)])]);
}

/** Reads folds.csv (an empty list when the folder has none); errors name the file, row and column. */
export function readFoldsCsv(path: string): FoldRow[] {
  if (!existsSync(path)) return [];
  const rows = parseCsv(readFileSync(path, 'utf8'));
  const header = rows[0] ?? [];
  const col = (name: string, optional = false): number => {
    const i = header.indexOf(name);
    if (i < 0 && !optional) throw new Error(`${path}: no column "${name}" in the header ${JSON.stringify(header.join(','))}`);
    return i;
  };
  const [seed, fold, subject, variant, clips, accuracy] = ['seed', 'fold', 'subject', 'variant', 'clips', 'accuracy'].map((c) => col(c));
  const [correct, seconds] = ['correct', 'seconds'].map((c) => col(c, true));
  return rows.slice(1).filter((r) => r.length > 1).map((r, k) => {
    const num = (i: number, name: string): number => {
      if (i < 0) return NaN;
      const v = Number(r[i]);
      if (!Number.isFinite(v)) throw new Error(`${path}: row ${k + 2}, column ${name}: ${JSON.stringify(r[i])} is not a number`);
      return v;
    };
    return {
      seed: num(seed, 'seed'),
      fold: num(fold, 'fold'),
      subject: r[subject],
      variant: r[variant],
      clips: num(clips, 'clips'),
      accuracy: num(accuracy, 'accuracy'),
      correct: num(correct, 'correct'),
      seconds: num(seconds, 'seconds'),
    };
  });
}

// ---------------------------------------------------------------- summary

export interface SummaryFiles {
  summary: SummaryFile;
  /** The text of summary.md. */
  markdown: string;
  /** The text of predictions.csv. */
  predictionsCsv: string;
  folds: FoldRow[];
}

/** Writes summary.json, summary.md, predictions.csv and folds.csv. */
export function writeSummaryFiles(out: string, files: SummaryFiles): void {
  writeFileAtomic(join(out, PREDICTIONS_CSV), files.predictionsCsv);
  writeFileAtomic(join(out, FOLDS_CSV), formatFoldsCsv(files.folds));
  writeJsonAtomic(join(out, SUMMARY_JSON), files.summary);
  writeFileAtomic(join(out, SUMMARY_MD), files.markdown);
}

/** Reads summary.json; the error says when the folder is not a results folder. */
export function readSummaryFile(dir: string): SummaryFile {
  const path = join(dir, SUMMARY_JSON);
  if (!existsSync(path)) throw new Error(`${dir}: no summary.json; is this a results folder of \`mimanet run\`?`);
  const summary = readJson<SummaryFile>(path);
  if (!Array.isArray(summary.variants) || !Array.isArray(summary.labels)) throw new Error(`${path}: expected "variants" and "labels" lists`);
  return summary;
}
