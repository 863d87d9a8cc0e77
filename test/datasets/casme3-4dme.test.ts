/**
 * The CAS(ME)^3 part A and 4DME readers on miniature trees with the quirks
 * public loaders document, the label schemes over their classes, and
 * composites of micro datasets.
 */
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCasme3 } from '../../src/data/datasets/casme3.js';
import { readFourDme, split4dmeAus } from '../../src/data/datasets/fourdme.js';
import { applyLabelScheme, getLabelScheme, LABEL_SCHEMES, macroToMicroMap, NATIVE_LABELS } from '../../src/data/datasets/labels.js';
import { readLabelledDataset } from '../../src/data/datasets/index.js';
import { parseDatasetName, sourcesOf, type Problem, type RawClip, type SourceName } from '../../src/data/datasets/types.js';
import { type Casme3Row, type FourDmeRow, CASME2_HEADER, SAMM_HEADER, SAMM_PREAMBLE, casme3Tree, fourDmeTree, patternFrames, removeTrees, tmpTree, writeBmp, pattern, writeXlsx } from './fixtures.js';

afterAll(removeTrees);

const SIDE = 16;
const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const of = (ps: Problem[], clip: string): Problem[] => ps.filter((p) => p.clip === clip);

/** Good clips, a frame drop, onset = apex, a Filename shared by two subjects and repeated within one, and the bad rows. */
const CASME3_ROWS: Casme3Row[] = [
  { subject: 'spNO.1', filename: 'a', onset: 10, apex: 12, offset: 14, emotion: 'happy' },
  { subject: 'spNO.1', filename: 'a', onset: 30, apex: 33, offset: 35, emotion: 'disgust', drop: [31] },
  { subject: 'spNO.1', filename: 'b', onset: 5, apex: 5, offset: 8, emotion: 'surprise' },
  { subject: 'spNO.2', filename: 'a', onset: 7, apex: 9, offset: 10, emotion: 'others' },
  { subject: 'spNO.2', filename: 'c', onset: 20, apex: 18, offset: 25, emotion: 'fear' },
  { subject: 'spNO.2', filename: 'd', onset: 1, apex: 3, offset: 4, emotion: 'joy' },
  { subject: 'spNO.2', filename: 'e', onset: 1, apex: 3, offset: 4, emotion: 'sad', frames: 'missing' },
  { subject: 'spNO.1', filename: 'a', onset: 10, apex: 12, offset: 14, emotion: 'happy' },
  { subject: 'spNO.2', filename: 'a', onset: 40, apex: 42, offset: 44, emotion: 'anger', drop: [40] },
];

