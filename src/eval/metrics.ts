/**
 * Classification metrics for leave-one-subject-out evaluation, following the
 * MEGC 2019 composite protocol: predictions of all LOSO folds are pooled into
 * one confusion matrix before any per-class score is taken, so a class that is
 * missing from a single held-out subject is not an error.
 */

/** Scores of one set of pooled predictions. */
export interface Metrics {
  /** Number of predictions. */
  count: number;
  /** Fraction of predictions equal to the true class. */
  accuracy: number;
  /**
   * Macro F1 of the pooled predictions. Equal to `UF1`; kept as its own field
   * because the paper's single-database tables (Table 2) call it F1.
   */
  f1: number;
  /** Unweighted F1: mean of the defined per-class F1 scores (see `computeMetrics`). */
  UF1: number;
  /** Unweighted average recall: mean of the defined per-class recalls (see `computeMetrics`). */
  UAR: number;
  /** F1 per class; null where the class has neither true samples nor predictions. */
  perClassF1: (number | null)[];
  /** Recall per class; null where the class has no true samples. */
  perClassRecall: (number | null)[];
  /** Confusion matrix, rows = true class, columns = predicted class. */
  confusion: number[][];
}

function checkLabels(name: string, values: number[], numClasses: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      throw new Error(
        `${name}[${i}] = ${JSON.stringify(v)}: expected an integer class index in [0, ${numClasses - 1}]`,
      );
    }
  }
}

/**
 * Counts (true, predicted) pairs. Rows index the true class, columns the
 * predicted class.
 */
export function confusionMatrix(yTrue: number[], yPred: number[], numClasses: number): number[][] {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new Error(`confusionMatrix: numClasses must be a positive integer, got ${JSON.stringify(numClasses)}`);
  }
  if (yTrue.length !== yPred.length) {
    throw new Error(
      `confusionMatrix: yTrue has ${yTrue.length} entries but yPred has ${yPred.length}; they must pair up`,
    );
  }
  checkLabels('yTrue', yTrue, numClasses);
  checkLabels('yPred', yPred, numClasses);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

function meanDefined(values: (number | null)[]): number {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v !== null) {
      sum += v;
      n++;
    }
  }
  // n = 0 cannot happen for non-empty input: some class has a true sample.
  return n === 0 ? NaN : sum / n;
}

/**
 * Computes accuracy, UF1 and UAR (MEGC 2019) on pooled predictions.
 *
 * For each class k of the pooled confusion matrix:
 * - F1_k = 2TP / (2TP + FP + FN), recall_k = TP / (TP + FN).
 * - A class with no true samples (TP + FN = 0) has no recall: recall_k is null
 *   and the class is left out of UAR.
 * - F1_k is null, and the class left out of UF1, only when TP + FP + FN = 0,
 *   i.e. the class has neither true samples nor predictions. A class that is
 *   never true but still predicted keeps F1_k = 0, so spurious predictions of
 *   it are penalised.
 * UF1 and UAR are the unweighted means of the non-null per-class values.
 *
 * @throws on empty input, mismatched lengths or out-of-range class indices.
 */
export function computeMetrics(yTrue: number[], yPred: number[], numClasses: number): Metrics {
  const confusion = confusionMatrix(yTrue, yPred, numClasses);
  if (yTrue.length === 0) {
    throw new Error('computeMetrics: no predictions to score (yTrue and yPred are empty)');
  }
  const perClassF1: (number | null)[] = [];
  const perClassRecall: (number | null)[] = [];
  let correct = 0;
  for (let k = 0; k < numClasses; k++) {
    const tp = confusion[k][k];
    let fn = 0;
    let fp = 0;
    for (let j = 0; j < numClasses; j++) {
      if (j === k) continue;
      fn += confusion[k][j];
      fp += confusion[j][k];
    }
    correct += tp;
    perClassRecall.push(tp + fn === 0 ? null : tp / (tp + fn));
    perClassF1.push(tp + fp + fn === 0 ? null : (2 * tp) / (2 * tp + fp + fn));
  }
  const UF1 = meanDefined(perClassF1);
  return {
    count: yTrue.length,
    accuracy: correct / yTrue.length,
    f1: UF1,
    UF1,
    UAR: meanDefined(perClassRecall),
    perClassF1,
    perClassRecall,
    confusion,
  };
}

/** Mean and sample standard deviation (n - 1 denominator); std is 0 for a single value. */
export function meanStd(values: number[]): { mean: number; std: number } {
  if (values.length === 0) throw new Error('meanStd: no values');
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: 0 };
  const ss = values.reduce((a, v) => a + (v - mean) * (v - mean), 0);
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}
