/**
 * Reading and writing a results folder: the one place that knows its files'
 * formats. Training writes through it, the summary and the report read through it.
 */
import { existsSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import type { MimanetConfig } from '../config.js';
import type { LossTerm } from '../model/losses.js';
import { ensureDir, readJsonFile, readJsonFileIfExists, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { parseWith, quote, z } from '../util/schema.js';
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
import {
  CurveFile,
  EmbeddingsFile,
  FoldVariantResult,
  RunRecord,
  Settings,
  SummaryFileSchema,
  TransferRecord,
  type FoldRow,
  type RunInfo,
  type SummaryFile,
} from './records.js';

/** The config sections that change results; seeds, rows and shares may grow between reruns of one folder. */
function relevantConfig(cfg: MimanetConfig): Record<string, unknown> {
  return { data: cfg.data, model: cfg.model, pretrain: cfg.pretrain, finetune: cfg.finetune, flip: cfg.flip, seed: cfg.seed };
}

/**
 * The backend as results depend on it: its name, with the native backend's kernels and, for
 * oneDNN's, the OpenMP threads they split their sums for (`native/onednn-t2`, `native/builtin`).
 */
export function backendIdentity(b: { name?: unknown; kernels?: unknown; onednnThreads?: unknown }): string {
  const name = String(b.name ?? 'unknown');
  if (typeof b.kernels !== 'string' || b.kernels === '') return name;
  const t = typeof b.onednnThreads === 'number' ? `-t${b.onednnThreads}` : '';
  return `${name}/${b.kernels}${t}`;
}

/** The oneDNN thread count an identity of {@link backendIdentity} names (`native/onednn-t2`: 2). */
export function onednnThreadsOf(identity: string): number | undefined {
  const m = /^native\/onednn(?:-gemm)?-t(\d+)$/.exec(identity);
  return m ? Number(m[1]) : undefined;
}

/** Fingerprint of the config's settings (no backend): what checkpoints and summaries name. */
export function configFingerprint(cfg: MimanetConfig): string {
  return createHash('sha256').update(JSON.stringify(relevantConfig(cfg))).digest('hex').slice(0, 16);
}

/**
 * The settings a result depends on, flattened to dotted paths so that a
 * refusal can name the field that differs, with the backend it is computed on
 * (backends round differently, so their results are not interchangeable).
 */
export function runSettings(cfg: MimanetConfig, backend: string): Settings {
  const flat: Settings = {};
  const walk = (v: unknown, key: string): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, key ? `${key}.${k}` : k);
    } else if (Array.isArray(v)) flat[key] = JSON.stringify(v);
    else if (v !== undefined) flat[key] = v as string | number | boolean | null;
  };
  walk(relevantConfig(cfg), '');
  flat.backend = backend;
  return flat;
}

