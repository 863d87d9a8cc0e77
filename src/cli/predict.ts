/**
 * `mimanet predict`: label and class probabilities of a clip from a saved
 * checkpoint; of many clips (several paths, `--clips DIR`, `--list FILE`) in
 * one process, as CSV or JSON. A video or a folder of frames that does not say
 * where its onset and apex are (no --onset/--apex, no clip.json) is spotted
 * first, and each micro interval recognised: a timeline.
 */
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import { initBackend } from '../backend/index.js';
import { BACKEND_HELP, backendFlag } from './run.js';
import { defaultedNote, lacksOnsetApex, Predictor, type AlignMode, type PredictResult, type TimelineOptions, type VideoTimeline } from '../predict/index.js';
import { batchCsv, batchJson, clipsInFolder, clipsInList, predictBatch, predictionJson, type BatchItem } from '../predict/batch.js';
import { timelineCsv, timelineJsonFields } from '../predict/timeline.js';
import { writeFileAtomic } from '../util/fs.js';
import { createProgress, PROGRESS_LINE_MS } from '../util/progress.js';

export interface PredictFlags {
  model: string;
  onset?: string;
  apex?: string;
  clip?: string;
  clips?: string;
  list?: string;
  out?: string;
  align?: string;
  backend?: string;
  json?: boolean;
  wholeClip?: boolean;
  fps?: string;
  p?: string;
  microWindow?: string;
  macroWindow?: string;
  spotSize?: string;
  threads?: string;
  quiet?: boolean;
}

/** The spotter's flags of predict, as `mimanet spot` names them (its --size is --spot-size here). */
const SPOT_FLAGS = [
  ['fps', '--fps'],
  ['p', '--p'],
  ['microWindow', '--micro-window'],
  ['macroWindow', '--macro-window'],
  ['spotSize', '--spot-size'],
  ['threads', '--threads'],
] as const;

function numberFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`option ${flag} is ${JSON.stringify(v)}: expected a number`);
  return n;
}

/** The timeline options the flags set; the rest are the spotter's defaults. */
export function timelineOptions(f: PredictFlags, align: AlignMode | undefined): TimelineOptions {
  const n = (k: (typeof SPOT_FLAGS)[number][0], flag: string): Record<string, number> => {
    const v = numberFlag(flag, f[k]);
    return v === undefined ? {} : { [k === 'spotSize' ? 'size' : k]: v };
  };
  return Object.assign({}, ...SPOT_FLAGS.map(([k, flag]) => n(k, flag)), align ? { align } : {}) as TimelineOptions;
}

function frameFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n)) throw new Error(`option --${name} is ${JSON.stringify(v)}: expected a frame index (0, 1, 2, ...)`);
  return n;
}

/** Decimals of the probabilities in the text output. */
export const PROB_DECIMALS = 4;

export function renderPrediction(r: PredictResult, modelDir: string): string {
  const width = Math.max(...r.labels.map((l) => l.length));
  const i = r.input;
  const what =
    i.kind === 'prepared'
      ? `prepared clip ${i.clip}`
      : `frames ${i.onset}..${i.apex} of ${i.sourceFrames} (onset..apex), ${typeof i.preprocessing === 'string' ? i.preprocessing : i.preprocessing.align === 'face' ? 'face-aligned' : 'resized'}`;
  const lines = [`${r.label}`, `  model ${modelDir}; ${i.source}: ${what}`];
  r.labels.forEach((l, k) => lines.push(`  ${l.padEnd(width)}  ${r.probs[k].toFixed(PROB_DECIMALS)}${k === r.index ? '  <' : ''}`));
  return lines.join('\n') + '\n';
}

/** Decimals of the probabilities in the timeline table. */
const TABLE_DECIMALS = 3;

