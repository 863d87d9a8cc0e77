import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCasme2 } from '../../src/data/datasets/casme2.js';
import { readCkPlus, parseCkEmotion } from '../../src/data/datasets/ckplus.js';
import { readLabelledDataset, readDataset } from '../../src/data/datasets/index.js';
import { readMmi, parseMmiAus, parseMmiMetatags } from '../../src/data/datasets/mmi.js';
import { readSamm } from '../../src/data/datasets/samm.js';
import { readSmic } from '../../src/data/datasets/smic.js';
import { parseVideoFrameRef, type Problem } from '../../src/data/datasets/types.js';
import { ffmpegPath } from '../../src/data/preprocess/video.js';
import { CASME2_HEADER, SAMM_HEADER, SAMM_PREAMBLE, pattern, tmpTree, writeBmp, writeImage, writeText, writeXlsx, removeTrees } from './fixtures.js';

afterAll(removeTrees);

const W = 8;

async function frames(dir: string, name: (n: number) => string, numbers: number[]): Promise<void> {
  for (const n of numbers) await writeImage(join(dir, name(n)), pattern(W, W, n), W, W);
}
const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const find = (ps: Problem[], clip: string): Problem[] => ps.filter((p) => p.clip === clip);

describe('CASME II reader', () => {
  let root: string;
  beforeAll(async () => {
    root = tmpTree('casme2');
    const raw = join(root, 'CASME2_RAW_selected');
    await frames(join(raw, 'sub01', 'EP02_01f'), (n) => `img${n}.jpg`, range(46, 50));
    await frames(join(raw, 'sub01', 'EP03_02'), (n) => `img${n}.jpg`, range(10, 20));
    await frames(join(raw, 'sub02', 'EP01_01'), (n) => `img${n}.jpg`, [1, 2, 4, 5]); // frame 3 missing
    await frames(join(raw, 'sub02', 'EP02_02'), (n) => `img${n}.jpg`, range(1, 9));
    await frames(join(raw, 'sub02', 'EP05_03'), (n) => `img${n}.jpg`, range(1, 3));
    await frames(join(raw, 'sub03', 'EP07_01'), (n) => `img${n}.jpg`, range(100, 104));
    await frames(join(raw, 'sub03', 'EP09_09'), (n) => `img${n}.jpg`, range(1, 2)); // no annotation row
    await writeXlsx(join(root, 'CASME2-coding-20140508.xlsx'), [
      CASME2_HEADER,
      [1, 'EP02_01f', null, 46, 48, 50, null, '4+L10', 'happiness'],
      [1, 'EP03_02', null, 10, '/', 20, null, 'R12', 'disgust'],
      [2, 'EP01_01', null, 1, 5, 5, null, '4', 'repression'],
      [2, 'EP02_02', null, 9, 5, 9, null, '4', 'surprise'], // onset after apex
      [2, 'EP05_03', null, 1, 2, 3, null, '1+2', 'joy'], // unknown label
      [2, 'EP99_01', null, 1, 2, 3, null, '1', 'others'], // folder missing
      [3, 'EP07_01', null, 100, 102, 101, null, '14', 'fear'], // offset before apex (typo), fear not in 5 classes
      [],
    ]);
  });

  it('reads good rows with absolute frame numbers and AU strings', async () => {
    const { clips } = await readCasme2(root);
    const c = clips.find((x) => x.id === 'sub01_EP02_01f')!;
    expect(c).toMatchObject({ dataset: 'casme2', subject: 'sub01', label: 'happiness', onset: 46, apex: 48, offset: 50, aus: '4+L10' });
    expect(c.framePaths.map((p) => basename(p))).toEqual(['img46.jpg', 'img47.jpg', 'img48.jpg']);
  });

  it('replaces a "/" apex by the middle of onset..offset and says so', async () => {
    const { clips, problems } = await readCasme2(root);
    const c = clips.find((x) => x.id === 'sub01_EP03_02')!;
    expect(c.apex).toBe(15);
    expect(c.framePaths).toHaveLength(6);
    const notes = find(problems, 'sub01_EP03_02');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ kind: 'note', row: 3 });
    expect(notes[0]!.problem).toContain('"/"');
  });

  it('reports every bad row with dataset, clip and row', async () => {
    const { clips, problems } = await readCasme2(root);
    expect(clips.map((c) => c.id).sort()).toEqual(['sub01_EP02_01f', 'sub01_EP03_02', 'sub03_EP07_01']);
    expect(find(problems, 'sub02_EP01_01')[0]).toMatchObject({ dataset: 'casme2', kind: 'error', row: 4 });
    expect(find(problems, 'sub02_EP01_01')[0]!.problem).toMatch(/frames 3 of onset 1 \.\. apex 5 are missing/);
    expect(find(problems, 'sub02_EP02_02')[0]!.problem).toBe('onset 9 is after apex 5');
    expect(find(problems, 'sub02_EP05_03')[0]!.problem).toMatch(/unknown label "joy"/);
    expect(find(problems, 'sub02_EP99_01')[0]!.problem).toMatch(/clip folder .*EP99_01 not found/);
    expect(find(problems, 'sub03_EP07_01')[0]).toMatchObject({ kind: 'note' });
    expect(problems.some((p) => p.kind === 'excluded' && p.file?.endsWith(join('sub03', 'EP09_09')))).toBe(true);
  });

  it('leaves fear out of the 5-class task with an excluded line', async () => {
    const d = await readLabelledDataset('casme2', root);
    expect(d.scheme.labels).toEqual(['happiness', 'disgust', 'repression', 'surprise', 'others']);
    expect(d.clips.map((c) => [c.clip.id, c.label])).toEqual([['sub01_EP02_01f', 0], ['sub01_EP03_02', 1]]);
    const fear = d.problems.filter((p) => p.clip === 'sub03_EP07_01' && p.kind === 'excluded');
    expect(fear[0]!.problem).toMatch(/class "fear" is not in label scheme casme2-5/);
  });

  it('reads the cropped frames (reg_img*.jpg) and the 2019 annotation', async () => {
    const r2 = tmpTree('casme2c');
    await frames(join(r2, 'CASME2', 'Cropped', 'Cropped', 'sub04', 'EP12_01f'), (n) => `reg_img${n}.jpg`, range(5, 8));
    await writeXlsx(join(r2, 'CASME2', 'CASME2-coding-20190701.xlsx'), [CASME2_HEADER, [4, 'EP12_01f', null, 5, 8, 8, null, '12', 'Happiness']]);
    const { clips, problems } = await readCasme2(r2);
    expect(problems.filter((p) => p.kind === 'error')).toEqual([]);
    expect(clips).toHaveLength(1);
    expect(clips[0]!.framePaths.map((p) => basename(p))).toEqual(['reg_img5.jpg', 'reg_img6.jpg', 'reg_img7.jpg', 'reg_img8.jpg']);
  });

  it('fails clearly on a missing or unreadable annotation file', async () => {
    const r3 = tmpTree('casme2n');
    await frames(join(r3, 'CASME2_RAW_selected', 'sub01', 'EP01'), (n) => `img${n}.jpg`, [1]);
    await expect(readCasme2(r3)).rejects.toThrow(/casme2: no annotation file CASME2-coding-\*\.xlsx under/);
    writeText(join(r3, 'CASME2-coding-20140508.xlsx'), 'not a zip');
    await expect(readCasme2(r3)).rejects.toThrow(/CASME2-coding-20140508\.xlsx: cannot read as \.xlsx/);
    await writeXlsx(join(r3, 'CASME2-coding-20140508.xlsx'), [['Name', 'Emotion'], ['a', 'b']]);
    await expect(readCasme2(r3)).rejects.toThrow(/no header row with the columns Subject, Filename/);
  });
});