describe('CAS(ME)^3 part A reader', () => {
  const roots: Record<'full' | 'clips', string> = { full: '', clips: '' };
  beforeAll(async () => {
    roots.full = await casme3Tree('c3-full', CASME3_ROWS, 'full', SIDE);
    roots.clips = await casme3Tree('c3-clips', CASME3_ROWS, 'clips', SIDE);
  });

  /** The same rows give the same clips and problems in either distribution. */
  const readsLayout = (layout: 'full' | 'clips') => async (): Promise<void> => {
    const { clips, problems } = await readCasme3(roots[layout]);
    expect(clips.map((c) => [c.id, c.subject, c.label, c.onset, c.apex, c.framePaths.length])).toEqual([
      ['spNO.1_a_10', 'spNO.1', 'happy', 10, 12, 3],
      ['spNO.1_a_30', 'spNO.1', 'disgust', 30, 33, 4],
      ['spNO.1_b_5', 'spNO.1', 'surprise', 5, 5, 1],
      ['spNO.2_a_7', 'spNO.2', 'others', 7, 9, 3],
    ]);
    const colourDir = layout === 'full' ? join(roots.full, 'part_A', 'spNO.1', 'a', 'color') : join(roots.clips, 'Part_A_ME_clip', 'frame', 'spNO.1_a_30');
    // the dropped frame 31 repeats frame 30, so the four paths still stand for frames 30..33
    expect(clips[1]!.framePaths).toEqual([30, 30, 32, 33].map((n) => join(colourDir, `${n}.jpg`)));
    expect(clips.flatMap((c) => c.framePaths).every((p) => p.endsWith('.jpg') && !p.includes('depth'))).toBe(true);
    expect(clips[0]!.aus).toBe('4,L10');

    expect(of(problems, 'spNO.1_a_30')).toMatchObject([{ kind: 'note', row: 3 }]);
    expect(of(problems, 'spNO.1_a_30')[0]!.problem).toMatch(/^frames 31 of onset 30 \.\. apex 33 are missing in .* \(dropped in recording\); each is replaced by the frame before it$/);
    expect(of(problems, 'spNO.1_b_5')).toEqual([{ dataset: 'casme3', kind: 'note', clip: 'spNO.1_b_5', row: 4, problem: 'onset equals apex (frame 5): a one-frame clip, kept' }]);
    expect(of(problems, 'spNO.2_c_20')).toMatchObject([{ kind: 'error', row: 6, problem: 'onset 20 is after apex 18' }]);
    expect(of(problems, 'spNO.2_d_1')[0]!.problem).toBe('unknown label "joy"; casme3 has happy, disgust, fear, anger, sad, surprise, others');
    const folder = layout === 'full' ? join('spNO.2', 'e', 'color') : join('frame', 'spNO.2_e_1');
    expect(of(problems, 'spNO.2_e_1')).toMatchObject([{ kind: 'error', row: 8 }]);
    expect(of(problems, 'spNO.2_e_1')[0]!.problem).toBe(`clip folder ${join(layout === 'full' ? join(roots.full, 'part_A') : join(roots.clips, 'Part_A_ME_clip'), folder)} not found`);
    expect(of(problems, 'spNO.1_a_10')).toMatchObject([{ kind: 'error', row: 9, problem: 'clip spNO.1_a_10 appears in more than one row; later rows are ignored' }]);
    expect(of(problems, 'spNO.2_a_40')[0]!.problem).toMatch(/^the onset frame 40 is missing in /);
    // the cut clips of rows rejected before their folder is looked at are also listed as folders no row describes
    const unused = layout === 'full' ? [] : ['spNO.2_c_20', 'spNO.2_d_1'].map((c) => join(roots.clips, 'Part_A_ME_clip', 'frame', c));
    expect(problems.filter((p) => p.kind === 'excluded').map((p) => p.file)).toEqual(unused);
  };
  it('reads the full distribution: ids carry the onset, colour frames only, every quirk reported by clip id', readsLayout('full'));
  it('reads the clips distribution: ids carry the onset, colour frames only, every quirk reported by clip id', readsLayout('clips'));

  it('tells the layouts apart, prefers the full recordings when both are there, and reads the clips on request', async () => {
    const both = await casme3Tree('c3-both', CASME3_ROWS.slice(0, 1), 'full', SIDE);
    await casme3Tree('', CASME3_ROWS.slice(0, 1), 'clips', SIDE, both);
    const auto = await readCasme3(both);
    expect(auto.clips[0]!.framePaths[0]).toBe(join(both, 'part_A', 'spNO.1', 'a', 'color', '10.jpg'));
    expect(auto.problems[0]).toMatchObject({ kind: 'note', file: join(both, 'Part_A_ME_clip', 'frame') });
    const clips = await readCasme3(both, { frames: 'clips' });
    expect(clips.clips[0]!.framePaths[0]).toBe(join(both, 'Part_A_ME_clip', 'frame', 'spNO.1_a_10', '10.jpg'));
    await expect(readCasme3(roots.clips, { frames: 'full' })).rejects.toThrow(/^casme3: no frame folders part_A\/spNO\.N\/<Filename>\/color\/ under /);
  });

  it('reports a cut clip folder no row describes', async () => {
    const root = await casme3Tree('c3-extra', CASME3_ROWS.slice(0, 1), 'clips', SIDE);
    await patternFrames(join(root, 'Part_A_ME_clip', 'frame', 'spNO.9_z_3'), (n) => `${n}.jpg`, [3, 4]);
    const { problems } = await readCasme3(root);
    expect(problems).toEqual([
      { dataset: 'casme3', kind: 'excluded', file: join(root, 'Part_A_ME_clip', 'frame', 'spNO.9_z_3'), problem: 'clip folder has no annotation row (or its row has an error)' },
    ]);
  });

  it('fails clearly on a missing label file or an old .xls one', async () => {
    const root = tmpTree('c3-none');
    await patternFrames(join(root, 'part_A', 'spNO.1', 'a', 'color'), (n) => `${n}.jpg`, [1]);
    await expect(readCasme3(root)).rejects.toThrow(/^casme3: no annotation file cas\(me\)3_part_A_ME_label_JpgIndex_v2\.xlsx under /);
    await writeXlsx(join(root, 'cas(me)3_part_A_ME_label_JpgIndex_v1.xls'), [['x']]);
    await expect(readCasme3(root)).rejects.toThrow(/JpgIndex_v1\.xls: the old binary \.xls format cannot be read; save it as \.xlsx/);
  });

  it('label schemes: 7 native classes (default), 4 and the MEGC 3, with their macro maps', async () => {
    const seven = await readLabelledDataset('casme3', roots.clips);
    expect(seven.scheme.name).toBe('casme3-7');
    expect(seven.scheme.labels).toEqual(['happiness', 'disgust', 'fear', 'anger', 'sadness', 'surprise', 'others']);
    expect(seven.clips.map((c) => [c.clip.id, seven.scheme.labels[c.label]])).toEqual([
      ['spNO.1_a_10', 'happiness'],
      ['spNO.1_a_30', 'disgust'],
      ['spNO.1_b_5', 'surprise'],
      ['spNO.2_a_7', 'others'],
    ]);
    const three = await readLabelledDataset('casme3', roots.clips, 'casme3-3');
    expect(three.clips.map((c) => three.scheme.labels[c.label])).toEqual(['positive', 'negative', 'surprise']);
    expect(three.problems.filter((p) => p.kind === 'excluded' && p.clip).map((p) => [p.clip, p.problem])).toEqual([['spNO.2_a_7', 'class "others" is not in label scheme casme3-3']]);
    const four = await readLabelledDataset('casme3', roots.clips, 'casme3-4');
    expect(four.clips.map((c) => four.scheme.labels[c.label])).toEqual(['positive', 'negative', 'surprise', 'others']);

    const ck = NATIVE_LABELS.ckplus; // anger, contempt, disgust, fear, happiness, sadness, surprise
    expect(macroToMicroMap(seven.scheme.labels, ck, 'casme3-7')).toEqual([3, -1, 1, 2, 0, 4, 5]);
    expect(macroToMicroMap(four.scheme.labels, ck, 'casme3-4')).toEqual([0, 0, 0, 0, 1, 0, 2]);
    expect(macroToMicroMap(three.scheme.labels, NATIVE_LABELS.mmi, 'casme3-3')).toEqual([0, 0, 0, 1, 0, 2]);
  });
});

