/**
 * Hostile inputs and faults, end to end through the command line and the
 * public loaders: a folder resumed under other settings or on another
 * backend, a second run on a busy folder, damaged records and weights.
 * docs/failure-modes.md lists each case with the test that covers it.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { runCli as cli, tempDir, randomClipSet } from './helpers.js';
import { initBackend } from '../src/backend/index.js';
import { TwoStreamNet } from '../src/model/twostream.js';
import { withInitSeed } from '../src/model/resnet.js';
import { saveCheckpoint } from '../src/model/checkpoint.js';
import { saveNetWeights, loadNetWeights } from '../src/model/io.js';
import { DEFAULT_NORMALIZATION } from '../src/data/batches.js';
import { Predictor } from '../src/predict/index.js';
import { saveClipSet, loadClipSet, readIndex } from '../src/data/cache.js';

/** A run small enough for a test (as in cli.test.ts): 4 subjects, one row. */
const tiny = {
  preset: 'quick',
  variants: [['c']],
  backend: 'wasm',
  embeddings: false,
  foldCheckpoints: 'none',
  data: { kind: 'synthetic', options: { micro: { sources: 2, subjectsPerSource: 2, clipsPerSubject: 4 }, macro: { subjects: 4, clipsPerSubject: 4 } } },
  model: { size: 32, frames: 4, width: 2, sc: 2, K: 2, headWidths: [4, 4, 4] },
  pretrain: { manetEpochs: 1, minetEpochs: 1, batchSize: 8 },
  finetune: { epochs: 1, n: 4 },
};

let dir: string;
let configPath: string;
/** A finished tiny run, copied for each case that damages it. */
let done: string;

const run = (out: string, ...extra: string[]): ReturnType<typeof cli> => cli(['run', '--config', configPath, '--out', out, '--workers', '1', '--quiet', ...extra]);
const copy = (name: string): string => {
  const to = join(dir, name);
  cpSync(done, to, { recursive: true });
  return to;
};
const rowFiles = (out: string): string[] => {
  const folds = join(out, 'seed-1', 'folds');
  return readdirSync(folds).flatMap((f) => readdirSync(join(folds, f)).filter((n) => n === 'c.json').map((n) => join(folds, f, n)));
};

beforeAll(async () => {
  dir = tempDir('hardening');
  configPath = join(dir, 'tiny.json');
  writeFileSync(configPath, JSON.stringify(tiny));
  done = join(dir, 'done');
  const r = await run(done);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
}, 120_000);

describe('resuming a results folder under other settings', () => {
  it('refuses another learning rate even when run.json is deleted, naming the field', async () => {
    const out = copy('no-run-json');
    rmSync(join(out, 'run.json'));
    writeFileSync(join(dir, 'lr.json'), JSON.stringify({ ...tiny, finetune: { ...tiny.finetune, lr: 0.001 } }));
    const r = await cli(['run', '--config', join(dir, 'lr.json'), '--out', out, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/holds results made with other settings: seed-1\/\S+ differs in finetune\.lr \(0\.0003 there, 0\.001 now\)/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('refuses it when run.json is null, and resumes (reusing every row) when only run.json is damaged', async () => {
    const out = copy('null-run-json');
    writeFileSync(join(out, 'run.json'), 'null');
    writeFileSync(join(dir, 'lr2.json'), JSON.stringify({ ...tiny, finetune: { ...tiny.finetune, lr: 0.001 } }));
    const other = await cli(['run', '--config', join(dir, 'lr2.json'), '--out', out, '--quiet']);
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/differs in finetune\.lr/);
    const same = await cli(['run', '--config', configPath, '--out', out, '--workers', '1']);
    expect(same.code).toBe(0);
    expect(same.err).toMatch(/run\.json: the content is null: expected object; it is rewritten/);
    expect(same.err).toMatch(/0 fold-rows trained, 4 reused/);
  });

  it('refuses a folder begun on another backend, names both, and continues with --allow-backend-change, recording it per row', async () => {
    const out = copy('backend');
    for (const f of rowFiles(out).slice(2)) rmSync(f);
    const r = await run(out, '--backend', 'cpu');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/was begun on backend wasm and this run uses cpu; .*--allow-backend-change/);
    const ok = await run(out, '--backend', 'cpu', '--allow-backend-change');
    expect(ok.code).toBe(0);
    const rows = rowFiles(out).map((f) => JSON.parse(readFileSync(f, 'utf8')));
    expect(rows.map((x) => x.settings.backend)).toEqual(['wasm', 'wasm', 'cpu', 'cpu']);
    expect(rows.map((x) => x.backendChange ?? null)).toEqual([null, null, { backend: 'cpu', earlier: ['wasm'] }, { backend: 'cpu', earlier: ['wasm'] }]);
    const history = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).history.map((h: { backend: string }) => h.backend);
    expect(history).toEqual(['wasm', 'cpu']);
  });

  it('sets a damaged row record aside and computes that row again, saying so', async () => {
    const out = copy('truncated');
    const [first, second] = rowFiles(out);
    writeFileSync(first, readFileSync(first, 'utf8').slice(0, 50));
    writeFileSync(second, '{}');
    const r = await cli(['run', '--config', configPath, '--out', out, '--workers', '1']);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`${first}: not valid JSON`);
    expect(r.err).toContain(`${second}: field "seed" is missing: expected number (and 8 more problems); moved to ${second}.invalid, that piece is computed again`);
    expect(r.err).toMatch(/2 fold-rows trained, 2 reused/);
    expect(existsSync(`${first}.invalid`)).toBe(true);
    expect(JSON.parse(readFileSync(second, 'utf8')).predictions.length).toBeGreaterThan(0);
  });
});