describe('SAMM reader', () => {
  it('finds the header after the preamble and reads absolute frame numbers', async () => {
    const root = tmpTree('samm');
    const f = join(root, 'SAMM');
    await frames(join(f, '006', '006_1_2'), (n) => `006_${String(n).padStart(5, '0')}.jpg`, range(5562, 5566));
    await frames(join(f, '007', '007_3_1'), (n) => `007_${String(n).padStart(5, '0')}.jpg`, range(100, 110));
    await frames(join(f, '008', '008_2_1'), (n) => `008_${String(n).padStart(5, '0')}.jpg`, range(1, 4));
    await writeXlsx(join(root, 'SAMM_Micro_FACS_Codes_v2.xlsx'), [
      ...SAMM_PREAMBLE,
      SAMM_HEADER,
      ['006', '006_1_2', 1, 5562, 5564, 5566, 5, 'Micro - 1/2', 'R14A or 4+7', 'Anger', 2, ''],
      [7, '007_3_1', 2, 100, -1, 110, 11, 'Micro - 1/2', '12', 'Happiness', 1, 'apex unclear'],
      ['008', '008_2_1', 2, 1, 4, 3, 4, 'Micro', '1', 'Other', 7, ''],
    ]);
    const { clips, problems } = await readSamm(root);
    expect(clips.map((c) => c.id)).toEqual(['006_006_1_2', '007_007_3_1', '008_008_2_1']);
    expect(clips[0]).toMatchObject({ subject: '006', label: 'Anger', onset: 5562, apex: 5564, aus: 'R14A or 4+7' });
    expect(clips[0]!.framePaths.map((p) => basename(p))).toEqual(['006_05562.jpg', '006_05563.jpg', '006_05564.jpg']);
    expect(clips[1]).toMatchObject({ subject: '007', apex: 105 });
    const rowOfHeader = SAMM_PREAMBLE.length + 1;
    expect(problems.find((p) => p.clip === '007_007_3_1')).toMatchObject({ kind: 'note', row: rowOfHeader + 2 });
    expect(problems.find((p) => p.clip === '008_008_2_1' && p.kind === 'note')!.problem).toMatch(/Offset Frame 3 is before Apex Frame 4/);
    const d = await readLabelledDataset('samm', root);
    expect(d.clips.map((c) => c.label)).toEqual([0, 2, 4]); // anger, happiness, other
  });
});

