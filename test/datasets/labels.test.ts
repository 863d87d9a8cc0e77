import { describe, expect, it } from 'vitest';
import { LABEL_SCHEMES, applyLabelScheme, getLabelScheme, macroToMicroMap } from '../../src/data/datasets/labels.js';
import type { RawClip, SourceName } from '../../src/data/datasets/types.js';

function row(dataset: SourceName, subject: string, label: string, k: number): RawClip {
  return { dataset, id: `${subject}_clip${k}`, subject, label, onset: 0, apex: 1, framePaths: [] };
}

/** Deals `labels` round-robin over `subjects` as annotation rows. */
function deal(dataset: SourceName, subjects: string[], labels: string[], start = 0): RawClip[] {
  return labels.map((l, i) => row(dataset, subjects[i % subjects.length]!, l, start + i));
}
const rep = (label: string, n: number): string[] => Array<string>(n).fill(label);
const pad = (p: string, n: number, w: number): string => `${p}${String(n).padStart(w, '0')}`;
const seq = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('MEGC 2019 composite rules on annotation rows', () => {
  // Kept subjects as docs/datasets.md lists them; the excluded ones get rows too, which the rules must drop.
  const casmeKept = seq(1, 26).filter((n) => n !== 10 && n !== 18).map((n) => pad('sub', n, 2));
  const smicKept = seq(1, 20).filter((n) => ![7, 10, 16, 17].includes(n)).map((n) => pad('s', n, 2));
  const sammKept = seq(6, 37).filter((n) => ![8, 25, 27, 29].includes(n)).map((n) => pad('', n, 3));
  const rows: RawClip[] = [
    // CASME II: disgust + repression = 88 negative, 32 happiness, 25 surprise on kept subjects.
    ...deal('casme2', casmeKept, [...rep('disgust', 61), ...rep('repression', 27), ...rep('happiness', 32), ...rep('surprise', 25)]),
    // Dropped classes, on every subject.
    ...deal('casme2', [...casmeKept, 'sub10', 'sub18'], [...rep('others', 99), ...rep('fear', 2), ...rep('sadness', 7)], 1000),
    // Excluded subjects with mapped classes.
    ...deal('casme2', ['sub10', 'sub18'], ['disgust', 'happiness', 'surprise', 'repression'], 2000),
    // SMIC-HS: 70 / 51 / 43 on 16 subjects, plus rows of subjects outside the composite.
    ...deal('smic', smicKept, [...rep('negative', 70), ...rep('positive', 51), ...rep('surprise', 43)]),
    ...deal('smic', ['s07', 's17'], ['negative', 'surprise'], 3000),
    // SAMM: 92 negative from five classes (written as SAMM writes them), 26 happiness, 15 surprise.
    ...deal('samm', sammKept, [...rep('Anger', 57), ...rep('Contempt', 12), ...rep('Disgust', 9), ...rep('Fear', 8), ...rep('Sadness', 6), ...rep('Happiness', 26), ...rep('Surprise', 15)]),
    ...deal('samm', [...sammKept, '008', '025', '027', '029'], rep('Other', 26), 4000),
    ...deal('samm', ['025'], ['Anger'], 5000),
  ];

  it('comes to 442 clips, 68 subjects and the Table 1 counts', () => {
    const scheme = getLabelScheme('megc2019');
    const { kept, problems } = applyLabelScheme(scheme, rows);
    expect(problems.every((p) => p.kind === 'excluded')).toBe(true);
    expect(kept).toHaveLength(442);
    const count = (src?: SourceName): number[] => {
      const c = [0, 0, 0];
      for (const k of kept) if (!src || k.clip.dataset === src) c[k.label]!++;
      return c;
    };
    expect(scheme.labels).toEqual(['negative', 'positive', 'surprise']);
    expect(count('smic')).toEqual([70, 51, 43]);
    expect(count('casme2')).toEqual([88, 32, 25]);
    expect(count('samm')).toEqual([92, 26, 15]);
    expect(count()).toEqual([250, 109, 83]);
    const subjects = new Set(kept.map((k) => `${k.clip.dataset}/${k.clip.subject}`));
    expect(subjects.size).toBe(68);
    const per = (src: string): number => [...subjects].filter((s) => s.startsWith(`${src}/`)).length;
    expect([per('smic'), per('casme2'), per('samm')]).toEqual([16, 24, 28]);
    expect(problems).toHaveLength(rows.length - 442);
  });
});

