/** `mimanet predict`: label and class probabilities of one clip from a saved checkpoint. */
import type { Command } from 'commander';
import { initBackend } from '../backend/index.js';
import { BACKEND_HELP, backendFlag } from './run.js';
import { Predictor, type AlignMode, type PredictResult } from '../predict/index.js';

export interface PredictFlags {
  model: string;
  onset?: string;
  apex?: string;
  clip?: string;
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

export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('recognise the expression of one clip with a checkpoint written by `mimanet train`')
    .argument('<clip>', 'a folder of frames (jpg, png, bmp), a video file, a prepared clip (.u8 from the clip cache), or a clip-cache folder with --clip')
    .requiredOption('--model <dir>', 'checkpoint folder (model.json, weights.bin, mimanet.json)')
    .option('--onset <n>', 'onset frame index, 0-based (default: the first frame)')
    .option('--apex <n>', 'apex frame index, 0-based (default: the middle frame)')
    .option('--clip <id>', 'clip id, when CLIP is a clip-cache folder')
    .option('--align <mode>', 'face or none: override the preprocessing recorded in the checkpoint')
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .option('--json', 'print one JSON object instead of text')
    .action(async (clip: string, flags: PredictFlags) => {
      if (flags.align !== undefined && flags.align !== 'face' && flags.align !== 'none') {
        throw new Error(`option --align is ${JSON.stringify(flags.align)}: expected face or none`);
      }
      const opts = { onset: frameFlag('onset', flags.onset), apex: frameFlag('apex', flags.apex), clip: flags.clip, align: flags.align as AlignMode | undefined };
      await initBackend(backendFlag(flags.backend));
      const predictor = await Predictor.load(flags.model);
      try {
        const r = await predictor.predict(clip, opts);
        if (r.input.adjusted) process.stderr.write(`mimanet: note: ${r.input.source}: ${r.input.adjusted}\n`);
        if (flags.json) {
          const probabilities = Object.fromEntries(r.labels.map((l, k) => [l, r.probs[k]]));
          process.stdout.write(JSON.stringify({ model: flags.model, ...r.input, label: r.label, index: r.index, labels: r.labels, probabilities }) + '\n');
        } else {
          process.stdout.write(renderPrediction(r, flags.model));
        }
      } finally {
        predictor.dispose();
      }
    });
}