describe('SMIC-HS reader', () => {
  it('takes labels from folders, BMP frames, apex = middle frame', async () => {
    const root = tmpTree('smic');
    const hs = join(root, 'SMIC_all_raw', 'HS');
    for (const n of range(1001, 1005)) writeBmp(join(hs, 's1', 'micro', 'negative', 's1_ne_01', `image${String(n).padStart(6, '0')}.bmp`), pattern(W, W, n), W, W);
    for (const n of range(20, 23)) writeBmp(join(hs, 's12', 'micro', 'surprise', 's12_sur_02', `image${n}.bmp`), pattern(W, W, n), W, W);
    writeBmp(join(hs, 's2', 'micro', 'joy', 's2_jo_01', 'image1.bmp'), pattern(W, W, 1), W, W);
    mkdirSync(join(hs, 's2', 'micro', 'positive', 's2_po_01'), { recursive: true });
    const { clips, problems } = await readSmic(root);
    expect(clips.map((c) => [c.id, c.subject, c.label, c.onset, c.apex, c.offset, c.framePaths.length])).toEqual([
      ['s01_s01_ne_01', 's01', 'negative', 1001, 1003, 1005, 3],
      ['s12_s12_sur_02', 's12', 'surprise', 20, 21, 23, 2],
    ]);
    expect(problems.map((p) => p.problem)).toEqual(expect.arrayContaining([expect.stringMatching(/unknown label folder "joy"/), 'clip folder has no frames']));
    expect(problems.every((p) => p.dataset === 'smic' && p.kind === 'error')).toBe(true);
  });
});

