/** The records of a results folder (see ./layout.ts for where each lives). */
import type { LossTerm } from '../model/losses.js';
import type { Summary } from '../eval/summary.js';

/** One test clip of a fold, as a row result stores it. */
export interface ClipPrediction {
  clipId: string;
  subject: string;
  /** Source dataset of the clip (`smic`, `casme2`, `samm`, ...). */
  source: string;
  /** True class index. */
  label: number;
  /** Predicted class index. */
  pred: number;
  /** Class probabilities, one per class. */
  probs: number[];
}

/** `seed-S/folds/F/<losses>.json`: one ablation row on one fold. */
export interface FoldVariantResult {
  seed: number;
  /** 0-based fold index. */
  fold: number;
  subject: string;
  variant: string;
  losses: LossTerm[];
  /** Share of the fold's micro training subjects used (absent in older results: 1). */
  share?: number;
  /** Micro training clips of this row (pretraining and fine-tuning); absent in older results. */
  trainClips?: number;
  predictions: ClipPrediction[];
  /** Per-epoch means of each loss term during guided fine-tuning. */
  curves: Array<Record<string, number>>;
  /** Per-epoch mean L_c of this fold's MiNet pretraining. */
  pretrainCurve: number[];
  seconds: number;
}

/** `seed-S/manet-transfer.json`: MaNet's predictions on micro clips, its macro classes mapped to micro classes. */
export interface TransferRecord {
  seed: number;
  predictions: ClipPrediction[];
}

/** `<weights>-curve.json`: per-epoch mean L_c of a pretraining, and (MaNet) its training accuracy. */
export interface CurveFile {
  epochs: number[];
  trainAccuracy?: number;
}

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

/** What a run records about where it ran (`run.json`, besides the fingerprint). */
export interface RunInfo {
  backend: Record<string, unknown>;
  workers: number;
  /** Runs on a job queue (`mimanet run --queue`): the Redis URL with its password replaced by `***`, and the queue's name. */
  queue?: { url: string; name: string };
}

/** `run.json`. */
export interface RunRecord extends RunInfo {
  /** Settings fingerprint: a folder made with other settings is refused. */
  fingerprint: string;
  started: string;
}

/** `summary.json`: the summary with the config and fingerprint it came from. */
export type SummaryFile = Summary & { config?: Record<string, unknown>; fingerprint?: string };

/** One point of `seed-S/embeddings.json`. */
export interface EmbeddingPoint {
  /** 'before': MiNet after its pretraining; 'after': MiNet after guided fine-tuning with all losses. MaNet is fixed. */
  stage: 'before' | 'after';
  net: 'MiNet' | 'MaNet';
  domain: 'micro' | 'macro';
  /** Micro class name; macro clips carry the mapped micro class or 'other'. */
  label: string;
  /** Feature vector (the fused feature z). */
  z: number[];
  clip?: string;
}

/** `seed-S/embeddings.json`. */
export interface EmbeddingsFile {
  /** Held-out subject of the fold whose nets produced the features. */
  fold: string;
  labels: string[];
  points: EmbeddingPoint[];
}
