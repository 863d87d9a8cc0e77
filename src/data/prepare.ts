/**
 * `data prepare`: read a dataset where it is unpacked, preprocess every clip
 * the label scheme keeps, and write the clip cache (src/data/cache.ts) that
 * training reads. Resumable: clips whose cache file is complete are reused.
 *
 *   DIR/prepare.json     the settings the cache was made with; a rerun with other settings is refused
 *   DIR/clipset.json     written last, listing the clips prepared
 *   DIR/clips/*.u8       one file per clip
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type CachedClipMeta, hasClip, loadClipSet, readIndex, writeClip, writeIndex } from './cache.js';
import type { Casme2ReadOptions } from './datasets/casme2.js';
import type { Casme3ReadOptions } from './datasets/casme3.js';
import { type DatasetRoots, getLabelScheme, readLabelledDataset } from './datasets/index.js';
import { type DatasetName, type Problem, formatProblem, isComposite, sourcesOf } from './datasets/types.js';
import type { AlignOptions } from './preprocess/align.js';
import { faceRecipe, type PreprocessingRecipe } from './preprocess/recipe.js';
import { type FaceDetector, type FaceDetectorOptions, createFaceDetector } from './preprocess/face.js';
import { ClipError, type PreprocessOptions, preprocessClip } from './preprocess/pipeline.js';
import { DEFAULT_RESAMPLE, type ResampleMode, planIndices, resamplePlan } from './preprocess/resample.js';
import { type ClipSet, clipBytes } from './types.js';
import { readJsonIfExists, writeJsonAtomic } from '../util/fs.js';

export const DEFAULT_PREPARE_FRAMES = 16;
export const DEFAULT_PREPARE_SIZE = 112;
export const DEFAULT_PREPARE_CHANNELS = 3;
/** Clips preprocessed at once: one detecting while another decodes overlaps the work on 2 cores. */
export const DEFAULT_CLIP_CONCURRENCY = 2;
export const PREPARE_SETTINGS_FILE = 'prepare.json';
const PREPARE_SETTINGS_VERSION = 1;

export interface PrepareProgress {
  /** Clips finished so far (written, reused or skipped). */
  done: number;
  total: number;
  clip: string;
  status: 'written' | 'reused' | 'skipped';
}

export interface PrepareOptions {
  dataset: DatasetName;
  /** Where the dataset is unpacked (every dataset except `megc2019` and the composites). */
  root?: string;
  /** For `megc2019` and the composites: where each source is unpacked. */
  roots?: DatasetRoots;
  /** Clip cache folder. */
  cacheDir: string;
  /** Label scheme name. Default: the dataset's default (see DEFAULT_SCHEMES in datasets/labels.ts). */
  scheme?: string;
  /** Frames per clip (T). */
  frames: number;
  /** Output height and width. */
  size: number;
  channels: 1 | 3;
  /** Leave out (and report) clips that cannot be read or have no face, instead of stopping at the first. Default false. */
  skipBad?: boolean;
  /** Called after every clip. */
  onProgress?: (p: PrepareProgress) => void;
  /** Called once the clip list is known, before any clip is processed. */
  onStart?: (info: { total: number; toProcess: number; problems: Problem[] }) => void;
  /** Temporal resampling. Default {@link DEFAULT_RESAMPLE}. */
  resample?: ResampleMode;
  align?: AlignOptions;
  /** CASME II frame folder choice. */
  casme2?: Casme2ReadOptions;
  /** CAS(ME)^3 distribution choice. */
  casme3?: Casme3ReadOptions;
  /** A ready detector (tests); default: face-api created on first need. */
  detector?: FaceDetector;
  detectorOptions?: FaceDetectorOptions;
  /** Clips processed at once. Default {@link DEFAULT_CLIP_CONCURRENCY}. */
  concurrency?: number;
}

export interface PrepareResult {
  /** The written index: ClipSet metadata and clip list (no pixels). */
  set: Omit<ClipSet, 'clips'> & { clips: CachedClipMeta[] };
  written: number;
  reused: number;
  /** Clips left out because they failed (only with skipBad; otherwise the first failure throws). */
  skipped: Problem[];
  /** Every problem line: reader errors, clips the scheme leaves out, notes, failures. */
  problems: Problem[];
  /** Source frames decoded and aligned for the clips written. */
  framesProcessed: number;
  /** Wall-clock seconds of the preprocessing phase (reading the dataset excluded). */
  seconds: number;
}

interface PrepareSettings {
  version: number;
  dataset: DatasetName;
  scheme: string;
  frames: number;
  size: number;
  channels: number;
  resample: ResampleMode;
  eyeDistance: number;
  eyeY: number;
}