describe('CK+ reader', () => {
  it('reads float emotion codes, last frame as apex, reports unlabelled sequences', async () => {
    const root = tmpTree('ck');
    const img = join(root, 'CK+', 'cohn-kanade-images');
    const emo = join(root, 'Emotion_labels', 'Emotion');
    await frames(join(img, 'S005', '001'), (n) => `S005_001_${String(n).padStart(8, '0')}.png`, range(1, 4));
    await frames(join(img, 'S005', '002'), (n) => `S005_001_${String(n).padStart(8, '0')}.png`, range(1, 3));
    await frames(join(img, 'S010', '004'), (n) => `S010_004_${String(n).padStart(8, '0')}.png`, range(1, 5));
    await frames(join(img, 'S011', '001'), (n) => `S011_001_${String(n).padStart(8, '0')}.png`, range(1, 2));
    writeText(join(emo, 'S005', '001', 'S005_001_00000004_emotion.txt'), '   3.0000000e+00\n');
    writeText(join(emo, 'S010', '004', 'S010_004_00000005_emotion.txt'), '   7.0000000e+00\n');
    writeText(join(emo, 'S011', '001', 'S011_001_00000002_emotion.txt'), 'three\n');
    const { clips, problems } = await readCkPlus(root);
    expect(clips.map((c) => [c.id, c.subject, c.label, c.onset, c.apex, c.framePaths.length])).toEqual([
      ['S005_001', 'S005', 'disgust', 1, 4, 4],
      ['S010_004', 'S010', 'surprise', 1, 5, 5],
    ]);
    expect(problems.find((p) => p.clip === 'S005_002')).toMatchObject({ kind: 'excluded', problem: 'unlabelled sequence (no *_emotion.txt)' });
    expect(problems.find((p) => p.clip === 'S011_001')).toMatchObject({ kind: 'error' });
    expect(parseCkEmotion('1.0000000e+00')).toBe(1);
    expect(parseCkEmotion('2.5')).toBeNull();
    const d = await readLabelledDataset('ckplus', root);
    expect(d.scheme.labels).toEqual(['anger', 'contempt', 'disgust', 'fear', 'happiness', 'sadness', 'surprise']);
    expect(d.clips.map((c) => c.label)).toEqual([2, 6]);
  });
});

describe('MMI reader', () => {
  it('reads video and frame sessions with XML metadata', async () => {
    const root = tmpTree('mmi');
    const s = join(root, 'Sessions');
    // Session 1: a 7-frame video made from numbered PNGs.
    const tmp = tmpTree('mmi-src');
    await frames(tmp, (n) => `f${n}.png`, range(1, 7));
    mkdirSync(join(s, '1'), { recursive: true });
    execFileSync(ffmpegPath(), ['-v', 'error', '-framerate', '25', '-i', join(tmp, 'f%d.png'), '-c:v', 'mjpeg', '-q:v', '2', join(s, '1', 'S001-001.avi')]);
    writeText(join(s, '1', 'S001-001.xml'), '<?xml version="1.0"?>\n<Metatags>\n  <Metatag Name="Gender" Value="Male" />\n  <Metatag Value="4" Name="Emotion" />\n</Metatags>\n');
    writeText(join(s, '1', 'S001-001-oao_aucs.xml'), '<ActionUnits><ActionUnit Number="6"><Marker Frame="2" Type="1"/></ActionUnit><ActionUnit Number="12"><Marker Frame="3" Type="1"/></ActionUnit></ActionUnits>');
    writeText(join(s, '1', 'session.xml'), '<session sessionId="1"/>');
    // Session 2: image frames.
    await frames(join(s, '2'), (n) => `S002-005-${n}.jpg`, range(1, 4));
    writeText(join(s, '2', 'S002-005.xml'), '<Metatags><Metatag Name="Emotion" Value="Surprise"/></Metatags>');
    // Session 3: AU coding only; session 4: an emotion code that does not exist.
    writeText(join(s, '3', 'S003-001.xml'), '<Metatags><Metatag Name="Gender" Value="Female"/></Metatags>');
    await frames(join(s, '3'), (n) => `S003-001-${n}.jpg`, [1]);
    writeText(join(s, '4', 'S004-001.xml'), '<Metatags><Metatag Name="Emotion" Value="9"/></Metatags>');

    const { clips, problems } = await readMmi(root);
    expect(clips.map((c) => [c.id, c.subject, c.label, c.onset, c.apex, c.offset, c.framePaths.length])).toEqual([
      ['S001-001', 'S001', 'happiness', 0, 3, 6, 4],
      ['S002-005', 'S002', 'surprise', 0, 1, 3, 2],
    ]);
    expect(clips[0]!.aus).toBe('6+12');
    expect(parseVideoFrameRef(clips[0]!.framePaths[3]!)).toEqual({ video: join(s, '1', 'S001-001.avi'), index: 3 });
    expect(problems.find((p) => p.clip === 'S003-001')).toMatchObject({ kind: 'excluded' });
    expect(problems.find((p) => p.clip === 'S004-001')!.problem).toMatch(/unknown Emotion value "9"/);
    expect(parseMmiMetatags('<Metatag Name="Emotion" Value="2"/>').get('emotion')).toBe('2');
    expect(parseMmiAus('<x/>')).toBe('');
  });
});

