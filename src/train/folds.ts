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

/**
 * The training clips of a fold restricted to a share of its training subjects
 * (sample-efficiency experiments): a seeded random order of the subjects, the
 * first ceil(share * count) kept, then further subjects in that order until
 * every class and at least `minClips` clips are present. Share 1 returns
 * `fold.train` unchanged. The held-out subject is never among them.
 */
export function shareOfTraining(
  fold: Fold,
  clips: { subject: string; label: number }[],
  classes: number,
  share: number,
  rng: { shuffle<T>(items: readonly T[]): T[] },
  minClips = 0,
): number[] {
  if (!(share > 0 && share <= 1)) throw new Error(`fold ${fold.index + 1}: training share ${share} is not in (0, 1]`);
  if (share === 1) return fold.train;
  const bySubject = new Map<string, number[]>();
  for (const i of fold.train) {
    const s = clips[i].subject;
    if (!bySubject.has(s)) bySubject.set(s, []);
    bySubject.get(s)!.push(i);
  }
  const order = rng.shuffle([...bySubject.keys()].sort(naturalCompare));
  const want = Math.max(1, Math.ceil(share * order.length));
  const kept: string[] = [];
  const seen = new Set<number>();
  let count = 0;
  for (const s of order) {
    if (kept.length >= want && seen.size === classes && count >= minClips) break;
    kept.push(s);
    for (const i of bySubject.get(s)!) seen.add(clips[i].label);
    count += bySubject.get(s)!.length;
  }
  const keep = new Set(kept);
  return fold.train.filter((i) => keep.has(clips[i].subject));
}