/**
 * A cache folder name that tells prepared sets apart:
 * `BASE/casme2-casme2-5-t16-s112-c3`.
 */
export function cacheDirFor(base: string, opts: Pick<PrepareOptions, 'dataset' | 'scheme' | 'frames' | 'size' | 'channels'>): string {
  const scheme = getLabelScheme(opts.dataset, opts.scheme).name;
  return join(base, `${opts.dataset}-${scheme}-t${opts.frames}-s${opts.size}-c${opts.channels}`);
}

/** The preprocessing recipe of the clips `opts` prepares. */
export function recipeOf(opts: Pick<PrepareOptions, 'resample' | 'align'>): PreprocessingRecipe {
  return faceRecipe({ resample: opts.resample, eyeDistance: opts.align?.eyeDistance, eyeY: opts.align?.eyeY });
}

function settingsOf(opts: PrepareOptions, scheme: string): PrepareSettings {
  const recipe = recipeOf(opts);
  return {
    version: PREPARE_SETTINGS_VERSION,
    dataset: opts.dataset,
    scheme,
    frames: opts.frames,
    size: opts.size,
    channels: opts.channels,
    resample: recipe.resample,
    eyeDistance: recipe.eyeDistance!,
    eyeY: recipe.eyeY!,
  };
}

function diffSettings(a: PrepareSettings, b: PrepareSettings): string[] {
  return (Object.keys(a) as (keyof PrepareSettings)[]).filter((k) => a[k] !== b[k]).map((k) => `${k} ${JSON.stringify(b[k])} -> ${JSON.stringify(a[k])}`);
}

