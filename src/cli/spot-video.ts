/**
 * `mimanet spot INPUT`: spots micro- and macro-expressions in a video file or a
 * folder of frames (src/motion/spot.ts on the TV-L1 flow of src/motion/flow.ts)
 * and writes what it found: `<out>/<name>.spot.json`, `<name>.spot.csv` and,
 * with --html, `<name>.spot.html`.
 */
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { createProgress, PROGRESS_LINE_MS } from '../util/progress.js';
import { loadFaceFrames } from '../motion/face-frames.js';
import { resolveSpotOptions, spotFromPasses, type FlowFn, type SpotOptions, type SpotPass, type SpotResult } from '../motion/spot.js';
import { spotPassesParallel } from '../motion/spot-parallel.js';
import { intervalsCsv, spotHtml, spotRecord, type SpotRecord } from '../motion/spot-output.js';
import { opticalFlow } from '../motion/flow.js';

export interface SpotVideoFlags {
  out?: string;
  fps?: string;
  size?: string;
  align?: string;
  p?: string;
  microWindow?: string;
  macroWindow?: string;
  threads?: string;
  html?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function number(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`option ${flag} is ${JSON.stringify(v)}: expected a number`);
  return n;
}

/** The spotter's flow: TV-L1 with its default parameters (native where built). */
export function spotFlow(threads = 1): FlowFn {
  return (a, b, w, h) => opticalFlow(a, b, w, h, {}, { threads });
}

/**
 * The two passes over aligned grey frames (size x size), their flows computed `threads` at a time,
 * one thread each (worker threads; src/motion/spot-parallel.ts): the same passes for any count.
 */
export function spotFramePasses(frames: readonly Float32Array[], size: number, options: SpotOptions, threads = 1, progress?: (done: number) => void): Promise<SpotPass[]> {
  return spotPassesParallel(frames, size, size, options, threads, progress);
}

/** Spots aligned grey frames (size x size) as `mimanet spot` does. */
export async function spotFrames(frames: readonly Float32Array[], size: number, options: SpotOptions, threads = 1, progress?: (done: number) => void): Promise<SpotResult> {
  return spotFromPasses(await spotFramePasses(frames, size, options, threads, progress), options);
}

/** The spot options the flags set over the defaults, for a video of `fps`. */
export function spotOptionsFromFlags(f: SpotVideoFlags, fps: number): SpotOptions {
  const pick: Array<[keyof SpotOptions, string | undefined, string]> = [
    ['p', f.p, '--p'],
    ['microWindow', f.microWindow, '--micro-window'],
    ['macroWindow', f.macroWindow, '--macro-window'],
  ];
  const set: Partial<SpotOptions> = {};
  for (const [k, v, flag] of pick) if (v !== undefined) (set as Record<string, number>)[k] = number(v, flag)!;
  return resolveSpotOptions({ ...set, fps });
}

/** Spots one video; progress goes to stderr. */
export async function spotVideo(input: string, f: SpotVideoFlags): Promise<SpotRecord> {
  const align = f.align ?? 'face';
  if (align !== 'face' && align !== 'none') throw new Error(`option --align is ${JSON.stringify(align)}: expected face or none`);
  const size = number(f.size, '--size') ?? 64;
  const fps = number(f.fps, '--fps');
  const threads = number(f.threads, '--threads') ?? 1;
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= 256)) throw new Error(`option --threads is ${JSON.stringify(f.threads)}: expected an integer from 1 to 256`);
  const reading = createProgress({ label: 'frames', total: 0, enabled: f.quiet ? false : undefined, lineEveryMs: PROGRESS_LINE_MS });
  const loaded = await loadFaceFrames(input, { size, align, ...(fps !== undefined ? { fps } : {}), progress: () => reading.tick() });
  reading.stop();
  const options = spotOptionsFromFlags(f, loaded.fps);
  const flows = createProgress({ label: 'flow', total: 2 * loaded.frames.length, enabled: f.quiet ? false : undefined, lineEveryMs: PROGRESS_LINE_MS });
  const result = await spotFrames(loaded.frames, size, options, threads, (n) => flows.tick(n));
  flows.stop();
  return spotRecord(basename(input.replace(/\/+$/, ''), extname(input)), input, size, options, loaded.frames.length, result);
}

/** Adds `spot INPUT` to the `spot` command group. */
export function addSpotVideoCommand(spotCmd: Command): void {
  // the default subcommand: `mimanet spot INPUT` runs it, and its options stay apart from `spot score`'s
  spotCmd
    .command('video', { isDefault: true })
    .description('spot micro- and macro-expressions in a video file or a folder of frames (the default: mimanet spot INPUT)')
    .argument('[input]', 'a video file or a folder of frames (a folder needs --fps)')
    .option('--out <dir>', 'where to write <name>.spot.json and <name>.spot.csv (default: the current folder)')
    .option('--fps <n>', 'frames per second (required for a folder of frames; overrides a video\'s own)')
    .option('--size <px>', 'side of the aligned face frames the flow is computed on (default 64)')
    .option('--align <mode>', 'face: align by the eyes found on the first frame with a face (default); none: frames are face crops already')
    .option('--p <x>', 'threshold T = mean + p (max - mean) of each pass\'s contrast, 0..1 (default 0.3)')
    .option('--micro-window <s>', 'window of the micro pass, seconds (default 0.3)')
    .option('--macro-window <s>', 'window of the macro pass, seconds (default 1.0)')
    .option('--threads <n>', 'flows computed at a time, one thread each (default 1; the result is the same for any count)')
    .option('--html', 'also write <name>.spot.html: the score over time with the intervals marked')
    .option('--json', 'print the record as JSON (last line) instead of the table')
    .option('--quiet', 'no progress')
    .action(async (input: string | undefined, f: SpotVideoFlags) => {
      if (input === undefined) {
        spotCmd.help();
        return;
      }
      const r = await spotVideo(input, f);
      const dir = f.out ?? '.';
      const base = join(dir, r.video);
      writeJsonAtomic(`${base}.spot.json`, r);
      writeFileAtomic(`${base}.spot.csv`, intervalsCsv([r]));
      if (f.html) writeFileAtomic(`${base}.spot.html`, spotHtml(r));
      if (f.json) {
        process.stdout.write(`${JSON.stringify({ video: r.video, fps: r.fps, frames: r.frames, intervals: r.intervals })}\n`);
        return;
      }
      process.stdout.write(`${r.source}: ${r.frames} frames at ${r.fps} fps, ${r.intervals.length} interval(s)\n`);
      for (const i of r.intervals) {
        process.stdout.write(`  ${i.kind.padEnd(5)}  frames ${String(i.onset).padStart(5)}-${String(i.offset).padEnd(5)} apex ${String(i.apex).padStart(5)}  ${i.start.toFixed(2)}-${i.end.toFixed(2)} s  score ${i.score.toFixed(2)}\n`);
      }
      process.stdout.write(`wrote ${base}.spot.json, ${base}.spot.csv${f.html ? `, ${base}.spot.html` : ''}\n`);
    });
}
