import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clipPath, loadClipSet, readIndex } from '../../src/data/cache.js';
import { type FaceDetector, createFaceDetector } from '../../src/data/preprocess/face.js';
import { cacheDirFor, loadPreparedOrPrepare, prepareDataset } from '../../src/data/prepare.js';
import { registerDataCommands } from '../../src/cli/data.js';
import { CASME2_HEADER, SAMM_HEADER, SAMM_PREAMBLE, blankFrame, faceFrame, tmpTree, writeBmp, writeImage, writeXlsx, removeTrees } from './fixtures.js';

afterAll(removeTrees);

const SIDE = 160;
const geometry = { frames: 4, size: 32, channels: 3 as const };

async function faceClip(dir: string, name: (n: number) => string, numbers: number[]): Promise<void> {
  for (const [i, n] of numbers.entries()) await writeImage(join(dir, name(n)), await faceFrame(SIDE, i * 3), SIDE, SIDE);
}

/** CASME II tree: two good clips, a corrupt frame, a clip with no face, a row whose folder is missing. */
async function casmeTree(): Promise<string> {
  const root = tmpTree('prep-casme');
  const raw = join(root, 'CASME2_RAW_selected');
  await faceClip(join(raw, 'sub01', 'EP01_01'), (n) => `img${n}.jpg`, [10, 11, 12, 13, 14]);
  await faceClip(join(raw, 'sub02', 'EP02_01'), (n) => `img${n}.jpg`, [1, 2, 3]);
  await faceClip(join(raw, 'sub03', 'EP03_01'), (n) => `img${n}.jpg`, [1, 2, 3]);
  writeFileSync(join(raw, 'sub03', 'EP03_01', 'img2.jpg'), Buffer.from('\xff\xd8\xff\xe0 corrupt', 'latin1'));
  for (const n of [1, 2, 3]) await writeImage(join(raw, 'sub04', 'EP04_01', `img${n}.jpg`), blankFrame(SIDE), SIDE, SIDE);
  await writeXlsx(join(root, 'CASME2-coding-20140508.xlsx'), [
    CASME2_HEADER,
    [1, 'EP01_01', null, 10, 14, 16, null, '12', 'happiness'],
    [2, 'EP02_01', null, 1, '/', 5, null, '4+L10', 'disgust'],
    [3, 'EP03_01', null, 1, 3, 3, null, '1+2', 'surprise'],
    [4, 'EP04_01', null, 1, 3, 3, null, '4', 'others'],
    [5, 'EP05_01', null, 1, 3, 3, null, '4', 'repression'],
  ]);
  return root;
}