export function settingsFingerprint(settings: Settings): string {
  const sorted = Object.fromEntries(Object.entries(settings).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/** The fields in which `then` differs from `now`, e.g. `finetune.lr (0.001 there, 0.0003 now)`. */
export function settingsDiff(then: Settings, now: Settings): Array<{ field: string; text: string }> {
  const keys = [...new Set([...Object.keys(then), ...Object.keys(now)])].sort();
  return keys.filter((k) => then[k] !== now[k]).map((k) => ({ field: k, text: `${k} (${quote(then[k])} there, ${quote(now[k])} now)` }));
}

/** The seeds of a config: seed, seed + 1, ..., seed + seeds - 1. */
export function seedsOf(cfg: Pick<MimanetConfig, 'seed' | 'seeds'>): number[] {
  return Array.from({ length: cfg.seeds }, (_, i) => cfg.seed + i);
}

export interface PrepareOptions {
  /** Accept pieces made on another backend (each new row records the change). */
  allowBackendChange?: boolean;
  /** The backend option's name, for the hint of a refusal. Default `--allow-backend-change`. */
  allowFlag?: string;
}

export interface PreparedFolder {
  /** The settings new records are written with. */
  settings: Settings;
  /** Set when pieces of other backends were accepted: this backend and the earlier ones. */
  backendChange?: { backend: string; earlier: string[] };
  /** Things worth a log line: records set aside as damaged, an unreadable run.json. */
  notes: string[];
}

/** Weight files keep the settings they were trained under in `meta.settings` (see src/model/io.ts). */
const WeightMeta = z.object({ meta: z.object({ settings: Settings }).partial().optional() }).passthrough();

/** A record found in the folder, with the settings it was made under (undefined: an older record without them). */
interface FoundRecord {
  file: string;
  settings: Settings | undefined;
}

/** Moves a damaged record aside (kept for inspection) so that its piece is computed again. */
function setAside(file: string, why: string, notes: string[], also: string[] = []): void {
  const to = `${file}.invalid`;
  renameSync(file, to);
  for (const f of also) if (existsSync(f)) renameSync(f, `${f}.invalid`);
  notes.push(`${file}: ${why}; moved to ${to}, that piece is computed again`);
}

/** Every record of earlier runs in a results folder: row results, transfer records and weight files. */
function existingRecords(dir: string, notes: string[]): FoundRecord[] {
  const found: FoundRecord[] = [];
  const read = <S extends z.ZodTypeAny>(file: string, schema: S, also: string[] = []): z.infer<S> | undefined => {
    try {
      return readJsonFile(file, schema);
    } catch (e) {
      setAside(file, (e as Error).message.slice(file.length + 2), notes, also);
      return undefined;
    }
  };
  const weights = (file: string): void => {
    const w = read(file, WeightMeta, [file.replace(/\.json$/, '.bin')]);
    if (w) found.push({ file, settings: w.meta?.settings });
  };
  for (const { path } of seedDirs(dir)) {
    if (existsSync(join(path, 'manet.json'))) weights(join(path, 'manet.json'));
    const transfer = join(path, 'manet-transfer.json');
    if (existsSync(transfer)) {
      const t = read(transfer, TransferRecord);
      if (t) found.push({ file: transfer, settings: t.settings });
    }
    for (const file of foldFiles(path)) {
      const name = basename(file);
      if (FOLD_RESULT_FILE.test(name)) {
        const r = read(file, FoldVariantResult);
        if (r) found.push({ file, settings: r.settings });
      } else if (/^minet-pretrained(@share[0-9.e-]+)?\.json$/.test(name)) weights(file);
    }
  }
  return found;
}

/**
 * Checks and records the run folder `cfg.out` before a run adds to it. Every
 * record already there (row results, weights, transfer records; not only
 * run.json) must have been made under the same settings, or the run is
 * refused with the differing fields named; a different backend is accepted
 * only with `allowBackendChange`. Damaged records are set aside and redone.
 * The resolved config is saved beside the results.
 */
export function prepareRunFolder(cfg: MimanetConfig, info: RunInfo, opts: PrepareOptions = {}): PreparedFolder {
  ensureDir(cfg.out);
  const backend = backendIdentity(info.backend);
  const settings = runSettings(cfg, backend);
  const fingerprint = settingsFingerprint(settings);
  const notes: string[] = [];
  const runPath = join(cfg.out, RUN_FILE);
  let prev: RunRecord | undefined;
  try {
    prev = readJsonFileIfExists(runPath, RunRecord);
  } catch (e) {
    notes.push(`${(e as Error).message}; it is rewritten (the records of the folder are checked one by one)`);
  }
  const records = existingRecords(cfg.out, notes);
  // older folders: no settings in the records, only run.json's config fingerprint (and its backend)
  const legacyOk = prev !== undefined && prev.settings === undefined && prev.fingerprint === configFingerprint(cfg);
  const legacySettings = legacyOk ? { ...settings, backend: backendIdentity(prev!.backend) } : undefined;
  if (prev?.settings) records.unshift({ file: runPath, settings: prev.settings });
  else if (prev && !legacyOk) {
    throw new Error(`${cfg.out} holds results of a run with other settings (${RUN_FILE}: fingerprint ${prev.fingerprint}, now ${configFingerprint(cfg)}); choose another --out or delete the folder`);
  }
  const earlier = new Set<string>();
  for (const r of records) {
    const then = r.settings ?? legacySettings;
    const where = relative(cfg.out, r.file) || r.file;
    if (!then) {
      const why = prev ? '' : ` and ${runPath} is missing`;
      throw new Error(`${r.file} records no settings${why}, so it cannot be checked against this run; choose another --out or delete the folder`);
    }
    const diff = settingsDiff(then, settings);
    const other = diff.filter((d) => d.field !== 'backend');
    if (other.length > 0) {
      throw new Error(`${cfg.out} holds results made with other settings: ${where} differs in ${other.map((d) => d.text).join(', ')}; choose another --out or delete the folder`);
    }
    if (diff.length > 0) earlier.add(String(then.backend));
  }
  const broken = brokenOneDnnStart(prev);
  if (broken && earlier.has(ONEDNN_BEFORE_FIX)) {
    throw new Error(
      `${cfg.out} was begun on ${ONEDNN_BEFORE_FIX} ${broken} by an earlier mimanet, whose fold workers could compute with each other's ` +
        `convolution filters (one oneDNN filter cache for all threads), so its results may be wrong and it cannot be resumed; ` +
        `run again with another --out (or delete the folder)`,
    );
  }
  if (earlier.size > 0 && !opts.allowBackendChange) {
    const was = [...earlier].join(', ');
    throw new Error(
      `${cfg.out} was begun on backend ${was} and this run uses ${backend}; backends round differently, so their results would be mixed. ` +
        `Resume with --backend ${[...earlier][0]}, choose another --out, or pass ${opts.allowFlag ?? '--allow-backend-change'} to continue here (each new row records its backend)`,
    );
  }
  const now = new Date().toISOString();
  const history = [...(prev?.history ?? (prev ? [{ started: prev.started, backend: backendIdentity(prev.backend), workers: prev.workers }] : [])), { started: now, backend, workers: info.workers }];
  writeJsonAtomic(runPath, { fingerprint, started: prev?.started ?? now, settings, history, ...info } satisfies RunRecord);
  writeJsonAtomic(join(cfg.out, CONFIG_FILE), cfg);
  return { settings, notes, ...(earlier.size > 0 ? { backendChange: { backend, earlier: [...earlier] } } : {}) };
}

/**
 * The identity under which earlier versions of mimanet recorded oneDNN convolutions. With more than one
 * fold worker (or queue jobs, which may share a process) their filters could be mixed up between
 * threads; identities now carry the oneDNN thread count (`native/onednn-t2`).
 */
const ONEDNN_BEFORE_FIX = 'native/onednn';

/** How a folder's earlier starts ran several fold jobs in one process (`with 2 workers`), if they did. */
function brokenOneDnnStart(prev: RunRecord | undefined): string | undefined {
  if (!prev) return undefined;
  const starts = prev.history ?? [{ started: prev.started, backend: backendIdentity(prev.backend), workers: prev.workers }];
  const hit = starts.find((h) => h.backend === ONEDNN_BEFORE_FIX && (h.workers > 1 || h.workers === 0));
  if (!hit) return undefined;
  return hit.workers === 0 ? 'through a job queue' : `with ${hit.workers} fold workers`;
}

/** run.json of a results folder; undefined when there is none. */
export function readRunRecord(dir: string): RunRecord | undefined {
  return readJsonFileIfExists(join(dir, RUN_FILE), RunRecord);
}

// ---------------------------------------------------------------- JSON records

/** Reads JSON, naming the file in any error (no shape check: see readJsonFile for records). */
export function readJson<T>(path: string): T {
  return readJsonFile(path, z.unknown()) as T;
}

export function writeCurve(weightsBase: string, curve: CurveFile): void {
  writeJsonAtomic(curvePath(weightsBase), curve);
}

/** The pretraining curve beside a net's weights; empty when there is none. */
export function readCurve(weightsBase: string): CurveFile | undefined {
  return readJsonFileIfExists(curvePath(weightsBase), CurveFile);
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
          const r = readJsonFileIfExists(foldResultPath(cfg.out, seed, fold, v, share), FoldVariantResult);
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
    .map((seed) => readJsonFileIfExists(transferPath(cfg.out, seed), TransferRecord))
    .filter((r): r is TransferRecord => r !== undefined);
}

/** The `seed-S` folders of a results folder, by seed. */
export function seedDirs(dir: string): Array<{ seed: number; path: string }> {
  return readdirSync(dir)
    .map((name) => ({ name, m: /^seed-(\d+)$/.exec(name) }))
    .filter((x) => x.m && statSync(join(dir, x.name)).isDirectory())
    .map((x) => ({ seed: Number(x.m![1]), path: join(dir, x.name) }))
    .sort((a, b) => a.seed - b.seed);
}

/** The files of every fold folder of a seed folder, in fold and name order. */
function foldFiles(seedPath: string): string[] {
  const folds = join(seedPath, 'folds');
  if (!existsSync(folds)) return [];
  return readdirSync(folds)
    .sort()
    .map((f) => join(folds, f))
    .filter((d) => statSync(d).isDirectory())
    .flatMap((d) => readdirSync(d).sort().map((name) => join(d, name)));
}

/** Every row result file under a results folder, whatever config made it. */
export function scanFoldResults(dir: string): FoldVariantResult[] {
  const out: FoldVariantResult[] = [];
  for (const { path } of seedDirs(dir)) {
    for (const file of foldFiles(path)) if (FOLD_RESULT_FILE.test(basename(file))) out.push(readJsonFile(file, FoldVariantResult));
  }
  return out;
}

// ---------------------------------------------------------------- embeddings

export function writeEmbeddings(out: string, seed: number, e: EmbeddingsFile): void {
  writeJsonAtomic(embeddingsPath(out, seed), e);
}

/** Checks the shape of an embeddings file; errors name the file and the point. */
export function validateEmbeddings(e: unknown, file: string): EmbeddingsFile {
  return parseWith(EmbeddingsFile, e, file);
}

/** The embeddings of every seed that has them. */
export function readEmbeddings(dir: string): Array<{ seed: number; file: string; data: EmbeddingsFile }> {
  const found: Array<{ seed: number; file: string; data: EmbeddingsFile }> = [];
  for (const { seed, path } of seedDirs(dir)) {
    const file = join(path, EMBEDDINGS_FILE);
    if (existsSync(file)) found.push({ seed, file, data: readJsonFile(file, EmbeddingsFile) });
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
  return readJsonFile(path, SummaryFileSchema) as unknown as SummaryFile;
}
