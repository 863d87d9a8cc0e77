/**
 * The records of a results folder (see ./layout.ts for where each lives), as
 * zod schemas: the types are inferred from them, and every record read back
 * is checked against them, so a damaged or hand-edited file is refused with
 * its name and field instead of failing later.
 */
import { z, finite } from '../util/schema.js';
import { LOSS_TERMS } from '../model/losses.js';
import type { Summary } from '../eval/summary.js';

const lossTerm = z.enum(LOSS_TERMS);

/**
 * The settings a record was made under, flattened to dotted paths
 * (`finetune.lr`, `model.width`, ..., `backend`); see `runSettings`.
 */
export const Settings = z.record(z.union([z.string(), z.number(), z.boolean(), z.null()]));
export type Settings = z.infer<typeof Settings>;

/** One test clip of a fold, as a row result stores it. */
export const ClipPrediction = z.object({
  clipId: z.string(),
  subject: z.string(),
  /** Source dataset of the clip (`smic`, `casme2`, `samm`, ...). */
  source: z.string(),
  /** True class index. */
  label: z.number().int().nonnegative(),
  /** Predicted class index. */
  pred: z.number().int().nonnegative(),
  /** Class probabilities, one per class. */
  probs: z.array(finite),
});
export type ClipPrediction = z.infer<typeof ClipPrediction>;

/** `seed-S/folds/F/<losses>.json`: one ablation row on one fold. */
export const FoldVariantResult = z.object({
  seed: z.number().int(),
  /** 0-based fold index. */
  fold: z.number().int().nonnegative(),
  subject: z.string(),
  variant: z.string(),
  losses: z.array(lossTerm).min(1),
  /** Share of the fold's micro training subjects used (absent in older results: 1). */
  share: z.number().positive().max(1).optional(),
  /** Micro training clips of this row (pretraining and fine-tuning); absent in older results. */
  trainClips: z.number().int().nonnegative().optional(),
  predictions: z.array(ClipPrediction),
  /** Per-epoch means of each loss term during guided fine-tuning. */
  curves: z.array(z.record(finite)),
  /** Per-epoch mean L_c of this fold's MiNet pretraining. */
  pretrainCurve: z.array(finite),
  seconds: finite,
  /** The settings (backend included) the row was computed under; absent in older results. */
  settings: Settings.optional(),
  /** Set when the row was computed with `--allow-backend-change` on a folder holding pieces made on other backends. */
  backendChange: z.object({ backend: z.string(), earlier: z.array(z.string()) }).optional(),
});
export type FoldVariantResult = z.infer<typeof FoldVariantResult>;

/** `seed-S/manet-transfer.json`: MaNet's predictions on micro clips, its macro classes mapped to micro classes. */
export const TransferRecord = z.object({
  seed: z.number().int(),
  predictions: z.array(ClipPrediction),
  settings: Settings.optional(),
});
export type TransferRecord = z.infer<typeof TransferRecord>;

/** `<weights>-curve.json`: per-epoch mean L_c of a pretraining, and (MaNet) its training accuracy. */
export const CurveFile = z.object({
  epochs: z.array(finite),
  trainAccuracy: finite.optional(),
});
export type CurveFile = z.infer<typeof CurveFile>;

/** One row of `folds.csv`. */
export interface FoldRow {
  seed: number;
  /** 1-based fold number. */
  fold: number;
  subject: string;
  variant: string;
  clips: number;
  accuracy: number;
  correct: number;
  seconds: number;
}

/** A clip the run did not use, with why (a dataset problem, or left out by the label scheme). */
export const LeftOutClip = z.object({
  dataset: z.string(),
  clip: z.string(),
  /** `error`: could not be prepared (skipped with --skip-bad); `excluded`: left out by design. */
  kind: z.enum(['error', 'excluded']),
  reason: z.string(),
});
export type LeftOutClip = z.infer<typeof LeftOutClip>;

/** What a run records about where it ran (`run.json`, besides the fingerprint). */
export const RunInfo = z.object({
  backend: z.record(z.unknown()),
  /** Fold worker threads of a local run; 0 when the jobs ran on queue workers (`queue`). */
  workers: z.number().int().nonnegative(),
  /** A run on a job queue (`mimanet run --queue`): the Redis URL with its password replaced by `***`, and the queue's name. */
  queue: z.object({ url: z.string(), name: z.string() }).optional(),
  /** Every clip of the datasets that the run left out, with its reason. */
  leftOut: z.array(LeftOutClip).optional(),
});
export type RunInfo = z.infer<typeof RunInfo>;

/** `run.json`. */
export const RunRecord = RunInfo.extend({
  /** Settings fingerprint: a folder made with other settings is refused. */
  fingerprint: z.string().min(1),
  started: z.string(),
  /** The settings behind the fingerprint (absent in older folders). */
  settings: Settings.optional(),
  /** Each start of a run on this folder: when, on which backend, with how many workers. */
  history: z.array(z.object({ started: z.string(), backend: z.string(), workers: z.number().int() })).optional(),
});
export type RunRecord = z.infer<typeof RunRecord>;

/** `summary.json`: the summary with the config and fingerprint it came from (checked as far as readers rely on it). */
export const SummaryFileSchema = z
  .object({
    dataset: z.string(),
    labels: z.array(z.string()),
    variants: z.array(z.object({ name: z.string(), losses: z.array(lossTerm) }).passthrough()),
    config: z.record(z.unknown()).optional(),
    fingerprint: z.string().optional(),
  })
  .passthrough();
export type SummaryFile = Summary & { config?: Record<string, unknown>; fingerprint?: string; leftOut?: LeftOutClip[] };

/** One point of `seed-S/embeddings.json`. */
export const EmbeddingPoint = z.object({
  /** 'before': MiNet after its pretraining; 'after': MiNet after guided fine-tuning with all losses. MaNet is fixed. */
  stage: z.enum(['before', 'after']),
  net: z.enum(['MiNet', 'MaNet']),
  domain: z.enum(['micro', 'macro']),
  /** Micro class name; macro clips carry the mapped micro class or 'other'. */
  label: z.string(),
  /** Feature vector (the fused feature z). */
  z: z.array(finite).min(1),
  clip: z.string().optional(),
});
export type EmbeddingPoint = z.infer<typeof EmbeddingPoint>;

/** `seed-S/embeddings.json`. */
export const EmbeddingsFile = z
  .object({
    /** Held-out subject of the fold whose nets produced the features. */
    fold: z.string(),
    labels: z.array(z.string()),
    points: z.array(EmbeddingPoint),
  })
  .superRefine((e, ctx) => {
    const width = e.points[0]?.z.length;
    e.points.forEach((p, i) => {
      if (p.z.length !== width) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['points', i, 'z'], message: `${p.z.length} values, point 0 has ${width}` });
    });
  });
export type EmbeddingsFile = z.infer<typeof EmbeddingsFile>;
