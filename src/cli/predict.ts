/**
 * `mimanet predict`: label and class probabilities of a clip from a saved
 * checkpoint; of many clips (several paths, `--clips DIR`, `--list FILE`) in
 * one process, as CSV or JSON.
 */
import { extname } from 'node:path';
import type { Command } from 'commander';
import { initBackend } from '../backend/index.js';
import { BACKEND_HELP, backendFlag } from './run.js';
import { Predictor, type AlignMode, type PredictResult } from '../predict/index.js';
import { batchCsv, batchJson, clipsInFolder, clipsInList, predictBatch, predictionJson, type BatchItem } from '../predict/batch.js';
import { writeFileAtomic } from '../util/fs.js';

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

/** The clips a batch run scores: positional paths, the clips of --clips DIR, the lines of --list FILE, in that order. */
function batchItems(paths: string[], flags: PredictFlags): BatchItem[] {
  return [...paths.map((p) => ({ name: p, path: p })), ...(flags.clips ? clipsInFolder(flags.clips) : []), ...(flags.list ? clipsInList(flags.list) : [])];
}

export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('recognise the expression of clips with a checkpoint written by `mimanet train`: one clip (text, or --json), or many in one process (--clips DIR, --list FILE or several paths; CSV, or JSON with --json or --out FILE.json)')
    .argument('[clip...]', 'a folder of frames (jpg, png, bmp), a video file, a prepared clip (.u8 from the clip cache), or a clip-cache folder with --clip')
    .requiredOption('--model <dir>', 'checkpoint folder (model.json, weights.bin, mimanet.json)')
    .option('--onset <n>', 'onset frame index, 0-based (default: the first frame, or clip.json beside the frames)')
    .option('--apex <n>', 'apex frame index, 0-based (default: the middle frame, or clip.json beside the frames)')
    .option('--clip <id>', 'clip id, when CLIP is a clip-cache folder')
    .option('--clips <dir>', 'score every clip in DIR: its folders of frames, videos and .u8 prepared clips; or every clip of a clip cache')
    .option('--list <file>', 'score the clips listed in FILE, one path a line, relative to FILE\'s folder (# starts a comment)')
    .option('--out <file>', 'with several clips: write the predictions to FILE, CSV or JSON by its extension (.csv, .json), instead of to stdout')
    .option('--align <mode>', 'face or none: override the preprocessing recorded in the checkpoint')
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
      if (!batch && flags.out !== undefined) throw new Error('--out is for several clips (--clips, --list); for one clip, redirect the output');
      const format = flags.out === undefined ? (flags.json ? 'json' : 'csv') : extname(flags.out).toLowerCase().slice(1);
      if (format !== 'csv' && format !== 'json') throw new Error(`--out ${flags.out}: expected a .csv or .json file`);
      const items = batch ? batchItems(paths, flags) : [];
      await initBackend(backendFlag(flags.backend));
      const predictor = await Predictor.load(flags.model);
      try {
        if (!batch) {
          const r = await predictor.predict(paths[0], opts);
          if (r.input.adjusted) process.stderr.write(`mimanet: note: ${r.input.source}: ${r.input.adjusted}\n`);
          process.stdout.write(flags.json ? JSON.stringify(predictionJson(r, flags.model)) + '\n' : renderPrediction(r, flags.model));
          return;
        }
        const t0 = Date.now();
        const rows = await predictBatch(predictor, items, { align: opts.align }, (row) => {
          if (row.error) process.stderr.write(`mimanet: error: ${row.clip}: ${row.error}\n`);
          else if (row.result?.input.adjusted) process.stderr.write(`mimanet: note: ${row.clip}: ${row.result.input.adjusted}\n`);
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