/** 4DME rows: one per class the schemes treat differently, a two-class row, and the bad rows. */
const FOURDME_ROWS: FourDmeRow[] = [
  { subject: 'S01', fold: 'S01_1st_001_01_1', onset: 100, apex: 103, offset: 106, emotion: 'Positive', aus: 'AU12+AU6(k)' },
  { subject: 'S01', fold: 'S01_1st_002_01_1', onset: 10, apex: 12, offset: 14, emotion: 'Negative+Surprise' },
  { subject: 'S02', fold: 'S02_2nd_003_01_1', onset: 20, apex: 21, offset: 23, emotion: 'Repression' },
  { subject: 'S02', fold: 'S02_2nd_004_01_1', onset: 1, apex: 2, offset: 3, emotion: 'Others' },
  { subject: 'S02', fold: 'S02_2nd_005_01_1', onset: 1, apex: 2, offset: 3, emotion: 'Happy' },
  { subject: 'S02', fold: 'S02_2nd_006_01_1', onset: 1, apex: 2, offset: 3, emotion: 'Surprise', frames: 'missing' },
  { subject: 'S02', fold: 'S02_2nd_003_01_1', onset: 20, apex: 21, offset: 23, emotion: 'Repression' },
];

describe('4DME reader', () => {
  let root = '';
  beforeAll(async () => {
    root = await fourDmeTree('4dme', FOURDME_ROWS, SIDE);
  });

  it('reads gray_micro/<sub_ID>/<fold_name>/, keeps two-class rows and the AUs as written, reports bad rows by clip id', async () => {
    const { clips, problems } = await readFourDme(root);
    expect(clips.map((c) => [c.id, c.subject, c.label, c.onset, c.apex, c.offset, c.framePaths.length])).toEqual([
      ['S01_S01_1st_001_01_1', 'S01', 'Positive', 100, 103, 106, 4],
      ['S01_S01_1st_002_01_1', 'S01', 'Negative+Surprise', 10, 12, 14, 3],
      ['S02_S02_2nd_003_01_1', 'S02', 'Repression', 20, 21, 23, 2],
      ['S02_S02_2nd_004_01_1', 'S02', 'Others', 1, 2, 3, 2],
    ]);
    expect(clips[0]!.aus).toBe('AU12+AU6(k)');
    expect(clips[0]!.framePaths.map((p) => basename(p))).toEqual(['frame100.jpg', 'frame101.jpg', 'frame102.jpg', 'frame103.jpg']);
    expect(of(problems, 'S02_S02_2nd_005_01_1')[0]!.problem).toBe('unknown label "Happy"; 4dme has positive, negative, surprise, repression, others');
    expect(of(problems, 'S02_S02_2nd_006_01_1')[0]!.problem).toMatch(/^clip folder .*gray_micro\/S02\/S02_2nd_006_01_1 not found$/);
    expect(of(problems, 'S02_S02_2nd_003_01_1')).toMatchObject([{ kind: 'error', row: 8, problem: 'clip S02_S02_2nd_003_01_1 appears in more than one row; later rows are ignored' }]);
    expect(problems.filter((p) => p.kind === 'note')).toEqual([]);
  });

  it('splits AUs at + and marks (k) as static', () => {
    expect(split4dmeAus('AU4(k)+L7 + 12 (K)+R14')).toEqual([
      { au: 'AU4', static: true },
      { au: 'L7', static: false },
      { au: '12', static: true },
      { au: 'R14', static: false },
    ]);
  });

  it('label schemes: the 5 classes (default) and the MEGC 3 (repression is negative); two-class rows are left out', async () => {
    const five = await readLabelledDataset('4dme', root);
    expect(five.scheme.name).toBe('4dme-5');
    expect(five.clips.map((c) => five.scheme.labels[c.label])).toEqual(['positive', 'repression', 'others']);
    expect(five.problems.filter((p) => p.kind === 'excluded' && p.clip).map((p) => p.problem)).toEqual(['class "Negative+Surprise" is not in label scheme 4dme-5']);
    const three = await readLabelledDataset('4dme', root, '4dme-3');
    expect(three.clips.map((c) => [c.clip.id, three.scheme.labels[c.label]])).toEqual([
      ['S01_S01_1st_001_01_1', 'positive'],
      ['S02_S02_2nd_003_01_1', 'negative'],
    ]);
    expect(macroToMicroMap(five.scheme.labels, NATIVE_LABELS.ckplus, '4dme-5')).toEqual([1, 1, 1, 1, 0, 1, 2]);
  });
});

