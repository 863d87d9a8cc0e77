/**
 * `mimanet spot-eval`: spots every video of a long-video dataset (the embedded
 * synthetic long videos by default, or CAS(ME)^2 / SAMM Long Videos) and prints
 * the MEGC table. The threshold's p is chosen leave-one-subject-out
 * (src/motion/spot-eval.ts) unless --p fixes it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { createProgress, PROGRESS_LINE_MS } from '../util/progress.js';
import { generateLongVideos, longVideoFrame, validateLongVideoConfig, type LongVideoConfigInput } from '../data/synthetic/long-video.js';
import { readLongVideos, type LongVideo as DatasetLongVideo } from '../data/datasets/long-videos.js';
import { formatProblem } from '../data/datasets/types.js';
import { loadFaceFrames } from '../motion/face-frames.js';
import { resolveSpotOptions, type SpotOptions } from '../motion/spot.js';
import { evaluateSpotting, P_GRID, type EvalVideo } from '../motion/spot-eval.js';
import { formatSpotCsv } from '../motion/spot-csv.js';
import type { TruthInterval } from '../motion/spot-metric.js';
import { renderMegcTable } from './spot.js';
import { spotFramePasses } from './spot-video.js';

export interface SpotEvalFlags {
  dataset?: string;
  root?: string;
  videos?: string;
  seconds?: string;
  seed?: string;
  generator?: string;
  size?: string;
  p?: string;
  threads?: string;
  out?: string;
  json?: boolean;
  quiet?: boolean;
}

const DATASETS = ['synthetic', 'casme2-lv', 'samm-lv'] as const;

function int(v: string | undefined, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= min)) throw new Error(`option ${flag} is ${JSON.stringify(v)}: expected an integer >= ${min}`);
  return n;
}

/** The embedded long videos: generated, their truth in frame indices. */
function syntheticVideos(f: SpotEvalFlags): { videos: Array<{ id: string; subject: string; fps: number; size: number; frames: Float32Array[]; truths: TruthInterval[] }>; config: unknown } {
  let input: LongVideoConfigInput = {};
  if (f.generator !== undefined) {
    let text: string;
    try {
      text = readFileSync(f.generator, 'utf8');
    } catch (e) {
      throw new Error(`option --generator: cannot read ${f.generator} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    input = parseYaml(text) as LongVideoConfigInput;
  }
  const videos = int(f.videos, '--videos', 2);
  const seconds = f.seconds === undefined ? undefined : Number(f.seconds);
  const seed = int(f.seed, '--seed', 0);
  const cfg = validateLongVideoConfig({ ...input, ...(videos !== undefined ? { videos } : {}), ...(seconds !== undefined ? { seconds } : {}), ...(seed !== undefined ? { seed } : {}) });
  const set = generateLongVideos(cfg);
  return {
    config: set.config,
    videos: set.videos.map((v) => ({
      id: v.id,
      subject: v.subject,
      fps: v.fps,
      size: v.size,
      frames: Array.from({ length: v.frames }, (_, t) => Float32Array.from(longVideoFrame(v, t).filter((_, i) => i % v.channels === 0))),
      truths: v.expressions.map((e) => ({ video: v.id, onset: e.onset, offset: e.offset, kind: e.kind })),
    })),
  };
}

/** A dataset video's truth in frame indices (positions in its frame list). */
function datasetTruths(v: DatasetLongVideo): TruthInterval[] {
  const index = new Map(v.frameNumbers.map((n, i) => [n, i]));
  const at = (n: number): number => index.get(n) ?? v.frameNumbers.findIndex((m) => m >= n);
  return v.intervals.map((i) => ({ video: v.id, onset: Math.max(0, at(i.onset)), offset: Math.max(0, at(i.offset) < 0 ? v.frames.length - 1 : at(i.offset)), kind: i.kind }));
}

export async function spotEval(f: SpotEvalFlags): Promise<{ text: string; result: ReturnType<typeof evaluateSpotting>; record: Record<string, unknown> }> {
  const dataset = f.dataset ?? 'synthetic';
  if (!(DATASETS as readonly string[]).includes(dataset)) throw new Error(`option --dataset is ${JSON.stringify(dataset)}: expected one of ${DATASETS.join(', ')}`);
  const threads = int(f.threads, '--threads', 1) ?? 1;
  if (threads > 256) throw new Error(`option --threads is ${JSON.stringify(f.threads)}: expected an integer from 1 to 256`);
  const fixedP = f.p === undefined ? undefined : Number(f.p);
  if (fixedP !== undefined && !(fixedP >= 0 && fixedP <= 1)) throw new Error(`option --p is ${JSON.stringify(f.p)}: expected a number from 0 to 1`);
  const size = int(f.size, '--size', 16) ?? 64;
  const evalVideos: EvalVideo[] = [];
  let generator: unknown;
  let options: SpotOptions | undefined;
  if (dataset === 'synthetic') {
    if (f.root !== undefined) throw new Error('option --root: the synthetic long videos are generated; give --dataset casme2-lv or samm-lv with --root');
    const { videos, config } = syntheticVideos(f);
    generator = config;
    const bar = createProgress({ label: 'spot', total: videos.reduce((s, v) => s + 2 * v.frames.length, 0), enabled: f.quiet ? false : undefined, lineEveryMs: PROGRESS_LINE_MS });
    for (const v of videos) {
      options = resolveSpotOptions({ fps: v.fps });
      evalVideos.push({ id: v.id, subject: v.subject, fps: v.fps, truths: v.truths, passes: await spotFramePasses(v.frames, v.size, options, threads, (n) => bar.tick(n)) });
    }
    bar.stop();
  } else {
    if (f.root === undefined) throw new Error(`option --root is missing: give the folder ${dataset} was unpacked into`);
    const set = await readLongVideos(dataset as 'casme2-lv' | 'samm-lv', f.root);
    for (const p of set.problems) process.stderr.write(`${formatProblem(p)}\n`);
    for (const v of set.videos.filter((x) => x.intervals.length > 0 || x.frames.length > 0)) {
      const loaded = await loadFaceFrames(v.frames, { size, align: 'face', fps: v.fps });
      options = resolveSpotOptions({ fps: v.fps });
      evalVideos.push({ id: v.id, subject: v.subject, fps: v.fps, truths: datasetTruths(v), passes: await spotFramePasses(loaded.frames, size, options, threads) });
      if (!f.quiet) process.stderr.write(`spotted ${v.id} (${v.frames.length} frames)\n`);
    }
  }
  const result = evaluateSpotting(evalVideos, fixedP !== undefined ? { p: fixedP } : {});
  const truths = evalVideos.flatMap((v) => v.truths);
  const lines = [
    `${dataset}: ${evalVideos.length} videos of ${new Set(evalVideos.map((v) => v.subject)).size} subjects, ${truths.length} expressions (${truths.filter((t) => t.kind === 'micro').length} micro, ${truths.filter((t) => t.kind === 'macro').length} macro)`,
    result.threshold === 'loso'
      ? `threshold p chosen per held-out subject on the other subjects (grid ${P_GRID.join(', ')}): ${result.folds.map((x) => `${x.subject} ${x.p}`).join(', ')}`
      : `threshold p fixed at ${result.folds[0]?.p}`,
    renderMegcTable(result.scores),
  ];
  const record = { dataset, videos: evalVideos.length, threshold: result.threshold, folds: result.folds, scores: result.scores, options, ...(generator ? { generator } : {}) };
  if (f.out) {
    writeJsonAtomic(join(f.out, 'spot-eval.json'), record);
    writeFileAtomic(join(f.out, 'predictions.csv'), formatSpotCsv(result.predictions, ['score']));
    writeFileAtomic(join(f.out, 'truth.csv'), formatSpotCsv(truths));
  }
  return { text: lines.join('\n'), result, record };
}

export function registerSpotEvalCommand(program: Command): void {
  program
    .command('spot-eval')
    .description('spot every video of a long-video dataset and print the MEGC table (the threshold chosen leave-one-subject-out)')
    .option('--dataset <name>', `synthetic (the embedded long videos, default), casme2-lv or samm-lv`)
    .option('--root <dir>', 'the folder the dataset was unpacked into (casme2-lv, samm-lv)')
    .option('--videos <n>', 'synthetic: number of videos, one subject each (default 4)')
    .option('--seconds <s>', 'synthetic: length of each video (default 30)')
    .option('--seed <n>', 'synthetic: generator seed (default 1)')
    .option('--generator <file>', 'synthetic: JSON or YAML of long-video generator options (docs/spotting.md)')
    .option('--size <px>', 'real datasets: side of the aligned face frames (default 64)')
    .option('--p <x>', 'fix the threshold p (0..1) instead of choosing it leave-one-subject-out')
    .option('--threads <n>', 'flows computed at a time, one thread each (default 1; the scores are the same for any count)')
    .option('--out <dir>', 'write spot-eval.json, predictions.csv and truth.csv there')
    .option('--json', 'print the MEGC scores as JSON on the last line')
    .option('--quiet', 'no progress')
    .action(async (f: SpotEvalFlags) => {
      const { text, result } = await spotEval(f);
      process.stdout.write(`${text}\n`);
      if (f.json) process.stdout.write(`${JSON.stringify(result.scores)}\n`);
    });
}
