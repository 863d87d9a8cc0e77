/**
 * `mimanet report DIR`: DIR/report.html, a self-contained page of a results folder's tables and charts.
 * `mimanet summarize DIR`: summary.json and summary.md again from the folder's predictions.csv.
 */
import type { Command } from 'commander';
import { writeReport } from '../eval/report-html.js';
import { resummarizeFolder } from '../eval/run-summary.js';
import { renderConsoleTable } from '../eval/summary.js';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('write DIR/report.html from a results folder of `mimanet run` (tables, confusion matrices, training curves, t-SNE maps); opens offline')
    .argument('<dir>', 'results folder (with summary.json)')
    .option('--seed <n>', 'seed of the t-SNE layouts and point sampling', '1')
    .option('--tsne-points <n>', 'most points per t-SNE map (a seeded sample above it)')
    .action(async (dir: string, flags: { seed: string; tsnePoints?: string }) => {
      const int = (name: string, v: string | undefined, min: number): number | undefined => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < min) throw new Error(`option --${name} is ${JSON.stringify(v)}: expected an integer >= ${min}`);
        return n;
      };
      const path = await writeReport(dir, { seed: int('seed', flags.seed, 0), tsnePoints: int('tsne-points', flags.tsnePoints, 2) });
      process.stdout.write(`${path}\n`);
    });
  program
    .command('summarize')
    .description("recompute DIR/summary.json and summary.md from DIR/predictions.csv (e.g. after a change of the statistics; nothing is retrained; the transfer diagnostic is kept)")
    .argument('<dir>', 'results folder (with summary.json and predictions.csv)')
    .action((dir: string) => {
      process.stdout.write(renderConsoleTable(resummarizeFolder(dir)));
    });
}

/** `mimanet compare A B`: paired differences of the rows two results folders share, B minus A. */
export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('paired comparison of two results folders of `mimanet run` (e.g. two input modes): each row both hold, B minus A, on the seeds and clips both scored, with bootstrap intervals')
    .argument('<a>', 'results folder A (the reference)')
    .argument('<b>', 'results folder B')
    .option('--json', 'print the comparison as one JSON object (last line)')
    .option('--out <file>', 'also write the Markdown table to FILE (atomically)')
    .action(async (a: string, b: string, flags: { json?: boolean; out?: string }) => {
      const { compareFolders, renderComparisonMarkdown } = await import('../eval/compare.js');
      const { writeFileAtomic } = await import('../util/fs.js');
      const c = compareFolders(a, b);
      const md = renderComparisonMarkdown(c);
      if (flags.out) writeFileAtomic(flags.out, md);
      process.stdout.write(flags.json ? JSON.stringify(c) + '\n' : md);
    });
}
