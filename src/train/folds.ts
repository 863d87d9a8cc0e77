/**
 * Leave-one-subject-out (LOSO) folds: each fold holds out every clip of one
 * subject for testing and trains on all other subjects' clips.
 */

/** One LOSO fold. `train` and `test` are indices into the clip array the folds were built from. */
export interface Fold {
  /** 0-based position of the fold in subject order (messages print it 1-based). */
  index: number;
  /** The held-out subject. */
  subject: string;
  /** Clip indices of all other subjects, ascending. */
  train: number[];
  /** Clip indices of the held-out subject, ascending. */
  test: number[];
}

/**
 * Natural order: runs of digits compare by value, so `s2` sorts before `s10`
 * and `sub02` next to `sub2`. Locale-independent, so fold numbering is the
 * same on every machine.
 */
export function naturalCompare(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  const n = Math.min(ra.length, rb.length);
  for (let i = 0; i < n; i++) {
    const x = ra[i];
    const y = rb[i];
    const xd = /^\d/.test(x);
    const yd = /^\d/.test(y);
    if (xd && yd) {
      const xv = BigInt(x);
      const yv = BigInt(y);
      if (xv !== yv) return xv < yv ? -1 : 1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  if (ra.length !== rb.length) return ra.length - rb.length;
  // Equal up to leading zeros ("s02" vs "s2"): fall back to plain order so the sort is total.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds one fold per subject, subjects in natural order. */
export function losoFolds(clips: { subject: string }[]): Fold[] {
  if (clips.length === 0) throw new Error('losoFolds: no clips to split into folds');
  const bySubject = new Map<string, number[]>();
  clips.forEach((c, i) => {
    if (typeof c.subject !== 'string' || c.subject === '') {
      throw new Error(`losoFolds: clip ${i} has no subject (subject = ${JSON.stringify(c.subject)})`);
    }
    let list = bySubject.get(c.subject);
    if (!list) bySubject.set(c.subject, (list = []));
    list.push(i);
  });
  const subjects = [...bySubject.keys()].sort(naturalCompare);
  return subjects.map((subject, index) => {
    const test = bySubject.get(subject)!;
    const train: number[] = [];
    for (let i = 0; i < clips.length; i++) if (clips[i].subject !== subject) train.push(i);
    return { index, subject, train, test };
  });
}

/**
 * Checks that the fold's training clips contain every class, since a class
 * never seen in training cannot be learned and its test clips would be scored
 * against an untrained output.
 *
 * @throws naming the fold's held-out subject and the missing class names.
 */
export function checkFoldClasses(fold: Fold, clips: { label: number }[], labels: string[]): void {
  const where = `fold ${fold.index + 1} (held-out subject ${fold.subject})`;
  if (clips.length === 0) throw new Error(`${where}: the clip list is empty`);
  if (labels.length === 0) throw new Error(`${where}: the class list is empty`);
  if (fold.train.length === 0) {
    throw new Error(`${where}: no training clips (every clip belongs to the held-out subject)`);
  }
  const seen = new Array<boolean>(labels.length).fill(false);
  for (const i of fold.train) {
    if (!Number.isInteger(i) || i < 0 || i >= clips.length) {
      throw new Error(`${where}: training index ${JSON.stringify(i)} is outside the ${clips.length} clips`);
    }
    const label = clips[i].label;
    if (!Number.isInteger(label) || label < 0 || label >= labels.length) {
      throw new Error(
        `${where}: clip ${i} has label ${JSON.stringify(label)}, expected an index into ${labels.length} classes`,
      );
    }
    seen[label] = true;
  }
  const missing = labels.filter((_, k) => !seen[k]);
  if (missing.length > 0) {
    const names = missing.map((m) => `'${m}'`).join(', ');
    throw new Error(
      `${where}: training clips have no ${names}; ` +
        `every class needs training clips from subjects other than the held-out one`,
    );
  }
}
