/**
 * `mimanet data inspect` and `mimanet data prepare`: look at a dataset where
 * it is unpacked, and turn it into the clip cache training reads.
 */
import type { Command } from 'commander';
import { registerSyntheticCommand } from './synthetic.js';
import { type DatasetRoots, type LabelledDataset, type ReadDatasetOptions, readLabelledDataset } from '../data/datasets/index.js';
import { type LongVideoSet, intervalCounts, readLongVideos } from '../data/datasets/long-videos.js';
import {
  DATASET_NAMES,
  LONG_VIDEO_DATASETS,
  type DatasetName,
  type LongVideoDatasetName,
  type Problem,
  type ProblemKind,
  formatProblem,
  isComposite,
  isDatasetName,
  isLongVideoDataset,
  parseDatasetName,
  sourcesOf,
} from '../data/datasets/types.js';
import { DEFAULT_PREPARE_CHANNELS, DEFAULT_PREPARE_FRAMES, DEFAULT_PREPARE_SIZE, type PrepareOptions, prepareDataset, cacheDirFor } from '../data/prepare.js';
import { PRESETS, DEFAULT_CACHE_BASE, resolveConfig, type Preset } from '../config.js';

/** The preset of a `mimanet run` without --preset. */
const DEFAULT_RUN_PRESET: Preset = resolveConfig().preset;
import type { ResampleMode } from '../data/preprocess/resample.js';
import { type Progress, createProgress } from '../util/progress.js';

interface SourceFlags {
  dataset: string;
  /** DIR, or NAME=DIR as `run` takes it; repeatable (megc2019: one per source). */
  root?: string[];
  smicRoot?: string;
  casme2Root?: string;
  sammRoot?: string;
  scheme?: string;
  casme2Frames?: string;
  casme3Frames?: string;
}

interface InspectFlags extends SourceFlags {
  json?: boolean;
}

interface PrepareFlags extends SourceFlags {
  out?: string;
  cache?: string;
  preset?: string;
  frames?: string;
  size?: string;
  channels?: string;
  resample?: string;
  detector?: string;
  skipBad?: boolean;
  quiet?: boolean;
}

function datasetOf(flags: SourceFlags): DatasetName {
  if (isLongVideoDataset(flags.dataset)) {
    throw new Error(`option --dataset: ${flags.dataset} is a long-video dataset for spotting; \`data inspect\` lists its videos and intervals, but it has no clips to prepare`);
  }
  try {
    return parseDatasetName(flags.dataset);
  } catch (e) {
    const list = /[,+]/.test(flags.dataset) ? `: ${(e as Error).message}` : `: unknown dataset ${JSON.stringify(flags.dataset)}; expected one of ${[...DATASET_NAMES, ...LONG_VIDEO_DATASETS].join(', ')}, or a list of micro datasets such as smic,casme2,samm,casme3`;
    throw new Error(`option --dataset${list}`);
  }
}

/** The flags that name a source's folder directly (the MEGC 2019 sources). */
const SOURCE_ROOT_FLAGS: Readonly<Record<string, keyof SourceFlags>> = { smic: 'smicRoot', casme2: 'casme2Root', samm: 'sammRoot' };

/**
 * The roots of --root (DIR or NAME=DIR, as `run` takes them) and the
 * --smic-root style options: `data` and `run` accept the same syntax.
 */
function rootsOf(dataset: DatasetName | LongVideoDatasetName, flags: SourceFlags): string | DatasetRoots {
  const named: Record<string, string> = {};
  let plain: string | undefined;
  for (const v of flags.root ?? []) {
    const i = v.indexOf('=');
    const name = i > 0 ? v.slice(0, i) : '';
    if (isDatasetName(name) || isLongVideoDataset(name)) named[name] = v.slice(i + 1);
    else if (plain === undefined) plain = v;
    else throw new Error(`option --root is given twice (${JSON.stringify(plain)}, ${JSON.stringify(v)}); name each folder as NAME=DIR, e.g. --root casme2=/data/CASME2`);
  }
  if (!isLongVideoDataset(dataset) && isComposite(dataset)) {
    const sources = sourcesOf(dataset);
    const roots: DatasetRoots = {};
    for (const k of sources) {
      const flag = SOURCE_ROOT_FLAGS[k];
      const dir = (flag ? (flags[flag] as string | undefined) : undefined) ?? named[k];
      if (dir) roots[k] = dir;
    }
    const missing = sources.filter((k) => !roots[k]);
    if (missing.length > 0) {
      const how = missing.map((k) => `--root ${k}=DIR`).join(', ');
      if (dataset === 'megc2019') {
        throw new Error(`megc2019 needs ${missing.map((k) => `--${k}-root`).join(', ')} (or ${how}): the folders SMIC-HS, CASME II and SAMM are unpacked in`);
      }
      throw new Error(`${dataset} needs one folder per dataset in it; missing: ${how}`);
    }
    return roots;
  }
  const others = Object.keys(named).filter((n) => n !== dataset);
  if (others.length > 0) throw new Error(`option --root ${others[0]}=...: --dataset is ${dataset}; give its folder as --root DIR or --root ${dataset}=DIR`);
  const root = named[dataset] ?? plain;
  if (!root) throw new Error(`option --root is required for ${dataset}: --root DIR or --root ${dataset}=DIR`);
  return root;
}

