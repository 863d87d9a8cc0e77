/**
 * The real-dataset path as a user walks it, in process: `data inspect`,
 * `data prepare`, then `run` on the MEGC 2019 composite (SMIC-HS, CASME II,
 * SAMM) with CK+ as the macro data, and on CASME II alone. The trees are tiny
 * but laid out like the real datasets, with face frames, and hold the usual
 * faults (a row whose folder is missing, a missing apex, classes and subjects
 * the composite leaves out, an unlabelled CK+ sequence).
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli as cli } from '../helpers.js';
import { cacheDirFor } from '../../src/data/prepare.js';
import { type Casme2Row, E2E_GEOMETRY, E2E_TINY_CONFIG, casme2Tree, ckplusTree, removeTrees, sammTree, smicTree, tmpTree } from './fixtures.js';

afterAll(removeTrees);

const GEOMETRY = E2E_GEOMETRY;
const tinyConfig = E2E_TINY_CONFIG;

/** CASME II for the single-dataset run: two subjects with each of the five classes (one with a "/" apex), a fear clip, a row whose folder is missing. */
const CASME2_ROWS: Casme2Row[] = [1, 2].flatMap((subject) => [
  { subject, folder: 'EP01_01', onset: 10, apex: 13, offset: 14, emotion: 'happiness' },
  { subject, folder: 'EP02_01f', onset: 20, apex: subject === 2 ? '/' : 23, offset: 26, emotion: 'disgust' },
  { subject, folder: 'EP03_02', onset: 5, apex: 8, offset: 9, emotion: 'repression' },
  { subject, folder: 'EP04_01', onset: 1, apex: 4, offset: 5, emotion: 'surprise' },
  { subject, folder: 'EP05_03', onset: 1, apex: 4, offset: 5, emotion: 'others' },
  ...(subject === 1 ? [{ subject, folder: 'EP06_01', onset: 1, apex: 2, offset: 2, emotion: 'fear' }] : []),
  ...(subject === 2 ? [{ subject, folder: 'EP07_01', onset: 1, apex: 3, offset: 4, emotion: 'happiness', frames: 'missing' as const }] : []),
]);

/**
 * CASME II for the composite, a subset of the rows above (fewer face
 * detections): happiness, disgust with a "/" apex, surprise, plus the rows the
 * composite leaves out (others, fear) and the row whose folder is missing.
 */
const COMPOSITE_CASME2_ROWS = CASME2_ROWS.filter(
  (r) => (r.subject === 1 && ['EP01_01', 'EP05_03', 'EP06_01'].includes(r.folder)) || (r.subject === 2 && ['EP02_01f', 'EP04_01', 'EP07_01'].includes(r.folder)),
);

let casme2 = '';
let casme2Composite = '';
let smic = '';
let samm = '';
let ckplus = '';
let cache = '';
let configPath = '';
let megcCache = '';
let ckCache = '';
const composite = (): string[] => ['--root', `smic=${smic}`, '--root', `casme2=${casme2Composite}`, '--root', `samm=${samm}`];
const compositeFlags = (): string[] => ['--smic-root', smic, '--casme2-root', casme2Composite, '--samm-root', samm];

beforeAll(async () => {
  casme2 = await casme2Tree('e2e-casme2', CASME2_ROWS);
  casme2Composite = await casme2Tree('e2e-casme2-cde', COMPOSITE_CASME2_ROWS);
  smic = await smicTree('e2e-smic', [
    { subject: 1, label: 'negative', index: 1, frames: 7 },
    { subject: 2, label: 'positive', index: 1, frames: 7 },
    { subject: 2, label: 'surprise', index: 2, frames: 7 },
    { subject: 7, label: 'negative', index: 1, frames: 3 }, // s07 is not one of the composite's subjects
  ]);
  samm = await sammTree('e2e-samm', [
    { subject: 6, clip: '006_1_2', onset: 5562, apex: 5565, offset: 5566, emotion: 'Anger' },
    { subject: 6, clip: '006_2_1', onset: 100, apex: 101, offset: 101, emotion: 'Other' },
    { subject: 6, clip: '006_9_9', onset: 1, apex: 3, offset: 4, emotion: 'Contempt', frames: 'missing' },
    { subject: 7, clip: '007_3_1', onset: 200, apex: 203, offset: 204, emotion: 'Happiness' },
    { subject: 7, clip: '007_5_2', onset: 300, apex: 303, offset: 304, emotion: 'Surprise' },
  ]);
  ckplus = await ckplusTree('e2e-ckplus', [
    { subject: 5, seq: 1, frames: 4, emotion: 5 },
    { subject: 10, seq: 2, frames: 4, emotion: 7 },
    { subject: 11, seq: 1, frames: 4, emotion: 3 },
    { subject: 11, seq: 2, frames: 2 }, // unlabelled
  ]);
  const work = tmpTree('e2e-work');
  cache = join(work, 'cache');
  configPath = join(work, 'tiny.json');
  writeFileSync(configPath, JSON.stringify(tinyConfig));
  megcCache = cacheDirFor(cache, { dataset: 'megc2019', ...GEOMETRY });
  ckCache = cacheDirFor(cache, { dataset: 'ckplus', ...GEOMETRY });
});

