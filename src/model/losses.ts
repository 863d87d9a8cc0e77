/**
 * The five losses of the paper (Eq. 1-8), each a plain function of tensors so a
 * user can call it on their own features. All return scalar tensors; callers
 * own them (wrap in tf.tidy or dispose).
 */
import * as tf from '@tensorflow/tfjs';

/** Names of the loss terms, as used by `--losses`. */
export const LOSS_TERMS = ['c', 's', 'sam', 't', 'con'] as const;
export type LossTerm = (typeof LOSS_TERMS)[number];

/** Eq. 8 weights: lambda_1 = lambda_4 = 0.1 and lambda_2 = lambda_3 = 0.2 (paper 3.1). */
export interface LossWeights {
  /** lambda_1, weight of L_s. Default 0.1. */
  s: number;
  /** lambda_2, weight of L_sam. Default 0.2. */
  sam: number;
  /** lambda_3, weight of L_t. Default 0.2. */
  t: number;
  /** lambda_4, weight of L_con. Default 0.1. */
  con: number;
}

export const DEFAULT_LOSS_WEIGHTS: LossWeights = { s: 0.1, sam: 0.2, t: 0.2, con: 0.1 };

/** Eq. 1 (L_c): cross entropy of C_e(z), averaged over the batch. `labels` are class indices. */
export function expressionLoss(logits: tf.Tensor2D, labels: number[] | tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const y = Array.isArray(labels) ? tf.tensor1d(labels, 'int32') : labels.toInt();
    const oneHot = tf.oneHot(y, logits.shape[1]);
    return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
  });
}

/**
 * Eq. 2 (L_s) and Eq. 4 (L_t): binary cross entropy of a domain discriminator's
 * logits against domain labels d (1 = macro, 0 = micro), averaged over the batch.
 */
export function domainLoss(logits: tf.Tensor, domains: number[]): tf.Scalar {
  return tf.tidy(() => {
    const d = tf.tensor2d(domains, [domains.length, 1]);
    return tf.losses.sigmoidCrossEntropy(d, logits.reshape([domains.length, 1])) as tf.Scalar;
  });
}

/**
 * Eq. 3 (L_sam): cross entropy of the relation classifier C_s predicting the
 * sampling-interval index k (s = 2^k). `logitsPerInterval[k]` holds C_s(v(2^k))
 * for every sample (micro and macro); the loss is averaged over intervals.
 */
export function samplingLoss(logitsPerInterval: tf.Tensor2D[]): tf.Scalar {
  return tf.tidy(() => {
    const sc = logitsPerInterval.length;
    const terms = logitsPerInterval.map((logits, k) => expressionLoss(logits, new Array<number>(logits.shape[0]).fill(k)));
    return tf.div(tf.addN(terms), sc) as tf.Scalar;
  });
}

export type ContrastiveReduction = 'sum' | 'mean';
/**
 * Which samples D^j (Eq. 7) sums over: 'eq7' keeps the anchor itself (u = j),
 * as the equation is written; 'supcon' leaves it out, as in Khosla et al.'s
 * SupCon. With u = j kept, e^(1/tau) enters every denominator, so at small tau
 * the negatives carry little weight.
 */
export type ContrastiveDenominator = 'eq7' | 'supcon';

/**
 * Eq. 5-7 (L_con): supervised contrastive loss. Each micro sample j is an
 * anchor; its positives are the other micro samples and all macro samples with
 * its label; the denominator D^j (Eq. 7) sums over all n micro samples, u = j
 * included as the equation is written (or left out: `denominator` 'supcon'),
 * and all n macro samples. Similarity is
 * cosine, divided by the temperature tau.
 *
 * `microLabels` and `macroLabels` must be in the same (micro) label space: map
 * macro classes first, with -1 for classes that have no micro counterpart
 * (they are negatives only).
 *
 * reduction 'sum' is Eq. 5 as written (summed over anchors and positives, so it
 * grows with n); 'mean' averages each anchor's terms over its positives, then
 * over the anchors that have any positive, which keeps the scale independent of
 * the batch size.
 */