/** Which `mimanet run` reads a prepared geometry, so a cache of another size than the default run's is no surprise. */
export function readByNote(g: { frames: number; height: number; channels: number }, exactFolder: boolean): string {
  const geom = `T=${g.frames}, ${g.height}x${g.height}, ${g.channels === 1 ? 'grey' : 'RGB'}`;
  const preset = (Object.keys(PRESETS) as Preset[]).find((p) => {
    const m = PRESETS[p].model;
    return m.frames === g.frames && m.size === g.height && m.channels === g.channels;
  });
  const where = exactFolder ? '; --out names an exact folder: pass it to run with --cache as its parent only if the name matches' : '';
  return preset
    ? `prepared ${geom}: what \`mimanet run --preset ${preset}\` reads${preset === DEFAULT_RUN_PRESET ? ' (the default preset)' : ` (the default run, preset ${DEFAULT_RUN_PRESET}, reads ${presetGeometry(DEFAULT_RUN_PRESET)}: add --preset ${DEFAULT_RUN_PRESET} to prepare for it)`}${where}`
    : `prepared ${geom}: no preset reads this geometry; set model.frames, model.size and model.channels in a run config to use it${where}`;
}

function presetGeometry(p: Preset): string {
  const m = PRESETS[p].model;
  return `T=${m.frames}, ${m.size}x${m.size}, ${m.channels === 1 ? 'grey' : 'RGB'}`;
}

/** The value of a flag that takes one of `choices`, checked; undefined when the flag is absent. */
function choiceOption<T extends string>(name: string, v: string | undefined, choices: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v)) throw new Error(`option --${name}: expected ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}, got ${JSON.stringify(v)}`);
  return v as T;
}

function readOptions(flags: SourceFlags): ReadDatasetOptions {
  const casme2 = choiceOption('casme2-frames', flags.casme2Frames, ['raw', 'cropped', 'auto'] as const);
  const casme3 = choiceOption('casme3-frames', flags.casme3Frames, ['full', 'clips', 'auto'] as const);
  return { casme2: casme2 ? { frames: casme2 } : {}, casme3: casme3 ? { frames: casme3 } : {} };
}