describe('the three-class maps of CAS(ME)^3 and 4DME', () => {
  /** Scheme class of each native label, or `-` when the scheme leaves it out. */
  const classes = (dataset: SourceName, scheme: string, labels: string[]): string[] => {
    const clips: RawClip[] = labels.map((label, i) => ({ dataset, id: `c${i}`, subject: 'x', label, onset: 1, apex: 2, framePaths: [] }));
    const s = LABEL_SCHEMES[scheme]!;
    const { kept } = applyLabelScheme(s, clips);
    return clips.map((c) => {
      const k = kept.find((x) => x.clip === c);
      return k ? s.labels[k.label]! : '-';
    });
  };

  it('map every native class as the table in docs/datasets.md says, spellings of other copies included', () => {
    const casme3 = ['happy', 'disgust', 'fear', 'anger', 'sad', 'surprise', 'others', 'Happiness', 'Sadness', 'Other'];
    expect(classes('casme3', 'casme3-3', casme3)).toEqual(['positive', 'negative', 'negative', 'negative', 'negative', 'surprise', '-', 'positive', 'negative', '-']);
    expect(classes('casme3', 'megc-3', casme3)).toEqual(classes('casme3', 'casme3-3', casme3));
    expect(classes('casme3', 'casme3-4', casme3)).toEqual(['positive', 'negative', 'negative', 'negative', 'negative', 'surprise', 'others', 'positive', 'negative', 'others']);
    const fourDme = ['Positive', 'Negative', 'Surprise', 'Repression', 'Others', 'Negative + Surprise', 'Positive+Happy'];
    expect(classes('4dme', '4dme-3', fourDme)).toEqual(['positive', 'negative', 'surprise', 'negative', '-', '-', '-']);
    expect(classes('4dme', 'megc-3', fourDme)).toEqual(classes('4dme', '4dme-3', fourDme));
    expect(classes('4dme', '4dme-5', fourDme)).toEqual(['positive', 'negative', 'surprise', 'repression', 'others', '-', '-']);
  });
});