describe('a second run on a busy folder', () => {
  it('is refused while the lock holder runs, and a stale lock of a dead run is taken over', async () => {
    const out = copy('locked');
    writeFileSync(join(out, '.lock'), JSON.stringify({ pid: process.pid, host: hostname(), started: '2020-01-01T00:00:00.000Z' }));
    const busy = await run(out);
    expect(busy.code).toBe(1);
    expect(busy.err).toMatch(new RegExp(`is in use by another mimanet run \\(pid ${process.pid}, started 2020-01-01T00:00:00.000Z\\); wait for it to finish or choose another --out`));
    // pids above the kernel's maximum never run
    writeFileSync(join(out, '.lock'), JSON.stringify({ pid: 99999999, host: hostname(), started: '2020-01-01T00:00:00.000Z' }));
    const stale = await cli(['run', '--config', configPath, '--out', out, '--workers', '1']);
    expect(stale.code).toBe(0);
    expect(stale.err).toMatch(/the run that held it \(pid 99999999, .*\) is gone; lock taken over/);
    expect(existsSync(join(out, '.lock'))).toBe(false);
  });
});

describe('damaged weights and files of the wrong shape', () => {
  const grey = { classes: 3, size: 32, channels: 1 as const, frames: 4, width: 2, sc: 2, K: 2 };
  let ckpt: string;
  let net: TwoStreamNet;
  beforeAll(async () => {
    await initBackend('wasm');
    net = withInitSeed(5, () => new TwoStreamNet(grey, 'MiNet'));
    ckpt = join(dir, 'ckpt');
    await saveCheckpoint(net, ckpt, { labels: ['a', 'b', 'c'], temporal: 'intervals', normalization: DEFAULT_NORMALIZATION, preprocessing: { align: 'none', resample: 'linear' } as never });
  });
  const variant = (name: string, file: string, content: string | Uint8Array): string => {
    const d = join(dir, name);
    cpSync(ckpt, d, { recursive: true });
    writeFileSync(join(d, file), content);
    return d;
  };

  it('predict refuses same-size garbled weights (checksum), and non-finite ones where no checksum is kept', async () => {
    const size = readFileSync(join(ckpt, 'weights.bin')).length;
    const garbled = Uint8Array.from({ length: size }, (_, i) => (i * 2654435761) >>> 24);
    await expect(Predictor.load(variant('garbled', 'weights.bin', garbled))).rejects.toThrow(/garbled\/weights.bin: checksum mismatch/);
    const meta = JSON.parse(readFileSync(join(ckpt, 'mimanet.json'), 'utf8'));
    delete meta.weightsSha256;
    const nan = new Uint8Array(size);
    new DataView(nan.buffer).setFloat32(0, NaN, true);
    const d = variant('nan', 'weights.bin', nan);
    writeFileSync(join(d, 'mimanet.json'), JSON.stringify(meta));
    await expect(Predictor.load(d)).rejects.toThrow(/nan\/weights.bin: tensor "\S+" holds NaN at element 0: the weights are damaged/);
    const cli1 = await cli(['predict', '--model', join(dir, 'garbled'), join(dir, 'nothing.u8')]);
    expect(cli1.code).toBe(1);
  });

  it('model.json {}, mimanet.json null, a manifest without specs, weights with NaN: errors name the file and the field', async () => {
    await expect(Predictor.load(variant('mj', 'model.json', '{}'))).rejects.toThrow(/mj\/model.json: field "modelTopology" is missing: expected object/);
    await expect(Predictor.load(variant('mn', 'mimanet.json', 'null'))).rejects.toThrow(/mn\/mimanet.json: the content is null: expected object/);
    const base = join(dir, 'w', 'net');
    await saveNetWeights(net, base);
    const manifest = JSON.parse(readFileSync(`${base}.json`, 'utf8'));
    writeFileSync(`${base}.json`, JSON.stringify({ ...manifest, specs: undefined }));
    expect(() => loadNetWeights(net, base)).toThrow(/w\/net.json: field "specs" is missing: expected array/);
    writeFileSync(`${base}.json`, JSON.stringify(manifest));
    const bin = readFileSync(`${base}.bin`);
    bin.writeUInt8(bin[100] ^ 1, 100);
    writeFileSync(`${base}.bin`, bin);
    expect(() => loadNetWeights(net, base)).toThrow(/w\/net.bin: checksum mismatch .*delete both to recompute them/);
  });

  it('a clip cache: clipset.json without clips is refused by field, and a same-size garbled clip by its checksum', () => {
    const cache = join(dir, 'cache');
    saveClipSet(cache, randomClipSet({ name: 'toy', clips: 3, classes: 2, subjects: 2, T: 2, size: 8 }));
    expect(loadClipSet(cache).clips).toHaveLength(3);
    const index = readIndex(cache);
    const clip = join(cache, 'clips', 'toy__clip1.u8');
    writeFileSync(clip, new Uint8Array(readFileSync(clip).length).fill(7));
    expect(() => loadClipSet(cache)).toThrow(/toy__clip1.u8: checksum mismatch .*the clip file is damaged/);
    writeFileSync(join(cache, 'clipset.json'), JSON.stringify({ ...index, clips: undefined }));
    expect(() => loadClipSet(cache)).toThrow(/clipset.json: field "clips" is missing: expected array/);
  });
});