describe('label schemes', () => {
  it('has the task class lists in order', () => {
    expect(getLabelScheme('casme2').labels).toEqual(['happiness', 'disgust', 'repression', 'surprise', 'others']);
    expect(getLabelScheme('samm').labels).toEqual(['anger', 'contempt', 'happiness', 'surprise', 'other']);
    expect(getLabelScheme('smic').labels).toEqual(['negative', 'positive', 'surprise']);
    expect(getLabelScheme('ckplus').labels).toEqual(['anger', 'contempt', 'disgust', 'fear', 'happiness', 'sadness', 'surprise']);
    expect(getLabelScheme('mmi').labels).toEqual(['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise']);
    expect(getLabelScheme('casme2', 'casme2-7').labels).toHaveLength(7);
  });

  it('refuses unknown or mismatched schemes, naming the choices', () => {
    expect(() => getLabelScheme('casme2', 'casme2-4')).toThrow(/unknown label scheme "casme2-4" for casme2; choose one of casme2-5, casme2-7/);
    expect(() => getLabelScheme('samm', 'casme2-5')).toThrow(/is for casme2, not samm/);
  });

  it('reports an unknown native label as an error', () => {
    const { kept, problems } = applyLabelScheme(LABEL_SCHEMES['smic-3']!, [row('smic', 's01', 'joy', 1), row('smic', 's01', 'Negative', 2)]);
    expect(kept.map((k) => k.label)).toEqual([0]);
    expect(problems).toEqual([{ dataset: 'smic', kind: 'error', clip: 's01_clip1', problem: 'unknown label "joy"; smic has negative, positive, surprise' }]);
  });
});

describe('macroToMicroMap', () => {
  const ck = getLabelScheme('ckplus').labels;
  const mmi = getLabelScheme('mmi').labels;

  it('maps CK+ onto the composite classes', () => {
    // anger, contempt, disgust, fear -> negative; happiness -> positive; sadness -> negative; surprise -> surprise
    expect(macroToMicroMap(['negative', 'positive', 'surprise'], ck, 'megc2019')).toEqual([0, 0, 0, 0, 1, 0, 2]);
    expect(macroToMicroMap(['negative', 'positive', 'surprise'], mmi, 'smic-3')).toEqual([0, 0, 0, 1, 0, 2]);
  });

  it('maps CASME II 5 classes: repression and others have no macro counterpart', () => {
    const micro = ['happiness', 'disgust', 'repression', 'surprise', 'others'];
    expect(macroToMicroMap(micro, ck, 'casme2-5')).toEqual([-1, -1, 1, -1, 0, -1, 3]);
    expect(macroToMicroMap(micro, ck, 'casme2')).toEqual([-1, -1, 1, -1, 0, -1, 3]);
  });

  it('maps SAMM 5 classes and follows the order of the micro labels given', () => {
    expect(macroToMicroMap(['anger', 'contempt', 'happiness', 'surprise', 'other'], mmi, 'samm-5')).toEqual([0, -1, -1, 2, -1, 3]);
    expect(macroToMicroMap(['other', 'surprise', 'happiness', 'contempt', 'anger'], ck, 'samm-5')).toEqual([4, 3, -1, -1, 2, -1, 1]);
  });

  it('folds adjective labels, sends unknown macro labels to -1, refuses unknown micro labels', () => {
    expect(macroToMicroMap(['negative', 'positive', 'surprise'], ['Happy', 'neutral', 'Sad', 'Surprised'], 'megc2019')).toEqual([1, -1, 0, 2]);
    expect(() => macroToMicroMap(['negative', 'joy'], ck, 'megc2019')).toThrow(/micro label "joy" is not a class of scheme megc2019/);
    expect(() => macroToMicroMap(['a'], ['a'], 'nope')).toThrow(/no micro <- macro map for scheme "nope"/);
    expect(macroToMicroMap(['a', 'b'], ['b', 'c', 'a'], 'identity')).toEqual([1, -1, 0]);
  });
});