describe('composites of micro datasets', () => {
  it('a list names its datasets in order, megc2019 standing for its three; macro datasets and repeats are refused', () => {
    expect(parseDatasetName('smic,casme2,samm,casme3')).toBe('smic+casme2+samm+casme3');
    expect(parseDatasetName('megc2019, casme3')).toBe('smic+casme2+samm+casme3');
    expect(parseDatasetName('casme3,')).toBe('casme3');
    expect(sourcesOf('megc2019')).toEqual(['smic', 'casme2', 'samm']);
    expect(() => parseDatasetName('casme3,ckplus')).toThrow('dataset list "casme3,ckplus": ckplus is a macro dataset; a list combines micro datasets (casme2, samm, smic, casme3, 4dme, megc2019)');
    expect(() => parseDatasetName('casme2,megc2019')).toThrow('dataset list "casme2,megc2019" names casme2 twice');
    expect(() => parseDatasetName('casme2,casme9')).toThrow(/unknown dataset "casme9"/);
    expect(() => getLabelScheme('smic+casme3', 'casme3-3')).toThrow('label scheme "casme3-3" is for casme3, not smic+casme3; choose one of megc-3');
  });

  it('the MEGC 2019 sources plus CAS(ME)^3 in the three MEGC classes, problems named by source', async () => {
    const W = 8;
    const smic = tmpTree('cmp-smic');
    for (const n of range(1, 3)) writeBmp(join(smic, 'HS', 's3', 'micro', 'surprise', 's3_sur_01', `image${n}.bmp`), pattern(W, W, n), W, W);
    const casme2 = tmpTree('cmp-casme2');
    await patternFrames(join(casme2, 'CASME2_RAW_selected', 'sub05', 'EP01_02'), (n) => `img${n}.jpg`, range(1, 3));
    await writeXlsx(join(casme2, 'CASME2-coding-20140508.xlsx'), [CASME2_HEADER, [5, 'EP01_02', null, 1, 3, 3, null, '4', 'repression']]);
    const samm = tmpTree('cmp-samm');
    await patternFrames(join(samm, 'SAMM', '011', '011_2_3'), (n) => `011_${n}.jpg`, range(10, 12));
    await writeXlsx(join(samm, 'SAMM_Micro_FACS_Codes_v2.xlsx'), [...SAMM_PREAMBLE, SAMM_HEADER, [11, '011_2_3', 1, 10, 12, 12, 3, 'Micro', '4', 'Happiness', 1, '']]);
    const casme3 = await casme3Tree('cmp-casme3', CASME3_ROWS.slice(0, 4), 'clips', SIDE);

    const d = await readLabelledDataset(parseDatasetName('smic,casme2,samm,casme3'), { smic, casme2, samm, casme3 });
    expect(d.scheme.name).toBe('megc-3');
    expect(d.clips.map((c) => [c.clip.dataset, c.clip.subject, d.scheme.labels[c.label]])).toEqual([
      ['smic', 's03', 'surprise'],
      ['casme2', 'sub05', 'negative'],
      ['samm', '011', 'positive'],
      ['casme3', 'spNO.1', 'positive'],
      ['casme3', 'spNO.1', 'negative'],
      ['casme3', 'spNO.1', 'surprise'],
    ]);
    expect(d.problems.filter((p) => p.kind === 'excluded' && p.clip)).toEqual([
      { dataset: 'smic+casme2+samm+casme3', kind: 'excluded', clip: 'casme3/spNO.2_a_7', problem: 'class "others" is not in label scheme megc-3' },
    ]);
    expect(d.problems.filter((p) => p.kind === 'note').map((p) => `${p.dataset}:${p.clip}`)).toEqual(['casme3:spNO.1_a_30', 'casme3:spNO.1_b_5']);
    await expect(readLabelledDataset('smic+casme3', { smic })).rejects.toThrow('smic+casme3 needs the roots of smic, casme3; missing: casme3');
  });
});