export function contrastiveLoss(
  zMicro: tf.Tensor2D,
  microLabels: number[],
  zMacro: tf.Tensor2D,
  macroLabels: number[],
  tau: number,
  reduction: ContrastiveReduction = 'mean',
  denominator: ContrastiveDenominator = 'eq7',
): tf.Scalar {
  const n = zMicro.shape[0];
  const m = zMacro.shape[0];
  if (microLabels.length !== n) throw new Error(`contrastiveLoss: ${microLabels.length} micro labels for ${n} micro features`);
  if (macroLabels.length !== m) throw new Error(`contrastiveLoss: ${macroLabels.length} macro labels for ${m} macro features`);
  if (!(tau > 0)) throw new Error(`contrastiveLoss: tau must be > 0, got ${tau}`);
  // Positive masks are built from the label arrays in JS: they are data, not parameters.
  const pos = new Float32Array(n * (n + m));
  const counts = new Array<number>(n).fill(0);
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < n; k++) {
      if (k !== j && microLabels[k] === microLabels[j]) {
        pos[j * (n + m) + k] = 1;
        counts[j]++;
      }
    }
    for (let k = 0; k < m; k++) {
      if (macroLabels[k] === microLabels[j]) {
        pos[j * (n + m) + n + k] = 1;
        counts[j]++;
      }
    }
  }
  return tf.tidy(() => {
    const zi = tf.div(zMicro, tf.maximum(tf.norm(zMicro, 'euclidean', 1, true), 1e-12));
    const za = tf.div(zMacro, tf.maximum(tf.norm(zMacro, 'euclidean', 1, true), 1e-12));
    const all = tf.concat([zi, za], 0);
    const sim = tf.div(tf.matMul(zi, all, false, true), tau); // [n, n + m]
    // Eq. 7 keeps u = j; 'supcon' masks the anchor's own similarity out of D^j
    const self = denominator === 'supcon' ? tf.mul(tf.oneHot(tf.range(0, n, 1, 'int32'), n + m), -1e9) : null;
    const logD = tf.logSumExp(self ? tf.add(sim, self) : sim, 1, true);
    const logRatio = tf.sub(sim, logD);
    const mask = tf.tensor2d(pos, [n, n + m]);
    const perAnchor = tf.sum(tf.mul(logRatio, mask), 1); // Eq. 6
    if (reduction === 'sum') return tf.neg(tf.sum(perAnchor)) as tf.Scalar; // Eq. 5
    const weights = counts.map((c) => (c > 0 ? 1 / c : 0));
    const anchors = counts.filter((c) => c > 0).length;
    if (anchors === 0) return tf.scalar(0);
    return tf.div(tf.neg(tf.sum(tf.mul(perAnchor, tf.tensor1d(weights)))), anchors) as tf.Scalar;
  });
}

/** Parses `c,s,sam,t,con` into loss terms, with an error that quotes the bad name. */
export function parseLosses(spec: string | string[]): LossTerm[] {
  const names = (Array.isArray(spec) ? spec : spec.split(/[,+\s]+/)).map((s) => s.trim()).filter((s) => s.length > 0);
  const out: LossTerm[] = [];
  for (const raw of names) {
    const name = raw.replace(/^l_?/i, '').toLowerCase();
    if (!(LOSS_TERMS as readonly string[]).includes(name)) {
      throw new Error(`unknown loss "${raw}": expected some of ${LOSS_TERMS.join(', ')} (e.g. c,s,sam,t,con)`);
    }
    if (!out.includes(name as LossTerm)) out.push(name as LossTerm);
  }
  if (!out.includes('c')) throw new Error(`losses "${names.join(',')}" must include "c": L_c (Eq. 1) is the recognition loss every variant keeps`);
  return LOSS_TERMS.filter((t) => out.includes(t));
}

/** Display name of a loss set in the paper's notation, e.g. "L_c + L_s + L_sam + L_t". */
export function variantName(losses: readonly LossTerm[]): string {
  return losses.map((t) => `L_${t}`).join(' + ');
}

/** The six rows of Tables 2 and 3. */
export const PAPER_VARIANTS: LossTerm[][] = [
  ['c'],
  ['c', 's'],
  ['c', 'sam', 't'],
  ['c', 's', 'sam', 't'],
  ['c', 'con'],
  ['c', 's', 'sam', 't', 'con'],
];
