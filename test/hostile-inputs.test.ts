/**
 * Hostile inputs to `predict` and to the file readers: a damaged prepared clip,
 * fields out of the range the code can run, weight paths that leave the model
 * folder, frames that do not fit the model, files too large to read, a full
 * disk. docs/failure-modes.md lists each case with the test that covers it.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fs, { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import sharp from 'sharp';
import { initBackend } from '../src/backend/index.js';
import { clipPath, loadClipSet, readIndex, saveClipSet } from '../src/data/cache.js';
import { Predictor } from '../src/predict/index.js';
import { readConfigFile } from '../src/config.js';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../src/util/fs.js';
import { z } from '../src/util/schema.js';
import { randomClipSet, runCli, tempDir } from './helpers.js';
import { saveTinyCheckpoint } from './tiny-checkpoint.js';

const root = tempDir('hostile');
const model = join(root, 'model');
const cache = join(root, 'cache');

beforeAll(async () => {
  await initBackend('wasm');
  await saveTinyCheckpoint(model, { frames: 4, labels: ['a', 'b', 'c'], seed: 3 });
  saveClipSet(cache, randomClipSet({ name: 'toy', clips: 3, classes: 3, subjects: 2, T: 4, size: 32, seed: 4 }));
});

/** A copy of the cache or the model under a new name, with `edit` applied to one JSON file of it. */
function edited(from: string, name: string, file: string, edit: (j: Record<string, any>) => void): string {
  const d = join(root, name);
  cpSync(from, d, { recursive: true });
  const j = JSON.parse(readFileSync(join(d, file), 'utf8'));
  edit(j);
  writeFileSync(join(d, file), JSON.stringify(j));
  return d;
}

const predict = (...args: string[]): ReturnType<typeof runCli> => runCli(['predict', '--backend', 'wasm', ...args]);

describe('predict on the clip cache', () => {
  it('refuses a prepared clip whose bytes fail the checksum, by cache folder and by .u8 path', async () => {
    const d = join(root, 'flipped');
    cpSync(cache, d, { recursive: true });
    const file = clipPath(d, 'toy/clip1');
    const bytes = readFileSync(file);
    bytes[10] ^= 0xff;
    writeFileSync(file, bytes);
    for (const args of [[d, '--clip', 'toy/clip1'], [file]]) {
      const r = await predict('--model', model, ...args);
      expect(r.code, r.out).toBe(1);
      expect(r.err).toMatch(/toy__clip1\.u8: checksum mismatch \(sha256 [0-9a-f]{12}\.\.\., clipset\.json records [0-9a-f]{12}\.\.\.\): the clip file is damaged/);
    }
    // the other clips of the same cache still score
    expect((await predict('--model', model, d, '--clip', 'toy/clip0')).code).toBe(0);
  });

  it('clipset.json: a label outside the class list, or a clip without its sha256, is refused naming the field', async () => {
    const label = edited(cache, 'label99', 'clipset.json', (j) => (j.clips[1].label = 99));
    expect(() => readIndex(label)).toThrow(/label99\/clipset.json: field "clips\[1\]\.label" is 99: expected a class index below 3 \(3 labels\)/);
    const r = await predict('--model', model, label, '--clip', 'toy/clip0');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/field "clips\[1\]\.label" is 99/);
    const unsummed = edited(cache, 'nosha', 'clipset.json', (j) => delete j.clips[2].sha256);
    expect(() => loadClipSet(unsummed)).toThrow(/nosha\/clipset.json: field "clips\[2\]\.sha256" is missing: expected string; .*run `mimanet data prepare` on the cache again/);
    const r2 = await predict('--model', model, clipPath(unsummed, 'toy/clip2'));
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/field "clips\[2\]\.sha256" is missing/);
  });
});