function checkGeometry(opts: PrepareOptions): void {
  const int = (name: string, v: number, min: number): void => {
    if (!(Number.isInteger(v) && v >= min)) throw new Error(`prepare: ${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  };
  int('frames', opts.frames, 1);
  int('size', opts.size, 8);
  if (opts.channels !== 1 && opts.channels !== 3) throw new Error(`prepare: channels must be 1 or 3, got ${JSON.stringify(opts.channels)}`);
}

function rootsOf(opts: PrepareOptions): string | DatasetRoots {
  if (isComposite(opts.dataset)) {
    const sources = sourcesOf(opts.dataset);
    const r = opts.roots ?? {};
    const missing = sources.filter((k) => !r[k]);
    if (missing.length > 0) throw new Error(`${opts.dataset} needs the roots of ${sources.join(', ')}; missing: ${missing.join(', ')}`);
    return r;
  }
  if (!opts.root) throw new Error(`${opts.dataset}: no root folder given`);
  return opts.root;
}

/** Refuses a cache folder that holds clips made with other settings. */
function checkCacheSettings(cacheDir: string, settings: PrepareSettings): void {
  const p = join(cacheDir, PREPARE_SETTINGS_FILE);
  const old = readJsonIfExists<PrepareSettings>(p);
  if (old) {
    const diff = diffSettings(settings, old);
    if (diff.length > 0) throw new Error(`${cacheDir} holds clips prepared with other settings (${diff.join(', ')}); use another cache folder or delete this one`);
    return;
  }
  if (existsSync(join(cacheDir, 'clipset.json'))) {
    const idx = readIndex(cacheDir);
    if (idx.frames !== settings.frames || idx.height !== settings.size || idx.width !== settings.size || idx.channels !== settings.channels) {
      throw new Error(`${cacheDir} holds a clip set of ${idx.frames} frames of ${idx.height}x${idx.width}x${idx.channels}; use another cache folder`);
    }
  }
}

export async function prepareDataset(opts: PrepareOptions): Promise<PrepareResult> {
  checkGeometry(opts);
  const roots = rootsOf(opts);
  const t0 = performance.now();
  const data = await readLabelledDataset(opts.dataset, roots, opts.scheme, { casme2: opts.casme2, casme3: opts.casme3 });
  const settings = settingsOf(opts, data.scheme.name);
  checkCacheSettings(opts.cacheDir, settings);

  const problems = [...data.problems];
  const readErrors = problems.filter((p) => p.kind === 'error');
  if (readErrors.length > 0 && !opts.skipBad) {
    const more = readErrors.length > 1 ? ` (and ${readErrors.length - 1} more problem(s); run \`mimanet data inspect\` to list them, or pass --skip-bad)` : ' (pass --skip-bad to leave it out)';
    throw new Error(`${formatProblem(readErrors[0]!)}${more}`);
  }
  const skipped: Problem[] = readErrors.slice();

  const geometry = { name: opts.dataset, labels: [...data.scheme.labels], frames: opts.frames, height: opts.size, width: opts.size, channels: opts.channels };
  const bytes = clipBytes(geometry);
  const clips = data.clips
    .map(({ clip, label }) => ({ raw: clip, meta: { id: `${clip.dataset}/${clip.id}`, subject: `${clip.dataset}/${clip.subject}`, source: clip.dataset, label } }))
    .sort((a, b) => (a.meta.id < b.meta.id ? -1 : a.meta.id > b.meta.id ? 1 : 0));
  const toProcess = clips.filter((c) => !hasClip(opts.cacheDir, c.meta.id, bytes)).length;
  opts.onStart?.({ total: clips.length, toProcess, problems });
  writeJsonAtomic(join(opts.cacheDir, PREPARE_SETTINGS_FILE), settings);

  const pre: PreprocessOptions = { frames: opts.frames, size: opts.size, channels: opts.channels, resample: settings.resample, align: opts.align };
  let detector = opts.detector;
  let detectorPromise: Promise<FaceDetector> | undefined;
  const getDetector = async (): Promise<FaceDetector> => {
    if (detector) return detector;
    detectorPromise ??= createFaceDetector(opts.detectorOptions);
    return (detector = await detectorPromise);
  };

  const done: CachedClipMeta[] = [];
  const ok = new Set<string>();
  let written = 0;
  let reused = 0;
  let finished = 0;
  let framesProcessed = 0;
  let stop: Error | undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < clips.length && !stop) {
      const c = clips[next++]!;
      let status: PrepareProgress['status'];
      if (hasClip(opts.cacheDir, c.meta.id, bytes)) {
        reused++;
        status = 'reused';
        ok.add(c.meta.id);
      } else {
        try {
          const d = await getDetector();
          const out = await preprocessClip(c.raw, d, pre);
          writeClip(opts.cacheDir, { ...c.meta, frames: out.frames }, bytes);
          written++;
          framesProcessed += planIndices(resamplePlan(c.raw.framePaths.length, opts.frames, settings.resample)).length;
          status = 'written';
          ok.add(c.meta.id);
        } catch (e) {
          if (!(e instanceof ClipError)) {
            stop = e as Error;
            return;
          }
          const problem: Problem = { dataset: c.raw.dataset, kind: 'error', clip: c.raw.id, ...(e.file ? { file: e.file } : {}), problem: e.problem };
          problems.push(problem);
          if (!opts.skipBad) {
            stop = new Error(`${e.message} (pass --skip-bad to leave it out and go on)`);
            return;
          }
          skipped.push(problem);
          status = 'skipped';
        }
      }
      finished++;
      opts.onProgress?.({ done: finished, total: clips.length, clip: c.meta.id, status });
    }
  };
  const tWork = performance.now();
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? DEFAULT_CLIP_CONCURRENCY) }, worker));
  const seconds = (performance.now() - tWork) / 1000;
  if (stop) throw stop;

  for (const c of clips) if (ok.has(c.meta.id)) done.push(c.meta);
  const provenance = {
    ...settings,
    roots,
    detector: opts.detector ? 'given' : (opts.detectorOptions?.model ?? 'ssd'),
    skipped: skipped.map(formatProblem),
    // every clip of the dataset that is not in the cache, with its reason; runs record it with their results
    leftOut: uniqueClips([...skipped, ...problems.filter((p) => p.kind === 'excluded' && p.clip)]).map((p) => ({
      dataset: p.dataset,
      clip: p.clip ?? '',
      kind: p.kind === 'excluded' ? ('excluded' as const) : ('error' as const),
      reason: formatProblem(p),
    })),
    preparedAt: new Date().toISOString(),
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
  };
  writeIndex(opts.cacheDir, geometry, done, provenance);
  return { set: { ...geometry, clips: done }, written, reused, skipped, problems, framesProcessed, seconds };
}

/** One problem per clip (the first: an error before an exclusion), so no clip is counted twice. */
function uniqueClips(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.dataset}/${p.clip}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The prepared ClipSet for training: loaded from the cache when it is complete
 * and made with the same settings, prepared (or finished) first otherwise.
 */
export async function loadPreparedOrPrepare(opts: PrepareOptions): Promise<ClipSet> {
  checkGeometry(opts);
  const settingsFile = join(opts.cacheDir, PREPARE_SETTINGS_FILE);
  const old = readJsonIfExists<PrepareSettings>(settingsFile);
  if (old && existsSync(join(opts.cacheDir, 'clipset.json'))) {
    const want = settingsOf(opts, getLabelScheme(opts.dataset, opts.scheme).name);
    if (diffSettings(want, old).length === 0) {
      try {
        return loadClipSet(opts.cacheDir);
      } catch {
        // A clip file is missing or short: prepare again, reusing what is intact.
      }
    }
  }
  await prepareDataset(opts);
  return loadClipSet(opts.cacheDir);
}
