/**
 * The MEGC 2022-2024 data from the command line: CAS(ME)^3 part A in both its
 * distributions and 4DME through `data inspect` and `data prepare`, `run
 * --micro casme3 --macro ckplus` under LOSO, and a composite that adds
 * CAS(ME)^3 to the MEGC 2019 sources (given as a config list), whose LOSO
 * subjects stay apart per dataset.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as cli } from '../helpers.js';
import { loadClipSet } from '../../src/data/cache.js';
import { cacheDirFor, prepareDataset } from '../../src/data/prepare.js';
import type { FaceDetector } from '../../src/data/preprocess/face.js';
import { parseDatasetName } from '../../src/data/datasets/types.js';
import { losoFolds } from '../../src/train/folds.js';
import { type Casme3Row, E2E_GEOMETRY, E2E_TINY_CONFIG, casme3Tree, casme2Tree, ckplusTree, fourDmeTree, removeTrees, sammTree, smicTree, tmpTree } from './fixtures.js';

afterAll(removeTrees);

const GEOMETRY = E2E_GEOMETRY;
const prepareArgs = ['--frames', '4', '--size', '32', '--channels', '1', '--quiet', '--detector', 'tiny'];
// two CAS(ME)^3 subjects of three clips leave three training clips per fold
const tinyConfig = { ...E2E_TINY_CONFIG, finetune: { epochs: 1, n: 3 } };

/**
 * Two subjects with the three MEGC classes each (one clip with a dropped
 * frame, one with onset = apex, two sharing a Filename), an `others` clip the
 * three-class scheme leaves out, and a row whose frames are missing.
 */
const ROWS: Casme3Row[] = [
  { subject: 'spNO.1', filename: 'a', onset: 10, apex: 13, offset: 14, emotion: 'happy' },
  { subject: 'spNO.1', filename: 'a', onset: 30, apex: 33, offset: 34, emotion: 'disgust', drop: [31] },
  { subject: 'spNO.1', filename: 'b', onset: 5, apex: 5, offset: 7, emotion: 'surprise' },
  { subject: 'spNO.2', filename: 'a', onset: 1, apex: 4, offset: 5, emotion: 'happy' },
  { subject: 'spNO.2', filename: 'c', onset: 1, apex: 4, offset: 5, emotion: 'anger' },
  { subject: 'spNO.2', filename: 'd', onset: 1, apex: 4, offset: 5, emotion: 'surprise' },
  { subject: 'spNO.2', filename: 'e', onset: 1, apex: 2, offset: 3, emotion: 'others' },
  { subject: 'spNO.2', filename: 'f', onset: 1, apex: 2, offset: 3, emotion: 'sad', frames: 'missing' },
];

/** Finds "a face" anywhere, eyes level at 40% of the height: preparation without face-api for trees of any frames. */
const anywhereFace: FaceDetector = {
  async detect(img) {
    const points = Array.from({ length: 68 }, () => ({ x: img.width / 2, y: img.height / 2 }));
    for (let i = 36; i < 42; i++) points[i] = { x: img.width * 0.35, y: img.height * 0.4 };
    for (let i = 42; i < 48; i++) points[i] = { x: img.width * 0.65, y: img.height * 0.4 };
    return { score: 1, box: { x: 0, y: 0, width: img.width, height: img.height }, points };
  },
};

let clipsTree = '';
let fullTree = '';
let fourdme = '';
let ckplus = '';
let cache = '';
let configPath = '';
const casme3Cache = (): string => cacheDirFor(cache, { dataset: 'casme3', scheme: 'casme3-3', ...GEOMETRY });