describe('checkpoint fields out of range', () => {
  it('mimanet.json: version 99, net.K 0, net.sc 50, net.width -1 and intervals that do not fit T are refused, naming the field and the value', async () => {
    const cases: Array<[string, (j: Record<string, any>) => void, RegExp]> = [
      ['v99', (j) => (j.version = 99), /v99\/mimanet.json: field "version" is 99: expected 1/],
      ['k0', (j) => (j.net.K = 0), /k0\/mimanet.json: field "net\.K" is 0: expected an integer in \[1, 512\]/],
      ['sc50', (j) => (j.net.sc = 50), /sc50\/mimanet.json: field "net\.sc" is 50: expected an integer in \[1, 8\]/],
      ['w-1', (j) => (j.net.width = -1), /w-1\/mimanet.json: field "net\.width" is -1: expected an integer in \[1, 512\]/],
      ['size8', (j) => (j.net.size = 8), /size8\/mimanet.json: field "net\.size" is 8: expected an integer in \[32, 1024\]/],
      ['fit', (j) => (j.net.K = 4), /fit\/mimanet.json: field "net\.K" is 4: sampling intervals do not fit: s_c=2 gives s up to 2, and K=4 frames spaced 2 apart need 7 frames, but T=4/],
    ];
    for (const [name, edit, pattern] of cases) {
      const d = edited(model, name, 'mimanet.json', edit);
      await expect(Predictor.load(d), name).rejects.toThrow(pattern);
    }
    const r = await predict('--model', join(root, 'k0'), clipPath(cache, 'toy/clip0'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^mimanet: error: .*field "net\.K" is 0/);
  });

  it('model.json: weight paths that leave the model folder are refused; the weights it names are the ones read', async () => {
    for (const [name, path] of [['up', '../../../../etc/passwd'], ['abs', '/etc/passwd'], ['url', 'http://example.org/w.bin'], ['enc', '%2e%2e/weights.bin'], ['mid', 'a/../../weights.bin']] as const) {
      const d = edited(model, `paths-${name}`, 'model.json', (j) => (j.weightsManifest[0].paths = [path]));
      await expect(Predictor.load(d), path).rejects.toThrow(`paths-${name}/model.json: field "weightsManifest[0].paths[0]" is ${JSON.stringify(path)}: expected a file name inside the model folder`);
    }
    // a manifest naming another file inside the folder: that file is read, as a browser would
    const moved = edited(model, 'moved', 'model.json', (j) => (j.weightsManifest[0].paths = ['shards/w1.bin']));
    mkdirSync(join(moved, 'shards'));
    fs.renameSync(join(moved, 'weights.bin'), join(moved, 'shards', 'w1.bin'));
    const p = await Predictor.load(moved);
    const q = await Predictor.load(model);
    const clip = clipPath(cache, 'toy/clip0');
    expect((await p.predict(clip)).probs).toEqual((await q.predict(clip)).probs);
    p.dispose();
    q.dispose();
    fs.rmSync(join(moved, 'shards', 'w1.bin'));
    await expect(Predictor.load(moved)).rejects.toThrow(/moved: not a mimanet checkpoint \(missing shards\/w1\.bin, named in model\.json\)/);
  });
});

describe('frames that do not fit the model', () => {
  const frames = async (name: string, specs: Array<{ w: number; h: number; c: 1 | 3 }>): Promise<string> => {
    const d = join(root, name);
    mkdirSync(d);
    for (const [k, s] of specs.entries()) {
      const px = Buffer.alloc(s.w * s.h * s.c, 40 + 30 * k);
      const img = sharp(px, { raw: { width: s.w, height: s.h, channels: s.c } });
      await (s.c === 1 ? img.toColourspace('b-w') : img).png({ compressionLevel: 1 }).toFile(join(d, `${k}.png`));
    }
    return d;
  };

  it('refuses frames of mixed sizes, frames below 16 pixels a side and frames over 33.2 megapixels, naming the frame', async () => {
    const mixed = await frames('mixed', [{ w: 64, h: 48, c: 1 }, { w: 64, h: 48, c: 1 }, { w: 32, h: 32, c: 1 }, { w: 64, h: 48, c: 1 }]);
    let r = await predict('--model', model, mixed, '--apex', '3');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/mixed: frames of different sizes: 0\.png is 64x48, 2\.png is 32x32; a clip's frames must share one size/);
    const tiny = await frames('tiny', [{ w: 1, h: 1, c: 1 }, { w: 1, h: 1, c: 1 }]);
    r = await predict('--model', model, tiny);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/tiny\/0\.png: 1x1 pixels; frames need at least 16 pixels a side/);
    const huge = join(root, 'huge');
    mkdirSync(huge);
    // 8000x8000: a header is all that is read
    const big = await sharp({ create: { width: 8000, height: 8000, channels: 3, background: '#000' } }).toColourspace('b-w').png({ compressionLevel: 9 }).toBuffer();
    for (const k of [0, 1]) writeFileSync(join(huge, `${k}.png`), big);
    r = await predict('--model', model, huge);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/huge\/0\.png: 8000x8000 pixels \(64\.0 megapixels\); frames may have at most 33\.2 megapixels/);
  });

  it('says in one line when frames are resized or converted to grey for the model, and is silent when they fit', async () => {
    const rgb = await frames('rgb', [{ w: 64, h: 48, c: 3 }, { w: 64, h: 48, c: 3 }]);
    const r = await predict('--model', model, rgb, '--onset', '0', '--apex', '1');
    expect(r.code).toBe(0);
    expect(r.err).toBe(`mimanet: note: ${rgb}: frames resized from 64x48 to 32x32 and converted from RGB to grey for the model\n`);
    const fit = await frames('fits', [{ w: 32, h: 32, c: 1 }, { w: 32, h: 32, c: 1 }]);
    const ok = await predict('--model', model, fit, '--onset', '0', '--apex', '1', '--json');
    expect(ok.code).toBe(0);
    expect(ok.err).toBe('');
    expect(JSON.parse(ok.out).adjusted).toBeUndefined();
    const j = JSON.parse((await predict('--model', model, rgb, '--onset', '0', '--apex', '1', '--json')).out);
    expect(j.adjusted).toBe('frames resized from 64x48 to 32x32 and converted from RGB to grey for the model');
  });
});