describe('prepareDataset', () => {
  let detector: FaceDetector;
  let root: string;
  /** The CASME II cache the first test prepares; the command-line test reuses it. */
  let casmeCache = '';
  beforeAll(async () => {
    detector = await createFaceDetector();
    root = await casmeTree();
  });

  it('stops at the first problem, skips and reports with skipBad, resumes from complete clips', async () => {
    const cacheDir = join(tmpTree('prep-cache'), 'casme2');
    casmeCache = cacheDir;
    await expect(prepareDataset({ dataset: 'casme2', root, cacheDir, ...geometry, detector })).rejects.toThrow(
      /^\[error\] casme2 \(clip sub05_EP05_01, row 6, .*CASME2-coding-20140508\.xlsx\): clip folder .*EP05_01 not found \(pass --skip-bad to leave it out\)$/,
    );
    expect(existsSync(join(cacheDir, 'clips'))).toBe(false);

    const events: string[] = [];
    const first = await prepareDataset({ dataset: 'casme2', root, cacheDir, ...geometry, detector, skipBad: true, concurrency: 1, onProgress: (p) => events.push(`${p.clip}:${p.status}`) });
    expect(first.written).toBe(2);
    expect(first.reused).toBe(0);
    expect(events).toEqual(['casme2/sub01_EP01_01:written', 'casme2/sub02_EP02_01:written', 'casme2/sub03_EP03_01:skipped', 'casme2/sub04_EP04_01:skipped']);
    expect(first.skipped.map((p) => [p.clip, p.kind])).toEqual([['sub05_EP05_01', 'error'], ['sub03_EP03_01', 'error'], ['sub04_EP04_01', 'error']]);
    expect(first.skipped[1]!.file).toMatch(/sub03\/EP03_01\/img2\.jpg$/);
    expect(first.skipped[2]!.problem).toMatch(/no face found/);
    expect(first.problems.some((p) => p.kind === 'note' && p.clip === 'sub02_EP02_01')).toBe(true); // "/" apex
    expect(first.set.labels).toEqual(['happiness', 'disgust', 'repression', 'surprise', 'others']);
    expect(first.set.clips).toEqual([
      { id: 'casme2/sub01_EP01_01', subject: 'casme2/sub01', source: 'casme2', label: 0 },
      { id: 'casme2/sub02_EP02_01', subject: 'casme2/sub02', source: 'casme2', label: 1 },
    ]);
    expect(first.framesProcessed).toBe(5 + 3); // every source frame of both clips (T = 4 > apex - onset)

    const again = await prepareDataset({ dataset: 'casme2', root, cacheDir, ...geometry, detector, skipBad: true });
    expect([again.written, again.reused]).toEqual([0, 2]);

    const set = await loadPreparedOrPrepare({ dataset: 'casme2', root, cacheDir, ...geometry, detector });
    expect(set.clips.map((c) => c.id)).toEqual(['casme2/sub01_EP01_01', 'casme2/sub02_EP02_01']);
    expect(set.clips[0]!.frames.length).toBe(4 * 32 * 32 * 3);
    // Onset and apex frames differ (the head moves across the clip).
    const f = set.clips[0]!.frames;
    const fb = 32 * 32 * 3;
    expect(Buffer.from(f.subarray(0, fb)).equals(Buffer.from(f.subarray(3 * fb)))).toBe(false);
    expect(readIndex(cacheDir).provenance).toMatchObject({ scheme: 'casme2-5', frames: 4, resample: 'linear' });

    await expect(prepareDataset({ dataset: 'casme2', root, cacheDir, ...geometry, size: 48, detector, skipBad: true })).rejects.toThrow(/other settings \(size 32 -> 48\)/);
  });

  it('stops at a clip with no face unless skipBad', async () => {
    const smic = tmpTree('prep-smic-bad');
    for (const n of [1, 2, 3]) writeBmp(join(smic, 'HS', 's1', 'micro', 'negative', 's1_ne_01', `image${n}.bmp`), blankFrame(96), 96, 96);
    const cacheDir = join(tmpTree('prep-cache3'), 'smic');
    await expect(prepareDataset({ dataset: 'smic', root: smic, cacheDir, ...geometry, detector })).rejects.toThrow(
      /^smic clip s01_s01_ne_01: no face found on the onset or the apex frame \(.*image1\.bmp\) \(pass --skip-bad to leave it out and go on\)$/,
    );
    const res = await prepareDataset({ dataset: 'smic', root: smic, cacheDir, ...geometry, detector, skipBad: true });
    expect(res.set.clips).toEqual([]);
    expect(res.skipped).toHaveLength(1);
  });

  it('loadPreparedOrPrepare prepares a missing cache and refills a damaged one', async () => {
    const smic = tmpTree('prep-smic-one');
    for (const [i, n] of [1, 2, 3].entries()) writeBmp(join(smic, 'HS', 's2', 'micro', 'positive', 's2_po_01', `image${n}.bmp`), await faceFrame(SIDE, i * 2), SIDE, SIDE);
    const cacheDir = join(tmpTree('prep-cache2'), 'x');
    const opts = { dataset: 'smic' as const, root: smic, cacheDir, ...geometry, channels: 1 as const, detector };
    const set = await loadPreparedOrPrepare(opts);
    expect([set.channels, set.clips.length, set.clips[0]!.id]).toEqual([1, 1, 'smic/s02_s02_po_01']);
    writeFileSync(clipPath(cacheDir, 'smic/s02_s02_po_01'), Buffer.alloc(10));
    const again = await loadPreparedOrPrepare(opts);
    expect(Buffer.from(again.clips[0]!.frames).equals(Buffer.from(set.clips[0]!.frames))).toBe(true);
  });

  it('prepares the MEGC 2019 composite from three roots with source-prefixed subjects', async () => {
    const smic = tmpTree('prep-smic');
    for (const [i, n] of [1, 2, 3, 4].entries()) writeBmp(join(smic, 'HS', 's3', 'micro', 'surprise', 's3_sur_01', `image${n}.bmp`), await faceFrame(SIDE, i * 2), SIDE, SIDE);
    const samm = tmpTree('prep-samm');
    await faceClip(join(samm, 'SAMM', '011', '011_2_3'), (n) => `011_${String(n).padStart(5, '0')}.jpg`, [100, 101, 102]);
    await writeXlsx(join(samm, 'SAMM_Micro_FACS_Codes_v2.xlsx'), [...SAMM_PREAMBLE, SAMM_HEADER, [11, '011_2_3', 1, 100, 102, 104, 5, 'Micro', '4', 'Sadness', 1, '']]);
    const casme2 = tmpTree('prep-casme-one');
    await faceClip(join(casme2, 'CASME2_RAW_selected', 'sub01', 'EP01_01'), (n) => `img${n}.jpg`, [10, 11, 12]);
    for (const n of [1, 2]) await writeImage(join(casme2, 'CASME2_RAW_selected', 'sub04', 'EP04_01', `img${n}.jpg`), blankFrame(SIDE), SIDE, SIDE);
    await writeXlsx(join(casme2, 'CASME2-coding-20140508.xlsx'), [
      CASME2_HEADER,
      [1, 'EP01_01', null, 10, 12, 16, null, '12', 'happiness'],
      [4, 'EP04_01', null, 1, 2, 3, null, '4', 'others'],
      [5, 'EP05_01', null, 1, 3, 3, null, '4', 'repression'],
    ]);
    const cacheDir = cacheDirFor(tmpTree('prep-megc'), { dataset: 'megc2019', ...geometry });
    expect(cacheDir).toMatch(/megc2019-megc2019-t4-s32-c3$/);
    const res = await prepareDataset({ dataset: 'megc2019', roots: { smic, casme2, samm }, cacheDir, ...geometry, detector, skipBad: true });
    const set = loadClipSet(cacheDir);
    expect(set.labels).toEqual(['negative', 'positive', 'surprise']);
    expect(set.clips.map((c) => [c.id, c.subject, c.source, c.label])).toEqual([
      ['casme2/sub01_EP01_01', 'casme2/sub01', 'casme2', 1],
      ['samm/011_011_2_3', 'samm/011', 'samm', 0],
      ['smic/s03_s03_sur_01', 'smic/s03', 'smic', 2],
    ]);
    // CASME II "others" (sub04, no face either) is not a composite class: left out by design before any detection.
    expect(res.problems.find((p) => p.clip === 'casme2/sub04_EP04_01')).toMatchObject({ kind: 'excluded' });
    expect(res.skipped.map((p) => [p.dataset, p.clip])).toEqual([['casme2', 'sub05_EP05_01']]);
    expect(res.written).toBe(3);
  });

  it('data inspect and data prepare on the command line', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const program = new Command().exitOverride();
      registerDataCommands(program);
      await program.parseAsync(['node', 'mimanet', 'data', 'inspect', '--dataset', 'casme2', '--root', root, '--json']);
      const report = JSON.parse(out.join('')) as { clips: number; perClass: Record<string, number>; perSubject: Record<string, number>; counts: Record<string, number> };
      // Rows of sub01..sub04 are readable (frames are not decoded by inspect); sub05 has no folder.
      expect(report.clips).toBe(4);
      expect(report.perClass).toEqual({ happiness: 1, disgust: 1, repression: 0, surprise: 1, others: 1 });
      expect(report.perSubject).toEqual({ sub01: 1, sub02: 1, sub03: 1, sub04: 1 });
      expect(report.counts).toEqual({ error: 1, excluded: 0, note: 1 });
      out.length = 0;
      await program.parseAsync(['node', 'mimanet', 'data', 'inspect', '--dataset', 'casme2', '--root', root]);
      expect(out.join('')).toMatch(/casme2: 4 clips from 4 subjects \(label scheme casme2-5\)[\s\S]*\[error\] casme2 \(clip sub05_EP05_01, row 6/);
      out.length = 0;
      // The cache of the first test: every good clip is reused, the bad ones are skipped again.
      await program.parseAsync(['node', 'mimanet', 'data', 'prepare', '--dataset', 'casme2', '--root', root, '--out', casmeCache, '--frames', '4', '--size', '32', '--channels', '3', '--skip-bad', '--quiet']);
      expect(out.join('')).toMatch(/2 clips of 4x32x32x3 \(0 written, 2 reused, 3 skipped\)/);
      await expect(
        program.parseAsync(['node', 'mimanet', 'data', 'prepare', '--dataset', 'casme2', '--root', root, '--out', casmeCache, '--channels', '2']),
      ).rejects.toThrow(/option --channels: expected 1 or 3, got 2/);
      await expect(program.parseAsync(['node', 'mimanet', 'data', 'inspect', '--dataset', 'megc2019', '--smic-root', root])).rejects.toThrow(/megc2019 needs --casme2-root, --samm-root/);
      await expect(program.parseAsync(['node', 'mimanet', 'data', 'inspect', '--dataset', 'casme9', '--root', root])).rejects.toThrow(/option --dataset: unknown dataset "casme9"; expected one of casme2, .*, casme2-lv, samm-lv, or a list of micro datasets/);
      await expect(program.parseAsync(['node', 'mimanet', 'data', 'inspect', '--dataset', 'casme2,casme3', '--root', `casme2=${root}`])).rejects.toThrow(/^casme2\+casme3 needs one folder per dataset in it; missing: --root casme3=DIR$/);
    } finally {
      spy.mockRestore();
      err.mockRestore();
    }
  });
});