function intOption(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`option --${name}: expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Everything `data inspect` reports, also its --json output. */
export interface InspectReport {
  dataset: DatasetName;
  scheme: string;
  labels: string[];
  clips: number;
  perClass: Record<string, number>;
  perSubject: Record<string, number>;
  perSource: Record<string, number>;
  /** Counts of problems by kind. */
  counts: { error: number; excluded: number; note: number };
  problems: Problem[];
}

export function inspectReport(d: LabelledDataset): InspectReport {
  const perClass: Record<string, number> = Object.fromEntries(d.scheme.labels.map((l) => [l, 0]));
  const perSubject: Record<string, number> = {};
  const perSource: Record<string, number> = {};
  for (const { clip, label } of d.clips) {
    perClass[d.scheme.labels[label]!]!++;
    const subject = isComposite(d.dataset) ? `${clip.dataset}/${clip.subject}` : clip.subject;
    perSubject[subject] = (perSubject[subject] ?? 0) + 1;
    perSource[clip.dataset] = (perSource[clip.dataset] ?? 0) + 1;
  }
  const counts = { error: 0, excluded: 0, note: 0 };
  for (const p of d.problems) counts[p.kind]++;
  return { dataset: d.dataset, scheme: d.scheme.name, labels: [...d.scheme.labels], clips: d.clips.length, perClass, perSubject, perSource, counts, problems: d.problems };
}

export function renderInspect(r: InspectReport): string {
  const lines: string[] = [];
  lines.push(`${r.dataset}: ${r.clips} clips from ${Object.keys(r.perSubject).length} subjects (label scheme ${r.scheme})`);
  if (Object.keys(r.perSource).length > 1) lines.push(`  per source: ${Object.entries(r.perSource).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push(`  per class: ${Object.entries(r.perClass).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push(`  per subject: ${Object.entries(r.perSubject).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push(`problems: ${r.counts.error} error(s) (clips or rows that cannot be used), ${r.counts.excluded} left out by design, ${r.counts.note} note(s)`);
  return [...lines, ...problemLines(r.problems, 'errors (prepare stops at the first unless --skip-bad):')].join('\n');
}

/** Problems grouped by kind under a heading each, one line per problem. */
function problemLines(problems: readonly Problem[], errorHeading: string): string[] {
  const lines: string[] = [];
  for (const kind of ['error', 'excluded', 'note'] as const) {
    const ps = problems.filter((p) => p.kind === kind);
    if (ps.length === 0) continue;
    lines.push(kind === 'error' ? errorHeading : kind === 'excluded' ? 'left out:' : 'notes:');
    for (const p of ps) lines.push(`  ${formatProblem(p)}`);
  }
  return lines;
}

/** What `data inspect` reports for a long-video dataset, also its --json output. */
export interface LongVideoReport {
  dataset: LongVideoDatasetName;
  fps: number;
  videos: Array<{ id: string; subject: string; frames: number; first: number | null; last: number | null; micro: number; macro: number }>;
  /** Interval counts over all videos. */
  intervals: { micro: number; macro: number };
  counts: Record<ProblemKind, number>;
  problems: Problem[];
}

export function longVideoReport(set: LongVideoSet): LongVideoReport {
  const counts = { error: 0, excluded: 0, note: 0 };
  for (const p of set.problems) counts[p.kind]++;
  const videos = set.videos.map((v) => ({
    id: v.id,
    subject: v.subject,
    frames: v.frames.length,
    first: v.frameNumbers[0] ?? null,
    last: v.frameNumbers[v.frameNumbers.length - 1] ?? null,
    micro: v.intervals.filter((i) => i.kind === 'micro').length,
    macro: v.intervals.filter((i) => i.kind === 'macro').length,
  }));
  return { dataset: set.name, fps: set.fps, videos, intervals: intervalCounts(set), counts, problems: set.problems };
}

export function renderLongVideoReport(r: LongVideoReport): string {
  const subjects = new Set(r.videos.map((v) => v.subject)).size;
  const lines = [`${r.dataset}: ${r.videos.length} videos from ${subjects} subjects at ${r.fps} fps; intervals: micro ${r.intervals.micro}, macro ${r.intervals.macro}`];
  for (const v of r.videos) lines.push(`  ${v.id} (${v.subject}): ${v.frames} frames${v.first !== null ? ` ${v.first}..${v.last}` : ''}; micro ${v.micro}, macro ${v.macro}`);
  lines.push(`problems: ${r.counts.error} error(s) (intervals or videos that cannot be used), ${r.counts.note} note(s)`);
  return [...lines, ...problemLines(r.problems, 'errors:')].join('\n');
}

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('read the real datasets and prepare the clip cache; export the synthetic one');
  registerSyntheticCommand(data);
  const sourceOptions = (c: Command): Command =>
    c
      .requiredOption('--dataset <name>', `dataset: ${DATASET_NAMES.join(', ')}, a list of micro datasets (smic,casme2,samm,casme3), or for inspect the long videos ${LONG_VIDEO_DATASETS.join(', ')}`)
      .option('--root <dir>', 'folder the dataset is unpacked in: DIR or NAME=DIR as for run (megc2019 and lists: one per dataset, e.g. --root smic=DIR)', (v: string, prev: string[] = []) => [...prev, v])
      .option('--smic-root <dir>', 'megc2019: folder SMIC-HS is unpacked in')
      .option('--casme2-root <dir>', 'megc2019: folder CASME II is unpacked in')
      .option('--samm-root <dir>', 'megc2019: folder SAMM is unpacked in')
      .option('--scheme <name>', 'label scheme (default: the dataset\'s usual task, e.g. casme2-5)')
      .option('--casme2-frames <which>', 'CASME II frames: raw, cropped or auto (default auto: raw when present)')
      .option('--casme3-frames <which>', 'CAS(ME)^3 frames: full (part_A recordings), clips (Part_A_ME_clip) or auto (default: full when present)');

  sourceOptions(data.command('inspect').description('count clips per class and subject, and list every problem and what would be left out'))
    .option('--json', 'print the report as JSON')
    .action(async (flags: InspectFlags) => {
      if (isLongVideoDataset(flags.dataset)) {
        const set = await readLongVideos(flags.dataset, rootsOf(flags.dataset, flags) as string);
        const report = longVideoReport(set);
        process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : renderLongVideoReport(report)) + '\n');
        return;
      }
      const dataset = datasetOf(flags);
      const d = await readLabelledDataset(dataset, rootsOf(dataset, flags), flags.scheme, readOptions(flags));
      const report = inspectReport(d);
      process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : renderInspect(report)) + '\n');
    });

  sourceOptions(data.command('prepare').description('detect, align and resample every clip into the clip cache (resumable)'))
    .option('--cache <dir>', 'base cache folder, the one `mimanet run --cache` reads (default .cache/mimanet)')
    .option('--out <dir>', 'exact cache folder (default: a folder under --cache named by dataset, scheme and geometry)')
    .option('--preset <name>', 'take T, size and channels from a run preset: quick or paper')
    .option('--frames <T>', `frames per clip, onset to apex (default ${DEFAULT_PREPARE_FRAMES}, or the preset's)`)
    .option('--size <S>', `frame height and width in pixels (default ${DEFAULT_PREPARE_SIZE}, or the preset's)`)
    .option('--channels <C>', `1 (grey) or 3 (RGB) (default ${DEFAULT_PREPARE_CHANNELS}, or the preset's)`)
    .option('--resample <mode>', 'temporal resampling: linear or nearest (default linear)')
    .option('--detector <model>', 'face box model: ssd (default) or tiny (about 2x faster per clip; ssd is tried when it finds no face)')
    .option('--skip-bad', 'leave out clips that cannot be read or show no face (each is reported) instead of stopping')
    .option('--quiet', 'no progress bar')
    .action(async (flags: PrepareFlags) => {
      const dataset = datasetOf(flags);
      const roots = rootsOf(dataset, flags);
      if (flags.preset !== undefined && !(flags.preset in PRESETS)) throw new Error(`option --preset: expected quick or paper, got ${JSON.stringify(flags.preset)}`);
      const preset = flags.preset ? PRESETS[flags.preset as Preset].model : undefined;
      const channels = intOption('channels', flags.channels, preset?.channels ?? DEFAULT_PREPARE_CHANNELS);
      if (channels !== 1 && channels !== 3) throw new Error(`option --channels: expected 1 or 3, got ${channels}`);
      const resample = flags.resample ?? 'linear';
      if (resample !== 'linear' && resample !== 'nearest') throw new Error(`option --resample: expected linear or nearest, got ${JSON.stringify(resample)}`);
      const model = flags.detector ?? 'ssd';
      if (model !== 'ssd' && model !== 'tiny') throw new Error(`option --detector: expected ssd or tiny, got ${JSON.stringify(model)}`);
      let bar: Progress | undefined;
      const opts: PrepareOptions = {
        dataset,
        ...(typeof roots === 'string' ? { root: roots } : { roots }),
        cacheDir: '',
        scheme: flags.scheme,
        frames: intOption('frames', flags.frames, preset?.frames ?? DEFAULT_PREPARE_FRAMES),
        size: intOption('size', flags.size, preset?.size ?? DEFAULT_PREPARE_SIZE),
        channels,
        resample: resample as ResampleMode,
        skipBad: flags.skipBad === true,
        ...readOptions(flags),
        detectorOptions: { model },
        onStart: ({ total, toProcess }) => {
          process.stderr.write(`${dataset}: ${total} clips, ${total - toProcess} already in ${opts.cacheDir}\n`);
          if (!flags.quiet) bar = createProgress({ label: `prepare ${dataset}`, total });
        },
        onProgress: (p) => bar?.tick(1, { clip: p.clip, status: p.status }),
      };
      opts.cacheDir = flags.out ?? cacheDirFor(flags.cache ?? DEFAULT_CACHE_BASE, opts);
      const out = opts.cacheDir;
      let result;
      try {
        result = await prepareDataset(opts);
      } finally {
        bar?.stop();
      }
      for (const p of result.skipped) process.stderr.write(`skipped: ${formatProblem(p)}\n`);
      const excluded = result.problems.filter((p) => p.kind === 'excluded').length;
      const notes = result.problems.filter((p) => p.kind === 'note').length;
      if (excluded + notes > 0) process.stderr.write(`${excluded} left out by design, ${notes} note(s): \`mimanet data inspect\` lists them\n`);
      const rate = result.seconds > 0 && result.framesProcessed > 0 ? ` (${(result.framesProcessed / result.seconds).toFixed(0)} source frames/s)` : '';
      process.stdout.write(
        `${out}: ${result.set.clips.length} clips of ${result.set.frames}x${result.set.height}x${result.set.width}x${result.set.channels} ` +
          `(${result.written} written, ${result.reused} reused, ${result.skipped.length} skipped)${rate}; labels ${result.set.labels.join(', ')}\n`,
      );
      process.stderr.write(`${readByNote(result.set, flags.out !== undefined)}\n`);
    });
}
