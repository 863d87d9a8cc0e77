/**
 * The summary files of a results folder, made from the row results on disk:
 * predictions.csv, folds.csv, summary.json and summary.md. Called by the
 * command once training is done (and again by a rerun that resumes).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MimanetConfig } from '../config.js';
import {
  collectResults,
  collectTransfer,
  configFingerprint,
  foldRow,
  PREDICTIONS_CSV,
  readRunRecord,
  readSummaryFile,
  rowName,
  SUMMARY_JSON,
  SUMMARY_MD,
  writeSummaryFiles,
  type FoldRef,
  type LeftOutClip,
} from '../results/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { parsePredictionsCsv, predictionsToCsv, renderSummaryMarkdown, summarize, TRANSFER_ROW, type Prediction, type Summary } from './summary.js';

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

/**
 * Recomputes summary.json and summary.md of a results folder from its
 * predictions.csv, e.g. after a change of the statistics; nothing is trained.
 * The rows (names, losses, shares) come from the folder's summary.json, and so
 * do what predictions.csv does not hold: the transfer diagnostic, the config,
 * its fingerprint and the clips left out.
 */
export function resummarizeFolder(dir: string): Summary {
  const old = readSummaryFile(dir);
  const csv = join(dir, PREDICTIONS_CSV);
  if (!existsSync(csv)) throw new Error(`${dir}: no ${PREDICTIONS_CSV}, so its summary cannot be recomputed (the run kept no per-clip predictions)`);
  const predictions = parsePredictionsCsv(readFileSync(csv, 'utf8'), old.labels, csv);
  const fresh = summarize({
    dataset: old.dataset,
    labels: old.labels,
    variants: old.variants.map((v) => ({ name: v.name, losses: [...v.losses], share: v.share ?? 1 })),
    predictions,
  });
  const summary: Summary = { ...fresh, ...(old.transfer ? { transfer: old.transfer } : {}) };
  const kept = { ...(old.config ? { config: old.config } : {}), ...(old.fingerprint ? { fingerprint: old.fingerprint } : {}), ...(old.leftOut ? { leftOut: old.leftOut } : {}) };
  writeJsonAtomic(join(dir, SUMMARY_JSON), { ...summary, ...kept });
  writeFileAtomic(join(dir, SUMMARY_MD), renderSummaryMarkdown(summary) + (old.leftOut ? leftOutMarkdown(old.leftOut) : ''));
  return summary;
}