const prepareArgs = ['--frames', String(GEOMETRY.frames), '--size', String(GEOMETRY.size), '--channels', String(GEOMETRY.channels), '--quiet'];
const clipMtimes = (dir: string): Record<string, number> =>
  Object.fromEntries(readdirSync(join(dir, 'clips')).map((f) => [f, statSync(join(dir, 'clips', f)).mtimeMs]));

describe('real datasets end to end: inspect, prepare, run', () => {
  it('data inspect counts the composite per class, source and subject and lists every problem', async () => {
    const r = await cli(['data', 'inspect', '--dataset', 'megc2019', ...compositeFlags(), '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    // each source gives one negative (disgust / s1_ne_01 / Anger), one positive and one surprise clip
    expect(report.clips).toBe(9);
    expect(report.perSource).toEqual({ smic: 3, casme2: 3, samm: 3 });
    expect(report.perClass).toEqual({ negative: 3, positive: 3, surprise: 3 });
    expect(report.perSubject).toEqual({ 'smic/s01': 1, 'smic/s02': 2, 'casme2/sub01': 1, 'casme2/sub02': 2, 'samm/006': 1, 'samm/007': 2 });
    // errors: the SAMM and CASME II rows without a folder; left out: CASME II others and fear, SAMM Other, SMIC s07; note: the "/" apex.
    expect(report.counts).toEqual({ error: 2, excluded: 4, note: 1 });

    const text = await cli(['data', 'inspect', '--dataset', 'megc2019', ...compositeFlags()]);
    expect(text.out).toMatch(/^megc2019: 9 clips from 6 subjects \(label scheme megc2019\)\n {2}per source: smic 3, casme2 3, samm 3\n/);
    expect(text.out).toMatch(/\[error\] samm \(clip 006_006_9_9, row 17, .*SAMM_Micro_FACS_Codes_v2\.xlsx\): clip folder .*006_9_9 not found/);
    expect(text.out).toMatch(/\[error\] casme2 \(clip sub02_EP07_01, row 7, .*CASME2-coding-20140508\.xlsx\): clip folder .*sub02\/EP07_01 not found/);
    expect(text.out).toMatch(/\[note\] casme2 \(clip sub02_EP02_01f, row \d+\): Apex Frame is "\/" \(no apex\); using the middle of onset 20 \.\. offset 26: frame 23/);
    for (const clip of ['casme2/sub01_EP05_03', 'casme2/sub01_EP06_01', 'samm/006_006_2_1', 'smic/s07_s07_ne_01']) {
      expect(text.out).toContain(`[excluded] megc2019 (clip ${clip})`);
    }

    // --root takes NAME=DIR as run does, and plain DIR
    const named = await cli(['data', 'inspect', '--dataset', 'megc2019', '--root', `smic=${smic}`, '--root', `casme2=${casme2Composite}`, '--root', `samm=${samm}`, '--json']);
    expect(named.code).toBe(0);
    expect(JSON.parse(named.out).counts).toEqual(report.counts);
    const asRun = JSON.parse((await cli(['data', 'inspect', '--dataset', 'casme2', '--root', `casme2=${casme2}`, '--json'])).out);
    const wrong = await cli(['data', 'inspect', '--dataset', 'casme2', '--root', `samm=${casme2}`]);
    expect(wrong.err).toMatch(/option --root samm=\.\.\.: --dataset is casme2; give its folder as --root DIR or --root casme2=DIR/);
    const single = JSON.parse((await cli(['data', 'inspect', '--dataset', 'casme2', '--root', casme2, '--json'])).out);
    expect(asRun.counts).toEqual(single.counts);
    expect([single.scheme, single.clips, single.perClass, single.counts]).toEqual([
      'casme2-5',
      10,
      { happiness: 2, disgust: 2, repression: 2, surprise: 2, others: 2 },
      { error: 1, excluded: 1, note: 1 },
    ]);
  });

  it('data prepare stops at the first problem, builds the cache with --skip-bad and reuses it', async () => {
    const base = ['data', 'prepare', '--dataset', 'megc2019', ...compositeFlags(), '--out', megcCache, ...prepareArgs];
    const stop = await cli(base);
    expect(stop.code).toBe(1);
    expect(stop.err.trim().split('\n')).toHaveLength(1);
    // SMIC, CASME II and SAMM are read in that order; the first error is CASME II's
    expect(stop.err.trim()).toMatch(/^mimanet: error: \[error\] casme2 \(clip sub02_EP07_01, row 7, .*\): clip folder .* not found \(and 1 more problem\(s\); run `mimanet data inspect` to list them, or pass --skip-bad\)$/);
    expect(existsSync(join(megcCache, 'clipset.json'))).toBe(false);

    const first = await cli([...base, '--skip-bad']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/9 clips of 4x32x32x1 \(9 written, 0 reused, 2 skipped\)/);
    expect(first.out).toMatch(/labels negative, positive, surprise/);
    expect(first.err).toMatch(/skipped: \[error\] samm \(clip 006_006_9_9/);
    expect(first.err).toMatch(/skipped: \[error\] casme2 \(clip sub02_EP07_01/);
    const index = JSON.parse(readFileSync(join(megcCache, 'clipset.json'), 'utf8'));
    expect(index.clips).toHaveLength(9);
    expect(new Set(index.clips.map((c: { source: string }) => c.source))).toEqual(new Set(['smic', 'casme2', 'samm']));
    const before = clipMtimes(megcCache);
    expect(Object.keys(before)).toHaveLength(9);

    const again = await cli([...base, '--skip-bad']);
    expect(again.out).toMatch(/9 clips of 4x32x32x1 \(0 written, 9 reused, 2 skipped\)/);
    expect(clipMtimes(megcCache)).toEqual(before);

    const ck = await cli(['data', 'prepare', '--dataset', 'ckplus', '--root', ckplus, '--out', ckCache, ...prepareArgs]);
    expect(ck.code).toBe(0);
    expect(ck.out).toMatch(/3 clips of 4x32x32x1 \(3 written, 0 reused, 0 skipped\)[^;]*; labels anger, contempt, disgust, fear, happiness, sadness, surprise/);
    expect(ck.err).toMatch(/1 left out by design/);
  });

  it('run on the MEGC 2019 composite with CK+ reuses the prepared caches and scores each source', async () => {
    const before = { ...clipMtimes(megcCache), ...clipMtimes(ckCache) };
    const out = join(cache, '..', 'run-megc');
    const r = await cli(['run', '--config', configPath, '--out', out, '--micro', 'megc2019', '--macro', 'ckplus', ...composite(), '--root', `ckplus=${ckplus}`, '--cache', cache, '--workers', '2']);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.err).not.toMatch(/preparing/); // both caches were complete
    expect({ ...clipMtimes(megcCache), ...clipMtimes(ckCache) }).toEqual(before);
    expect(r.err).toMatch(/megc2019: 9 micro clips, 6 subjects \(LOSO folds\); ckplus: 3 macro clips/);
    // the caches were prepared with --skip-bad before: the run still lists what they left out, with why
    const leftOut = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).leftOut as Array<{ dataset: string; clip: string; kind: string; reason: string }>;
    expect(leftOut.filter((c) => c.kind === 'error').map((c) => c.clip).sort()).toEqual(['006_006_9_9', 'sub02_EP07_01']);
    expect(leftOut.filter((c) => c.kind === 'excluded').map((c) => c.clip)).toEqual(expect.arrayContaining(['casme2/sub01_EP05_03', 'smic/s07_s07_ne_01']));
    expect(new Set(leftOut.map((c) => `${c.dataset}/${c.clip}`)).size).toBe(leftOut.length);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).toMatch(/## Clips left out\n\n\d+ clip\(s\) of the datasets are not in this run/);
    expect(md).toMatch(/\| samm \| 006_006_9_9 \| error \| \[error\] samm \(clip 006_006_9_9, row 17, .*\): clip folder .* not found \|/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Clips left out</h2>');
    expect(html).toContain('<td>sub02_EP07_01</td>');
    expect(r.out).toMatch(/L_c \+ L_s \+ L_sam \+ L_t \+ L_con\s+\d\.\d{3}/);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.dataset).toBe('megc2019');
    expect(summary.labels).toEqual(['negative', 'positive', 'surprise']);
    expect(summary.variants).toHaveLength(2);
    for (const v of summary.variants) {
      expect(Object.keys(v.perSource).sort()).toEqual(['casme2', 'samm', 'smic']);
      expect([v.perSource.smic.count, v.perSource.casme2.count, v.perSource.samm.count]).toEqual([3, 3, 3]);
      for (const s of Object.values(v.perSource) as { UF1: number; UAR: number }[]) {
        for (const k of ['UF1', 'UAR'] as const) {
          expect(s[k]).toBeGreaterThanOrEqual(0);
          expect(s[k]).toBeLessThanOrEqual(1);
        }
      }
      expect(v.UF1).toBeGreaterThanOrEqual(0);
      expect(v.UF1).toBeLessThanOrEqual(1);
    }
    const csv = readFileSync(join(out, 'predictions.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(1 + 9 * 2);
    // Every clip of the cache is predicted once per row, by the fold that held out its subject.
    const clipColumn = csv[0]!.split(',').indexOf('clip');
    const ids = new Set(csv.slice(1).map((l) => l.split(',')[clipColumn]!.replace(/"/g, '')));
    expect(ids).toEqual(new Set(JSON.parse(readFileSync(join(megcCache, 'clipset.json'), 'utf8')).clips.map((c: { id: string }) => c.id)));
    expect(readFileSync(join(out, 'folds.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 6 * 2);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).data).toMatchObject({ kind: 'prepared', micro: 'megc2019', macro: 'ckplus', cacheDir: cache });
  });

  it('run on CASME II alone prepares its cache on the way, tells what it left out, and reports accuracy and F1', async () => {
    const out = join(cache, '..', 'run-casme2');
    const args = ['run', '--config', configPath, '--out', out, '--micro', 'casme2', '--macro', 'ckplus', '--root', `casme2=${casme2}`, '--root', `ckplus=${ckplus}`, '--cache', cache, '--workers', '1'];
    const stop = await cli([...args, '--quiet']);
    expect(stop.code).toBe(1);
    expect(stop.err.trim().split('\n')).toHaveLength(1);
    expect(stop.err).toMatch(/^mimanet: error: \[error\] casme2 \(clip sub02_EP07_01, row 13, .*\): clip folder .* not found \(pass --skip-bad to leave it out\)$/m);

    const r = await cli([...args, '--skip-bad']);
    expect(r.err).not.toMatch(/mimanet: error/);
    expect(r.code).toBe(0);
    const casmeCache = cacheDirFor(cache, { dataset: 'casme2', ...GEOMETRY });
    expect(r.err).toContain(`casme2: preparing 10 of 10 clips into ${casmeCache}`);
    expect(r.err).toMatch(/casme2: left out \[error\] casme2 \(clip sub02_EP07_01, row 13, .*\): clip folder .* not found\n/);
    expect(r.err).toMatch(/casme2: 10 clips ready in [\d.]+ s, 1 left out as bad/);
    expect(r.err).not.toMatch(/ckplus: preparing/);
    expect(r.err).toMatch(/casme2: 10 micro clips, 2 subjects \(LOSO folds\)/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.labels).toEqual(['happiness', 'disgust', 'repression', 'surprise', 'others']);
    for (const v of summary.variants) {
      for (const k of ['accuracy', 'f1', 'UF1', 'UAR']) {
        expect(v[k]).toBeGreaterThanOrEqual(0);
        expect(v[k]).toBeLessThanOrEqual(1);
      }
      expect(Object.keys(v.perSource)).toEqual(['casme2']);
    }
    // accuracy is the share of the 10 clips predicted right: a multiple of 1/10
    const preds = readFileSync(join(out, 'predictions.csv'), 'utf8').trim().split('\n');
    expect(preds).toHaveLength(1 + 10 * 2);
    for (const v of summary.variants) expect(Math.abs(v.accuracy * 10 - Math.round(v.accuracy * 10))).toBeLessThan(1e-9);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/accuracy/i);
  });
});

describe('run on real datasets: bad input gets one clear line', () => {
  const oneLine = (r: { code: number; err: string }, pattern: RegExp): void => {
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err.trim()).toMatch(pattern);
  };
  const run = (args: string[]): Promise<{ code: number; out: string; err: string }> =>
    cli(['run', '--config', configPath, '--out', join(cache, '..', 'bad'), '--cache', cache, '--quiet', ...args]);

  it('a missing --root for one of the composite datasets', async () => {
    oneLine(
      await run(['--micro', 'megc2019', '--macro', 'ckplus', '--root', `smic=${smic}`, '--root', `casme2=${casme2Composite}`, '--root', `ckplus=${ckplus}`]),
      /^mimanet: error: megc2019 is made of smic, casme2 and samm; no folder for samm: give it with --root samm=DIR or data\.roots\.samm in the config$/,
    );
    oneLine(await run(['--micro', 'casme2', '--macro', 'ckplus', '--root', `casme2=${casme2}`]), /error: no folder for ckplus: give it with --root ckplus=DIR/);
  });

  it('an unknown --micro or --macro name, or a dataset in the wrong role', async () => {
    oneLine(
      await run(['--micro', 'casme9', '--macro', 'ckplus', '--root', `ckplus=${ckplus}`]),
      /^mimanet: error: --micro \(data\.micro\) is "casme9": expected one of casme2, samm, smic, casme3, 4dme, megc2019, or a list of them such as smic,casme2,samm,casme3$/,
    );
    oneLine(await run(['--micro', 'ckplus', '--macro', 'ckplus']), /--micro \(data\.micro\) is "ckplus": expected one of casme2, .*, megc2019, or a list of them .* \(ckplus is a macro dataset\)$/);
    oneLine(
      await run(['--micro', 'smic,ckplus', '--macro', 'ckplus']),
      /^mimanet: error: --micro \(data\.micro\): dataset list "smic,ckplus": ckplus is a macro dataset; a list combines micro datasets \(casme2, samm, smic, casme3, 4dme, megc2019\)$/,
    );
    oneLine(await run(['--micro', 'casme2', '--macro', 'ck+']), /--macro \(data\.macro\) is "ck\+": expected one of ckplus, mmi/);
    oneLine(await run(['--micro', 'casme2']), /^mimanet: error: option --macro is missing: a run on a real --micro dataset needs a macro dataset too \(ckplus or mmi\), or data\.macro in the config$/);
  });

  it('a root folder that does not exist, or a root of no known dataset', async () => {
    const gone = join(cache, '..', 'no-such-folder');
    oneLine(
      await run(['--micro', 'megc2019', '--macro', 'ckplus', '--root', `smic=${smic}`, '--root', `casme2=${casme2Composite}`, '--root', `samm=${gone}`, '--root', `ckplus=${ckplus}`]),
      new RegExp(`^mimanet: error: --root samm=${gone}: folder ${gone} does not exist$`),
    );
    oneLine(
      await run(['--micro', 'casme2', '--macro', 'ckplus', '--root', `casme=${casme2}`, '--root', `ckplus=${ckplus}`]),
      /--root casme=.*: unknown dataset name "casme"; expected one of casme2, smic, samm, ckplus, mmi, casme3, 4dme$/,
    );
    oneLine(await run(['--micro', 'casme2', '--macro', 'ckplus', '--root', casme2]), /option --root is ".*": expected NAME=DIR/);
  });
});