beforeAll(async () => {
  clipsTree = await casme3Tree('e2e3-clips', ROWS, 'clips');
  fullTree = await casme3Tree('e2e3-full', ROWS, 'full');
  fourdme = await fourDmeTree('e2e3-4dme', [
    { subject: 'S01', fold: 'S01_1st_001_01_1', onset: 100, apex: 103, offset: 104, emotion: 'Positive' },
    { subject: 'S02', fold: 'S02_1st_001_01_1', onset: 10, apex: 13, offset: 14, emotion: 'Negative+Surprise' },
    { subject: 'S02', fold: 'S02_1st_002_01_1', onset: 1, apex: 3, offset: 4, emotion: 'Surprise', frames: 'missing' },
  ]);
  ckplus = await ckplusTree('e2e3-ck', [
    { subject: 5, seq: 1, frames: 4, emotion: 5 },
    { subject: 10, seq: 2, frames: 4, emotion: 7 },
    { subject: 11, seq: 1, frames: 4, emotion: 3 },
  ]);
  const work = tmpTree('e2e3-work');
  cache = join(work, 'cache');
  configPath = join(work, 'tiny.json');
  writeFileSync(configPath, JSON.stringify(tinyConfig));
});

describe('CAS(ME)^3 and 4DME from the command line', () => {
  it('data inspect reads both CAS(ME)^3 distributions alike and 4DME, naming every quirk by clip id', async () => {
    const reports = [];
    for (const root of [clipsTree, fullTree]) {
      const r = await cli(['data', 'inspect', '--dataset', 'casme3', '--root', root, '--scheme', 'casme3-3', '--json']);
      expect(r.code).toBe(0);
      reports.push(JSON.parse(r.out));
    }
    const [clips, full] = reports;
    expect(clips.perClass).toEqual({ negative: 2, positive: 2, surprise: 2 });
    expect(clips.perSubject).toEqual({ 'spNO.1': 3, 'spNO.2': 3 });
    // error: the missing folder; excluded: others; notes: the dropped frame and onset = apex
    expect(clips.counts).toEqual({ error: 1, excluded: 1, note: 2 });
    for (const k of ['perClass', 'perSubject', 'counts'] as const) expect(full[k]).toEqual(clips[k]);

    const text = (await cli(['data', 'inspect', '--dataset', 'casme3', '--root', clipsTree, '--scheme', 'casme3-3'])).out;
    expect(text).toMatch(/^casme3: 6 clips from 2 subjects \(label scheme casme3-3\)\n/);
    expect(text).toMatch(/\[note\] casme3 \(clip spNO\.1_a_30, row 3\): frames 31 of onset 30 \.\. apex 33 are missing in .*spNO\.1_a_30 \(dropped in recording\); each is replaced by the frame before it/);
    expect(text).toContain('[note] casme3 (clip spNO.1_b_5, row 4): onset equals apex (frame 5): a one-frame clip, kept');
    expect(text).toMatch(/\[error\] casme3 \(clip spNO\.2_f_1, row 9, .*cas\(me\)3_part_A_ME_label_JpgIndex_v2\.xlsx\): clip folder .*frame\/spNO\.2_f_1 not found/);
    expect(text).toContain('[excluded] casme3 (clip spNO.2_e_1): class "others" is not in label scheme casme3-3');

    const d4 = JSON.parse((await cli(['data', 'inspect', '--dataset', '4dme', '--root', fourdme, '--json'])).out);
    expect([d4.scheme, d4.clips, d4.perClass.positive, d4.counts]).toEqual(['4dme-5', 1, 1, { error: 1, excluded: 1, note: 0 }]);
  });

  it('data prepare stops at the first error, and with --skip-bad makes the same clips from both distributions', async () => {
    const stop = await cli(['data', 'prepare', '--dataset', 'casme3', '--root', clipsTree, '--scheme', 'casme3-3', '--cache', cache, ...prepareArgs]);
    expect(stop.code).toBe(1);
    expect(stop.err.trim()).toMatch(/^mimanet: error: \[error\] casme3 \(clip spNO\.2_f_1, row 9, .*\): clip folder .* not found \(pass --skip-bad to leave it out\)$/);

    const fromClips = await cli(['data', 'prepare', '--dataset', 'casme3', '--root', clipsTree, '--scheme', 'casme3-3', '--cache', cache, '--skip-bad', ...prepareArgs]);
    expect(fromClips.code).toBe(0);
    expect(fromClips.out).toMatch(/6 clips of 4x32x32x1 \(6 written, 0 reused, 1 skipped\)/);
    const fullOut = join(cache, '..', 'casme3-full');
    const fromFull = await cli(['data', 'prepare', '--dataset', 'casme3', '--root', fullTree, '--scheme', 'casme3-3', '--out', fullOut, '--skip-bad', ...prepareArgs]);
    expect(fromFull.out).toMatch(/6 clips of 4x32x32x1 \(6 written, 0 reused, 1 skipped\)/);
    const a = loadClipSet(casme3Cache());
    const b = loadClipSet(fullOut);
    expect(a.clips.map((c) => c.id)).toEqual(['casme3/spNO.1_a_10', 'casme3/spNO.1_a_30', 'casme3/spNO.1_b_5', 'casme3/spNO.2_a_1', 'casme3/spNO.2_c_1', 'casme3/spNO.2_d_1']);
    expect(b.clips.map((c) => [c.id, c.subject, c.label])).toEqual(a.clips.map((c) => [c.id, c.subject, c.label]));
    // the same colour frames in either layout give the same pixels
    for (let i = 0; i < a.clips.length; i++) expect(Buffer.from(b.clips[i]!.frames).equals(Buffer.from(a.clips[i]!.frames))).toBe(true);

    const d4 = await cli(['data', 'prepare', '--dataset', '4dme', '--root', fourdme, '--out', join(cache, '..', '4dme'), '--skip-bad', ...prepareArgs]);
    expect(d4.code).toBe(0);
    expect(d4.out).toMatch(/1 clips of 4x32x32x1 \(1 written, 0 reused, 1 skipped\)[^;]*; labels positive, negative, surprise, repression, others/);
  });

  it('run --micro casme3 --macro ckplus trains and scores under LOSO on the CAS(ME)^3 subjects', async () => {
    const out = join(cache, '..', 'run-casme3');
    const r = await cli(['run', '--config', configPath, '--out', out, '--micro', 'casme3', '--macro', 'ckplus', '--scheme', 'casme3-3', '--root', `casme3=${clipsTree}`, '--root', `ckplus=${ckplus}`, '--cache', cache, '--skip-bad', '--workers', '1']);
    expect(r.err).not.toMatch(/mimanet: error/);
    expect(r.code).toBe(0);
    expect(r.err).not.toMatch(/casme3: preparing/); // prepared above
    expect(r.err).toMatch(/casme3: 6 micro clips, 2 subjects \(LOSO folds\); ckplus: 3 macro clips/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.dataset).toBe('casme3');
    expect(summary.labels).toEqual(['negative', 'positive', 'surprise']);
    const folds = readFileSync(join(out, 'folds.csv'), 'utf8').trim().split('\n');
    const subjectCol = folds[0]!.split(',').indexOf('subject');
    expect(new Set(folds.slice(1).map((l) => l.split(',')[subjectCol]!.replace(/"/g, '')))).toEqual(new Set(['casme3/spNO.1', 'casme3/spNO.2']));
    expect(readFileSync(join(out, 'predictions.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 6 * 2);
  });
});

describe('a composite of the MEGC 2019 sources and CAS(ME)^3', () => {
  it('keeps the subjects of each dataset apart in LOSO, even under the same name', async () => {
    // 4DME subject "s01" and SMIC subject s1 (read as s01) are different people
    const smic = await smicTree('e2e3-cmp-smic', [{ subject: 1, label: 'negative', index: 1, frames: 3 }], 32);
    const d4 = await fourDmeTree('e2e3-cmp-4dme', [{ subject: 's01', fold: 's01_1', onset: 1, apex: 2, offset: 3, emotion: 'Negative' }], 32);
    const dataset = parseDatasetName('smic,4dme');
    const cacheDir = cacheDirFor(cache, { dataset, ...GEOMETRY });
    await prepareDataset({ dataset, roots: { smic, '4dme': d4 }, cacheDir, ...GEOMETRY, detector: anywhereFace });
    const set = loadClipSet(cacheDir);
    expect(set.clips.map((c) => [c.id, c.subject])).toEqual([
      ['4dme/s01_s01_1', '4dme/s01'],
      ['smic/s01_s01_ne_01', 'smic/s01'],
    ]);
    expect(losoFolds(set.clips).map((f) => f.subject)).toEqual(['4dme/s01', 'smic/s01']);
  });

  it('run with data.micro [smic, casme2, samm, casme3] scores each source, one LOSO fold per dataset and subject', async () => {
    const side = 32;
    const roots = {
      smic: await smicTree('e2e3-c-smic', (['negative', 'positive', 'surprise'] as const).map((label, i) => ({ subject: 1, label, index: i + 1, frames: 3 })), side),
      casme2: await casme2Tree('e2e3-c-casme2', [
        { subject: 1, folder: 'EP01_01', onset: 1, apex: 2, offset: 3, emotion: 'disgust' },
        { subject: 1, folder: 'EP02_01', onset: 1, apex: 2, offset: 3, emotion: 'happiness' },
        { subject: 1, folder: 'EP03_01', onset: 1, apex: 2, offset: 3, emotion: 'surprise' },
      ], side),
      samm: await sammTree('e2e3-c-samm', [
        { subject: 6, clip: '006_1_1', onset: 1, apex: 2, offset: 3, emotion: 'Anger' },
        { subject: 6, clip: '006_1_2', onset: 1, apex: 2, offset: 3, emotion: 'Happiness' },
        { subject: 6, clip: '006_1_3', onset: 1, apex: 2, offset: 3, emotion: 'Surprise' },
      ], side),
      casme3: await casme3Tree('e2e3-c-casme3', ROWS.slice(0, 3), 'clips', side),
    };
    const dataset = parseDatasetName('smic,casme2,samm,casme3');
    expect(dataset).toBe('smic+casme2+samm+casme3');
    const cacheDir = cacheDirFor(cache, { dataset, ...GEOMETRY });
    expect(cacheDir).toMatch(/smic\+casme2\+samm\+casme3-megc-3-t4-s32-c1$/);
    await prepareDataset({ dataset, roots, cacheDir, ...GEOMETRY, detector: anywhereFace });

    const config = join(cache, '..', 'composite.json');
    const data = { kind: 'prepared', micro: ['smic', 'casme2', 'samm', 'casme3'], macro: 'ckplus', roots: { ...roots, ckplus }, cacheDir: cache, skipBad: true };
    writeFileSync(config, JSON.stringify({ ...tinyConfig, data }));
    const out = join(cache, '..', 'run-composite');
    const r = await cli(['run', '--config', config, '--out', out, '--workers', '1']);
    expect(r.err).not.toMatch(/mimanet: error/);
    expect(r.code).toBe(0);
    expect(r.err).not.toMatch(/preparing/);
    expect(r.err).toMatch(/smic\+casme2\+samm\+casme3: 12 micro clips, 4 subjects \(LOSO folds\)/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.labels).toEqual(['negative', 'positive', 'surprise']);
    for (const v of summary.variants) {
      expect(Object.keys(v.perSource).sort()).toEqual(['casme2', 'casme3', 'samm', 'smic']);
      expect(Object.values(v.perSource).map((s) => (s as { count: number }).count)).toEqual([3, 3, 3, 3]);
    }
    const folds = readFileSync(join(out, 'folds.csv'), 'utf8').trim().split('\n');
    const subjectCol = folds[0]!.split(',').indexOf('subject');
    expect([...new Set(folds.slice(1).map((l) => l.split(',')[subjectCol]!.replace(/"/g, '')))].sort()).toEqual(['casme2/sub01', 'casme3/spNO.1', 'samm/006', 'smic/s01']);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).data.micro).toBe('smic,casme2,samm,casme3');
    expect(readdirSync(join(cacheDir, 'clips'))).toHaveLength(12);
  });
});