describe('files too large to read', () => {
  it('a config file over 1 MiB, /dev/zero and a JSON file over 64 MiB are refused at once, stating the limit', async () => {
    const yaml = join(root, 'big.yaml');
    writeFileSync(yaml, 'seed: 1\n' + '# padding\n'.repeat(110_000));
    await expect(readConfigFile(yaml)).rejects.toThrow(`config file ${yaml}: larger than 1 MiB, the limit for a config file`);
    const r = await runCli(['run', '--config', '/dev/zero', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('mimanet: error: config file /dev/zero: larger than 1 MiB, the limit for a config file\n');
    const json = join(root, 'big.json');
    writeFileSync(json, '');
    truncateSync(json, 65 * 2 ** 20); // sparse: nothing is written
    expect(() => readJsonFile(json, z.unknown())).toThrow(`${json}: larger than 64 MiB, the limit for a JSON file`);
    const meta = join(root, 'big-meta');
    cpSync(model, meta, { recursive: true });
    truncateSync(join(meta, 'mimanet.json'), 65 * 2 ** 20);
    await expect(Predictor.load(meta)).rejects.toThrow(/big-meta\/mimanet\.json: larger than 64 MiB, the limit for a JSON file/);
  });
});

describe('a full disk', () => {
  it('ENOSPC while writing names the file and leaves no temporary file behind', () => {
    const d = join(root, 'full');
    mkdirSync(d);
    const real = fs.writeFileSync;
    // the disk fills half-way through the temporary file, as a real one would
    fs.writeFileSync = ((path: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView) => {
      const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      real(path, bytes.subarray(0, bytes.length >> 1));
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    }) as typeof fs.writeFileSync;
    syncBuiltinESMExports();
    try {
      expect(() => writeJsonAtomic(join(d, 'summary.json'), { a: 'x'.repeat(1000) })).toThrow(`${join(d, 'summary.json')}: cannot write (ENOSPC: no space left on device)`);
      expect(() => writeFileAtomic(join(d, 'clip.u8'), new Uint8Array(4096))).toThrow(`${join(d, 'clip.u8')}: cannot write (ENOSPC: no space left on device)`);
    } finally {
      fs.writeFileSync = real;
      syncBuiltinESMExports();
    }
    expect(readdirSync(d)).toEqual([]);
    writeJsonAtomic(join(d, 'summary.json'), { a: 1 });
    expect(existsSync(join(d, 'summary.json'))).toBe(true);
    expect(readdirSync(d)).toEqual(['summary.json']);
  });
});
