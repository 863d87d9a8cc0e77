/**
 * `mimanet spot`: the spotting commands. `spot score` scores spotted
 * intervals against ground truth with the MEGC metric (src/motion/spot-metric.ts).
 * The group is returned by registerSpotCommands so that `spot INPUT` (spotting
 * a video) can be given its own arguments and action beside the subcommands.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { addSpotVideoCommand } from './spot-video.js';
import { parseSpotCsv } from '../motion/spot-csv.js';
import { type MegcScores, type PredictedInterval, type TruthInterval, MEGC_IOU_THRESHOLD, scoreSpotting } from '../motion/spot-metric.js';

function readText(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`option ${option}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The MEGC table as text: one line per kind and overall. */
export function renderMegcTable(s: MegcScores): string {
  const lines = [`${'kind'.padEnd(8)}${'TP'.padStart(6)}${'FP'.padStart(6)}${'FN'.padStart(6)}${'precision'.padStart(11)}${'recall'.padStart(8)}${'F1'.padStart(8)}`];
  for (const kind of ['micro', 'macro', 'overall'] as const) {
    const r = s[kind];
    lines.push(`${kind.padEnd(8)}${String(r.tp).padStart(6)}${String(r.fp).padStart(6)}${String(r.fn).padStart(6)}${r.precision.toFixed(4).padStart(11)}${r.recall.toFixed(4).padStart(8)}${r.f1.toFixed(4).padStart(8)}`);
  }
  return lines.join('\n');
}

export interface SpotScoreFlags {
  truth: string;
  pred: string;
  json?: boolean;
}

/** `spot score`: reads both tables, prints the table (and with --json the JSON as the last line). */
export function spotScoreCommand(f: SpotScoreFlags): MegcScores {
  const truths: TruthInterval[] = parseSpotCsv(readText(f.truth, '--truth'), f.truth).map(({ video, onset, offset, kind }) => ({ video, onset, offset, kind }));
  const preds: PredictedInterval[] = parseSpotCsv(readText(f.pred, '--pred'), f.pred, { scores: true }).map(({ video, onset, offset, kind, score }) => ({ video, onset, offset, kind, ...(score !== undefined ? { score } : {}) }));
  const scores = scoreSpotting(truths, preds);

  const videos = new Set(truths.map((t) => t.video));
  const stray = preds.filter((p) => !videos.has(p.video));
  if (stray.length > 0) {
    const names = [...new Set(stray.map((p) => p.video))];
    process.stderr.write(`note: ${stray.length} prediction(s) in ${names.length} video(s) without ground truth (${names.slice(0, 5).map((n) => JSON.stringify(n)).join(', ')}${names.length > 5 ? ', ...' : ''}): counted as false positives\n`);
  }
  const count = (xs: TruthInterval[], k: string) => xs.filter((x) => x.kind === k).length;
  process.stdout.write(
    `MEGC spotting (IoU >= ${MEGC_IOU_THRESHOLD}, one-to-one): ${truths.length} truths (${count(truths, 'micro')} micro, ${count(truths, 'macro')} macro) in ${videos.size} video(s), ` +
      `${preds.length} predictions (${count(preds, 'micro')} micro, ${count(preds, 'macro')} macro)\n${renderMegcTable(scores)}\n`,
  );
  if (f.json) process.stdout.write(`${JSON.stringify(scores)}\n`);
  return scores;
}

/** Adds the `spot` command group and returns it. */
export function registerSpotCommands(program: Command): Command {
  const spot = program.command('spot').description('spot micro- and macro-expressions in a video (spot INPUT), or score spotted intervals with the MEGC metric (spot score)');
  spot
    .command('score')
    .description(
      'score predicted intervals against ground truth with the MEGC spotting metric: same video and kind, IoU >= 0.5, ' +
        'one-to-one matching in descending score order; counts summed over videos; overall = micro + macro counts',
    )
    .requiredOption('--truth <csv>', 'ground truth: CSV with columns video,onset,offset,kind (inclusive frame indices; kind micro or macro)')
    .requiredOption('--pred <csv>', 'predictions: the same columns, plus an optional score (higher is matched first)')
    .option('--json', 'also print {"micro","macro","overall": {tp, fp, fn, precision, recall, f1}} as the last line')
    .action((f: SpotScoreFlags) => {
      spotScoreCommand(f);
    });
  addSpotVideoCommand(spot);
  return spot;
}