describe('MEGC 2019 composite reader', () => {
  it('reads three roots and maps labels, excluding subjects and dropped classes', async () => {
    const smic = tmpTree('megc-smic');
    for (const n of range(1, 3)) writeBmp(join(smic, 'HS', 's3', 'micro', 'positive', 's3_po_05', `image${n}.bmp`), pattern(W, W, n), W, W);
    const casme = tmpTree('megc-casme');
    await frames(join(casme, 'CASME2_RAW_selected', 'sub05', 'EP01_02'), (n) => `img${n}.jpg`, range(1, 3));
    await frames(join(casme, 'CASME2_RAW_selected', 'sub10', 'EP01_01'), (n) => `img${n}.jpg`, range(1, 3));
    await frames(join(casme, 'CASME2_RAW_selected', 'sub05', 'EP03_01'), (n) => `img${n}.jpg`, range(1, 3));
    await writeXlsx(join(casme, 'CASME2-coding-20140508.xlsx'), [
      CASME2_HEADER,
      [5, 'EP01_02', null, 1, 3, 3, null, '4', 'repression'],
      [10, 'EP01_01', null, 1, 3, 3, null, '4', 'disgust'],
      [5, 'EP03_01', null, 1, 3, 3, null, '4', 'others'],
    ]);
    const samm = tmpTree('megc-samm');
    await frames(join(samm, 'SAMM', '011', '011_2_3'), (n) => `011_${n}.jpg`, range(10, 12));
    await writeXlsx(join(samm, 'SAMM_Micro_FACS_Codes_v2.xlsx'), [...SAMM_PREAMBLE, SAMM_HEADER, [11, '011_2_3', 1, 10, 12, 12, 3, 'Micro', '4', 'Contempt', 1, '']]);
    const d = await readLabelledDataset('megc2019', { smic, casme2: casme, samm });
    expect(d.clips.map((c) => [c.clip.dataset, c.clip.id, d.scheme.labels[c.label]])).toEqual([
      ['smic', 's03_s03_po_05', 'positive'],
      ['casme2', 'sub05_EP01_02', 'negative'],
      ['samm', '011_011_2_3', 'negative'],
    ]);
    const ex = d.problems.filter((p) => p.kind === 'excluded' && p.dataset === 'megc2019').map((p) => [p.clip, p.problem]);
    expect(ex).toEqual([
      ['casme2/sub10_EP01_01', 'subject sub10 is left out by label scheme megc2019'],
      ['casme2/sub05_EP03_01', 'class "others" is not in label scheme megc2019'],
    ]);
    await expect(readDataset('megc2019', smic)).rejects.toThrow(/megc2019 needs one root per source: smic, casme2, samm/);
  });
});
