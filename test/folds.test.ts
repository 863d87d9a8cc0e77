import { describe, expect, it } from 'vitest';
import { checkFoldClasses, losoFolds, naturalCompare, shareOfTraining } from '../src/train/folds.js';
import { Rng } from '../src/util/rng.js';

const clips = [
  { subject: 'synth-smic/s10', label: 0 },
  { subject: 'synth-smic/s2', label: 1 },
  { subject: 'synth-smic/s1', label: 2 },
  { subject: 'synth-smic/s2', label: 0 },
  { subject: 'synth-smic/s10', label: 2 },
  { subject: 'synth-smic/s1', label: 1 },
];

describe('losoFolds', () => {
  it('makes one fold per subject in natural order', () => {
    const folds = losoFolds(clips);
    expect(folds.map((f) => f.subject)).toEqual(['synth-smic/s1', 'synth-smic/s2', 'synth-smic/s10']);
    expect(folds.map((f) => f.index)).toEqual([0, 1, 2]);
    expect(folds[0].test).toEqual([2, 5]);
    expect(folds[0].train).toEqual([0, 1, 3, 4]);
  });

  it('keeps train and test subject-disjoint and tests every clip exactly once', () => {
    const folds = losoFolds(clips);
    const tested = new Array(clips.length).fill(0);
    for (const f of folds) {
      const trainSubjects = new Set(f.train.map((i) => clips[i].subject));
      expect(trainSubjects.has(f.subject)).toBe(false);
      for (const i of f.test) {
        expect(clips[i].subject).toBe(f.subject);
        tested[i]++;
      }
      expect(f.train.length + f.test.length).toBe(clips.length);
    }
    expect(tested).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('rejects no clips and clips without subject', () => {
    expect(() => losoFolds([])).toThrow(/no clips/);
    expect(() => losoFolds([{ subject: 'a' }, { subject: '' }])).toThrow(/clip 1 has no subject/);
  });
});

describe('naturalCompare', () => {
  it('orders digit runs by value', () => {
    const s = ['sub10', 'sub2', 'sub1', 's10', 's9', 'casme2/sub02', 'casme2/sub1'];
    expect([...s].sort(naturalCompare)).toEqual(['casme2/sub1', 'casme2/sub02', 's9', 's10', 'sub1', 'sub2', 'sub10']);
  });
});

describe('checkFoldClasses', () => {
  const labels = ['negative', 'positive', 'surprise'];
  it('accepts folds whose training part has every class', () => {
    for (const f of losoFolds(clips)) expect(() => checkFoldClasses(f, clips, labels)).not.toThrow();
  });

  it('names the held-out subject and the missing classes', () => {
    const c = [
      { subject: 'synth-smic/s01', label: 0 },
      { subject: 'synth-smic/s02', label: 2 },
      { subject: 'synth-smic/s02', label: 1 },
      { subject: 'synth-smic/s03', label: 0 },
    ];
    const folds = losoFolds(c);
    expect(() => checkFoldClasses(folds[0], c, labels)).not.toThrow();
    expect(() => checkFoldClasses(folds[1], c, labels)).toThrow(
      "fold 2 (held-out subject synth-smic/s02): training clips have no 'positive', 'surprise'",
    );
  });

  it('rejects an empty clip list and an empty training part', () => {
    const fold = { index: 0, subject: 'x/s1', train: [], test: [0] };
    expect(() => checkFoldClasses(fold, [], ['a'])).toThrow(/fold 1 \(held-out subject x\/s1\): the clip list is empty/);
    expect(() => checkFoldClasses(fold, [{ label: 0 }], ['a'])).toThrow(/no training clips/);
  });

  it('rejects labels outside the class list', () => {
    const fold = { index: 4, subject: 'x/s1', train: [0], test: [1] };
    expect(() => checkFoldClasses(fold, [{ label: 3 }, { label: 0 }], ['a', 'b'])).toThrow(/fold 5 .*clip 0 has label 3/);
  });
});

describe('shareOfTraining', () => {
  // 5 subjects, 2 clips each; subject s4 alone has class 2
  const clips = Array.from({ length: 10 }, (_, i) => ({ subject: `s${Math.floor(i / 2)}`, label: i >= 8 ? 2 : i % 2 }));
  const fold = losoFolds(clips)[0]; // s0 held out; s1..s4 train

  it('keeps every training clip at share 1', () => {
    expect(shareOfTraining(fold, clips, 3, 1, new Rng(1))).toBe(fold.train);
  });

  it('keeps whole subjects, never the held-out one, and tops up until every class is present', () => {
    const sizes: number[] = [];
    for (let seed = 0; seed < 20; seed++) {
      const kept = shareOfTraining(fold, clips, 3, 0.5, new Rng(seed));
      const subjects = new Set(kept.map((i) => clips[i].subject));
      expect(subjects.has('s0')).toBe(false);
      for (const s of subjects) expect(kept.filter((i) => clips[i].subject === s)).toHaveLength(2);
      expect(new Set(kept.map((i) => clips[i].label))).toEqual(new Set([0, 1, 2]));
      // ceil(0.5 * 4) = 2 subjects, more only until s4 (the one subject with class 2) is in
      expect(subjects.size).toBeGreaterThanOrEqual(2);
      expect(subjects.has('s4')).toBe(true);
      sizes.push(subjects.size);
      expect(shareOfTraining(fold, clips, 3, 0.5, new Rng(seed))).toEqual(kept);
    }
    // the share is applied: some draws keep just 2 of the 4 training subjects
    expect(Math.min(...sizes)).toBe(2);
    expect(() => shareOfTraining(fold, clips, 3, 0, new Rng(1))).toThrow(/share 0 is not in \(0, 1\]/);
  });

  it('adds subjects until there are at least minClips clips', () => {
    for (let seed = 0; seed < 10; seed++) expect(shareOfTraining(fold, clips, 3, 0.25, new Rng(seed), 5).length).toBeGreaterThanOrEqual(6);
  });
});
