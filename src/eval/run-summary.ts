/**
 * The summary files of a results folder, made from the row results on disk:
 * predictions.csv, folds.csv, summary.json and summary.md. Called by the
 * command once training is done (and again by a rerun that resumes).
 */
import type { MimanetConfig } from '../config.js';
import { collectResults, collectTransfer, configFingerprint, foldRow, readRunRecord, rowName, writeSummaryFiles, type FoldRef, type LeftOutClip } from '../results/index.js';
import { predictionsToCsv, renderSummaryMarkdown, summarize, TRANSFER_ROW, type Prediction, type Summary } from './summary.js';

/** Summarises the configured seeds and rows of `cfg.out` and writes the summary files. */
export function writeRunSummary(cfg: MimanetConfig, dataset: { name: string; labels: readonly string[] }, folds: readonly FoldRef[]): Summary {
  const results = collectResults(cfg, folds);
  const labels = [...dataset.labels];
  const predictions: Prediction[] = results.flatMap((r) =>
    r.predictions.map((p) => ({ seed: r.seed, variant: r.variant, fold: r.subject, clipId: p.clipId, subject: p.subject, source: p.source, label: p.label, pred: p.pred, probs: p.probs })),
  );
  const transfer = collectTransfer(cfg);
  const summary = summarize({
    transfer: transfer.flatMap((r) => r.predictions.map((p) => ({ seed: r.seed, variant: TRANSFER_ROW, fold: p.subject, ...p }))),
    dataset: dataset.name,
    labels,
    variants: cfg.microTrainShares.flatMap((share) => cfg.variants.map((v) => ({ name: rowName(v, share), losses: [...v], share }))),
    predictions,
  });
  const leftOut = readRunRecord(cfg.out)?.leftOut ?? [];
  writeSummaryFiles(cfg.out, {
    summary: { ...summary, config: cfg as unknown as Record<string, unknown>, fingerprint: configFingerprint(cfg), leftOut },
    markdown: renderSummaryMarkdown(summary) + leftOutMarkdown(leftOut),
    predictionsCsv: predictionsToCsv(predictions, labels),
    folds: results.map(foldRow),
  });
  return summary;
}

/** The summary.md section listing every clip the run did not use, with its reason. */
export function leftOutMarkdown(leftOut: readonly LeftOutClip[]): string {
  if (leftOut.length === 0) return '\n## Clips left out\n\nNone: every clip of the datasets was used.\n';
  const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = leftOut.map((c) => `| ${esc(c.dataset)} | ${esc(c.clip)} | ${c.kind} | ${esc(c.reason)} |`);
  return ['', '## Clips left out', '', `${leftOut.length} clip(s) of the datasets are not in this run (also in run.json, \`leftOut\`).`, '', '| dataset | clip | kind | reason |', '|---|---|---|---|', ...rows, ''].join('\n');
}