/** The timeline as text: what was read and how onset and apex were chosen, then one row an interval. */
export function renderTimeline(t: VideoTimeline, modelDir: string): string {
  const micro = t.intervals.filter((i) => i.recognised);
  const macro = t.intervals.length - micro.length;
  const lines = [
    `${t.source}: ${t.frames} frames at ${t.fps} fps (${(t.frames / t.fps).toFixed(1)} s); model ${modelDir}`,
    `${t.chosen}`,
    micro.length === 0
      ? `no micro-expression spotted${macro > 0 ? ` (${macro} macro interval(s), not recognised)` : ''}: nothing to recognise`
      : `${micro.length} micro interval(s) recognised${macro > 0 ? `, ${macro} macro interval(s) spotted, not recognised` : ''}`,
  ];
  if (t.intervals.length > 0) {
    const width = Math.max(5, ...micro.map((i) => i.label!.length));
    const probWidth = t.labels.map((l) => Math.max(l.length, TABLE_DECIMALS + 2));
    lines.push(
      `  ${'time (s)'.padEnd(13)}  ${'onset'.padStart(6)} ${'apex'.padStart(6)} ${'offset'.padStart(6)}  kind   score  ${'label'.padEnd(width)}  ${t.labels.map((l, k) => l.padStart(probWidth[k])).join('  ')}`,
    );
    for (const i of t.intervals) {
      const time = `${i.start.toFixed(2)}-${i.end.toFixed(2)}`;
      const probs = i.probs ? i.probs.map((p, k) => p.toFixed(TABLE_DECIMALS).padStart(probWidth[k])).join('  ') : '(macro: not recognised)';
      lines.push(
        `  ${time.padEnd(13)}  ${String(i.onset).padStart(6)} ${String(i.apex).padStart(6)} ${String(i.offset).padStart(6)}  ${i.kind.padEnd(5)}  ${i.score.toFixed(2).padStart(5)}  ${(i.label ?? '-').padEnd(width)}  ${probs}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

/** `predict --json`'s object for a timeline. */
export function timelineJson(t: VideoTimeline, model: string): Record<string, unknown> {
  return { model, source: t.source, kind: t.kind, ...timelineJsonFields(t), ...(t.adjusted ? { adjusted: t.adjusted } : {}) };
}

/** Spots one clip, recognises its micro intervals, and prints the timeline (the table, or JSON with --json); --out FILE.csv|.json writes it too. */
async function predictTimeline(predictor: Predictor, path: string, flags: PredictFlags, align: AlignMode | undefined): Promise<void> {
  const opts = timelineOptions(flags, align);
  // one progress line a stage, made when its total is known
  const bars = new Map<'read' | 'flow', ReturnType<typeof createProgress>>();
  const tick = (stage: 'read' | 'flow', n: number, total: number): void => {
    let bar = bars.get(stage);
    if (!bar) {
      for (const b of bars.values()) b.stop();
      bar = createProgress({ label: stage === 'read' ? 'frames' : 'flow', total, enabled: flags.quiet ? false : undefined, lineEveryMs: PROGRESS_LINE_MS });
      bars.set(stage, bar);
    }
    bar.tick(n);
  };
  let t: VideoTimeline;
  try {
    t = await predictor.timeline(path, { ...opts, progress: tick });
  } finally {
    for (const b of bars.values()) b.stop();
  }
  const micro = t.intervals.filter((i) => i.recognised).length;
  process.stderr.write(`mimanet: note: ${path}: no --onset/--apex and no clip.json: ${t.chosen}\n`);
  if (micro === 0) process.stderr.write(`mimanet: note: ${path}: spotting found no micro-expression interval (p ${t.spotting.options.p}): the timeline has no label\n`);
  if (t.adjusted) process.stderr.write(`mimanet: note: ${path}: ${t.adjusted}\n`);
  if (flags.out !== undefined) {
    const format = extname(flags.out).toLowerCase().slice(1);
    const video = basename(path.replace(/\/+$/, ''), extname(path));
    writeFileAtomic(flags.out, format === 'csv' ? timelineCsv(video, t) : JSON.stringify(timelineJson(t, flags.model), null, 2) + '\n');
    process.stderr.write(`wrote ${flags.out}: ${micro} micro interval(s) recognised, ${t.intervals.length - micro} macro spotted\n`);
  }
  process.stdout.write(flags.json ? JSON.stringify(timelineJson(t, flags.model)) + '\n' : renderTimeline(t, flags.model));
}

/** The clips a batch run scores: positional paths, the clips of --clips DIR, the lines of --list FILE, in that order. */
function batchItems(paths: string[], flags: PredictFlags): BatchItem[] {
  return [...paths.map((p) => ({ name: p, path: p })), ...(flags.clips ? clipsInFolder(flags.clips) : []), ...(flags.list ? clipsInList(flags.list) : [])];
}

export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description(
      'recognise the expression of clips with a checkpoint written by `mimanet train`: one clip (text, or --json), or many in one process (--clips DIR, --list FILE or several paths; CSV, or JSON with --json or --out FILE.json); ' +
        'a video or a folder of frames without --onset/--apex or clip.json is spotted first, and each micro-expression recognised (a timeline)',
    )
    .argument('[clip...]', 'a folder of frames (jpg, png, bmp), a video file, a prepared clip (.u8 from the clip cache), or a clip-cache folder with --clip')
    .requiredOption('--model <dir>', 'checkpoint folder (model.json, weights.bin, mimanet.json)')
    .option('--onset <n>', 'onset frame index, 0-based (default: clip.json beside the frames; without either, the video is spotted)')
    .option('--apex <n>', 'apex frame index, 0-based (default: clip.json beside the frames; without either, the video is spotted)')
    .option('--whole-clip', 'take onset = the first frame and apex = the middle frame instead of spotting (a guess, and said so)')
    .option('--clip <id>', 'clip id, when CLIP is a clip-cache folder')
    .option('--clips <dir>', 'score every clip in DIR: its folders of frames, videos and .u8 prepared clips; or every clip of a clip cache')
    .option('--list <file>', 'score the clips listed in FILE, one path a line, relative to FILE\'s folder (# starts a comment)')
    .option('--out <file>', 'with several clips: write the predictions to FILE instead of to stdout; with a spotted timeline: write it to FILE as well; CSV or JSON by its extension (.csv, .json)')
    .option('--align <mode>', 'face or none: override the preprocessing recorded in the checkpoint (and, when spotting, how the spotter reads faces)')
    .option('--fps <n>', 'spotting: frames per second (required for a folder of frames; overrides a video\'s own)')
    .option('--p <x>', 'spotting: threshold T = mean + p (max - mean) of each pass\'s contrast, 0..1 (default 0.3)')
    .option('--micro-window <s>', 'spotting: window of the micro pass, seconds (default 0.3)')
    .option('--macro-window <s>', 'spotting: window of the macro pass, seconds (default 1.0)')
    .option('--spot-size <px>', 'spotting: side of the grey face frames the flow is computed on (default 64)')
    .option('--threads <n>', 'spotting: flows computed at a time, one thread each (default 1; the timeline is the same for any count)')
    .option('--quiet', 'no progress lines while spotting')
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .option('--json', 'print JSON instead of text (one clip) or CSV (several)')
    .action(async (paths: string[], flags: PredictFlags) => {
      if (flags.align !== undefined && flags.align !== 'face' && flags.align !== 'none') {
        throw new Error(`option --align is ${JSON.stringify(flags.align)}: expected face or none`);
      }
      const opts = { onset: frameFlag('onset', flags.onset), apex: frameFlag('apex', flags.apex), clip: flags.clip, align: flags.align as AlignMode | undefined };
      const batch = paths.length > 1 || flags.clips !== undefined || flags.list !== undefined;
      if (!batch && paths.length === 0) throw new Error('no clip given: name a clip, or several with --clips DIR or --list FILE');
      if (batch && (opts.onset !== undefined || opts.apex !== undefined || opts.clip !== undefined)) {
        throw new Error('--onset, --apex and --clip apply to one clip; with several, each clip folder\'s clip.json gives onset and apex (and --clips CACHE scores every clip of a cache)');
      }
      const explicit = opts.onset !== undefined || opts.apex !== undefined;
      if (flags.wholeClip && explicit) throw new Error('--whole-clip takes onset = the first frame and apex = the middle frame; --onset and --apex choose them: give one or the other');
      if (batch && flags.wholeClip) throw new Error('--whole-clip applies to one clip');
      const spotting = !batch && !explicit && !flags.wholeClip && lacksOnsetApex(paths[0]);
      const spotFlags = SPOT_FLAGS.filter(([k]) => flags[k] !== undefined).map(([, f]) => f);
      if (!spotting && spotFlags.length > 0) {
        throw new Error(`${spotFlags.join(', ')}: spotting options, for one video or folder of frames without --onset/--apex, clip.json or --whole-clip`);
      }
      if (!batch && !spotting && flags.out !== undefined) throw new Error('--out is for several clips (--clips, --list) or a spotted timeline; for one clip, redirect the output');
      const format = flags.out === undefined ? (flags.json ? 'json' : 'csv') : extname(flags.out).toLowerCase().slice(1);
      if (format !== 'csv' && format !== 'json') throw new Error(`--out ${flags.out}: expected a .csv or .json file`);
      if (spotting) timelineOptions(flags, opts.align); // bad numbers are refused before the checkpoint is loaded
      const items = batch ? batchItems(paths, flags) : [];
      await initBackend(backendFlag(flags.backend));
      const predictor = await Predictor.load(flags.model);
      try {
        if (spotting) {
          await predictTimeline(predictor, paths[0], flags, opts.align);
          return;
        }
        if (!batch) {
          const r = await predictor.predict(paths[0], opts);
          const defaulted = defaultedNote(r.input);
          if (defaulted) process.stderr.write(`mimanet: note: ${r.input.source}: ${defaulted}${flags.wholeClip ? ' (--whole-clip)' : ''}\n`);
          if (r.input.adjusted) process.stderr.write(`mimanet: note: ${r.input.source}: ${r.input.adjusted}\n`);
          process.stdout.write(flags.json ? JSON.stringify(predictionJson(r, flags.model)) + '\n' : renderPrediction(r, flags.model));
          return;
        }
        const t0 = Date.now();
        const rows = await predictBatch(predictor, items, { align: opts.align }, (row) => {
          if (row.error) process.stderr.write(`mimanet: error: ${row.clip}: ${row.error}\n`);
          const defaulted = row.result && defaultedNote(row.result.input);
          if (defaulted) process.stderr.write(`mimanet: note: ${row.clip}: ${defaulted}\n`);
          if (row.result?.input.adjusted) process.stderr.write(`mimanet: note: ${row.clip}: ${row.result.input.adjusted}\n`);
        });
        const text = format === 'json' ? JSON.stringify(batchJson(rows, flags.model), null, flags.out ? 2 : undefined) + '\n' : batchCsv(rows, predictor.meta.labels);
        const failed = rows.filter((r) => r.error).length;
        if (flags.out) {
          writeFileAtomic(flags.out, text);
          process.stderr.write(`${rows.length - failed} of ${rows.length} clips scored in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${flags.out}\n`);
        } else process.stdout.write(text);
        if (failed > 0) throw new Error(`${failed} of ${rows.length} clips could not be scored (their error is in the error field)`);
      } finally {
        predictor.dispose();
      }
    });
}
