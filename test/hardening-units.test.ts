/** Small pieces of the hardening: worker cap, lock ownership, settings diff, error quoting, folder creation. */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capWorkers } from '../src/cli/run.js';
import { readByNote } from '../src/cli/data.js';
import { lockRunFolder, settingsDiff, LOCK_FILE, backendIdentity, onednnThreadsOf, prepareRunFolder } from '../src/results/index.js';
import { resolveConfig, ConfigError } from '../src/config.js';
import { quote } from '../src/util/schema.js';
import { runCli, tempDir } from './helpers.js';

describe('--workers', () => {
  it('is capped at the cores and the folds, with a note; smaller requests stand', () => {
    expect(capWorkers(100, 2)).toEqual({ workers: 2, note: '--workers 100: using 2, one per core (2 cores); more would only add memory' });
    expect(capWorkers(8, 16, 4)).toEqual({ workers: 4, note: '--workers 8: using 4, one per fold (4 folds); more would only add memory' });
    expect(capWorkers(2, 16, 15)).toEqual({ workers: 2 });
  });
});

describe('the lock of a results folder', () => {
  it('is released by its holder only, and a second lock in the same folder is refused while it is held', () => {
    const dir = tempDir('lock');
    const lock = lockRunFolder(dir);
    expect(lock.note).toBeUndefined();
    expect(() => lockRunFolder(dir)).toThrow(/is in use by another mimanet run \(pid \d+, started .*\); wait for it to finish or choose another --out/);
    // someone else's lock (another start time) is left alone by release
    const other = JSON.stringify({ ...JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')), started: '1999-01-01T00:00:00.000Z' });
    writeFileSync(join(dir, LOCK_FILE), other);
    lock.release();
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(other);
    writeFileSync(join(dir, LOCK_FILE), 'garbage');
    const again = lockRunFolder(dir);
    expect(again.note).toMatch(/unreadable lock; taken over/);
    again.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});

describe('settings and error wording', () => {
  it('names each differing field with both values', () => {
    expect(settingsDiff({ 'finetune.lr': 0.0003, backend: 'wasm', flip: true }, { 'finetune.lr': 0.001, backend: 'wasm', flip: true }).map((d) => d.text)).toEqual(['finetune.lr (0.0003 there, 0.001 now)']);
  });

  it('quotes NaN and Infinity as themselves, not as null (YAML .nan, .inf)', () => {
    expect(quote(NaN)).toBe('NaN');
    expect(quote([1, -Infinity])).toBe('[1,"-Infinity"]');
    expect(() => resolveConfig({ finetune: { lr: NaN } })).toThrow(ConfigError);
    expect(() => resolveConfig({ finetune: { lr: NaN } })).toThrow(/is NaN/);
    expect(() => resolveConfig({ finetune: { tau: Infinity } })).toThrow(/is Infinity/);
  });

  it('model: null in a config names the field', () => {
    expect(() => resolveConfig({ model: null } as never)).toThrow(/config field "model" is null: expected an object/);
  });

  it('data prepare says which run reads what it prepared', () => {
    expect(readByNote({ frames: 8, height: 32, channels: 1 }, false)).toBe('prepared T=8, 32x32, grey: what `mimanet run --preset quick` reads (the default preset)');
    expect(readByNote({ frames: 16, height: 112, channels: 3 }, false)).toMatch(/^prepared T=16, 112x112, RGB: what `mimanet run --preset paper` reads \(the default run, preset quick, reads T=8, 32x32, grey: add --preset quick to prepare for it\)$/);
    expect(readByNote({ frames: 5, height: 20, channels: 1 }, false)).toMatch(/no preset reads this geometry/);
  });
});

describe('--out where no folder can be made', () => {
  it('fails at once naming the folder instead of hanging (/proc)', async () => {
    const r = await runCli(['run', '--out', '/proc/mimanet-no-such/x', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/mimanet: error: \/proc\/mimanet-no-such\/x: cannot create the folder \/proc\/mimanet-no-such \(ENOENT\)/);
  }, 20_000);
});

describe('the native backend\'s kernels in a results folder', () => {
  it('names the kernels in the backend a folder records, and refuses a change of kernels without --allow-backend-change', () => {
    expect(backendIdentity({ name: 'native', kernels: 'onednn', onednnThreads: 2 })).toBe('native/onednn-t2');
    expect(backendIdentity({ name: 'native', kernels: 'onednn-gemm', onednnThreads: 4 })).toBe('native/onednn-gemm-t4');
    expect(backendIdentity({ name: 'native', kernels: 'builtin' })).toBe('native/builtin');
    expect(backendIdentity({ name: 'wasm' })).toBe('wasm');
    expect(onednnThreadsOf('native/onednn-t2')).toBe(2);
    expect(onednnThreadsOf('native/onednn-gemm-t16')).toBe(16);
    expect(onednnThreadsOf('native/builtin')).toBeUndefined();
    const out = tempDir('kernels');
    const cfg = resolveConfig({ out });
    const first = prepareRunFolder(cfg, { backend: { name: 'native', kernels: 'builtin' }, workers: 1 });
    expect(first.settings.backend).toBe('native/builtin');
    expect(() => prepareRunFolder(cfg, { backend: { name: 'native', kernels: 'onednn' }, workers: 1 }))
      .toThrow(/begun on backend native\/builtin and this run uses native\/onednn/);
    const allowed = prepareRunFolder(cfg, { backend: { name: 'native', kernels: 'onednn', onednnThreads: 2 }, workers: 1 }, { allowBackendChange: true });
    expect(allowed.backendChange).toEqual({ backend: 'native/onednn-t2', earlier: ['native/builtin'] });
  });

  it('refuses to resume a folder begun on oneDNN convolutions with several fold workers by the version that mixed up their filters, even with --allow-backend-change', () => {
    // what that version wrote: the kernels without the thread count
    const old = (workers: number): string => {
      const out = tempDir('onednn-before');
      const cfg = resolveConfig({ out });
      prepareRunFolder(cfg, { backend: { name: 'native', kernels: 'onednn' }, workers });
      return out;
    };
    const now = { backend: { name: 'native', kernels: 'onednn', onednnThreads: 2 }, workers: 2 };
    for (const [workers, how] of [[2, 'with 2 fold workers'], [0, 'through a job queue']] as const) {
      const cfg = resolveConfig({ out: old(workers) });
      for (const allowBackendChange of [false, true]) {
        expect(() => prepareRunFolder(cfg, now, { allowBackendChange }))
          .toThrow(new RegExp(`begun on native/onednn ${how} by an earlier mimanet, whose fold workers could compute with each other's convolution filters .* cannot be resumed`));
      }
    }
    // one worker computed correctly: only a change of backend (the thread count is new), allowed with the flag
    const cfg = resolveConfig({ out: old(1) });
    expect(() => prepareRunFolder(cfg, now)).toThrow(/begun on backend native\/onednn and this run uses native\/onednn-t2/);
    expect(prepareRunFolder(cfg, now, { allowBackendChange: true }).backendChange).toEqual({ backend: 'native/onednn-t2', earlier: ['native/onednn'] });
  });
});
