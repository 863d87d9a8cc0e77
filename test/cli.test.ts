import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli as cli, tempDir, tinyConfig } from './helpers.js';

let dir: string;
let configPath: string;

beforeAll(() => {
  dir = tempDir('cli');
  configPath = join(dir, 'tiny.json');
  writeFileSync(configPath, JSON.stringify(tinyConfig));
});

describe('mimanet run (end to end, tiny)', () => {
  it('trains every row under LOSO on two workers, prints the table and writes the results folder; a rerun resumes', async () => {
    const out = join(dir, 'run');
    const r = await cli(['run', '--config', configPath, '--out', out, '--workers', '2']);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/L_c\s+\d\.\d{3}/);
    expect(r.out).toMatch(/L_c \+ L_s \+ L_sam \+ L_t \+ L_con\s+\d\.\d{3}/);
    for (const f of ['config.json', 'run.json', 'summary.json', 'summary.md', 'predictions.csv', 'folds.csv']) expect(existsSync(join(out, f))).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.variants.map((v: { losses: string[] }) => v.losses)).toEqual([['c'], ['c', 's', 'sam', 't', 'con']]);
    for (const v of summary.variants) {
      for (const k of ['UF1', 'UAR', 'accuracy', 'f1', 'UF1_std', 'UAR_std', 'accuracy_std', 'f1_std']) {
        expect(typeof v[k]).toBe('number');
      }
      expect(v.UF1).toBeGreaterThanOrEqual(0);
      expect(v.UF1).toBeLessThanOrEqual(1);
    }
    expect(summary.config.model.width).toBe(2);
    // 16 micro clips x 2 rows, one line each, plus the header
    const csv = readFileSync(join(out, 'predictions.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(1 + 16 * 2);
    const folds = readFileSync(join(out, 'folds.csv'), 'utf8').trim().split('\n');
    expect(folds).toHaveLength(1 + 4 * 2);

    const again = await cli(['run', '--config', configPath, '--out', out, '--workers', '1']);
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/0 fold-rows trained, 8 reused/);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).variants).toEqual(summary.variants);
  });

  it('gives the same results with one worker as with two', async () => {
    const a = join(dir, 'w1');
    const r = await cli(['run', '--config', configPath, '--out', a, '--workers', '1', '--quiet']);
    expect(r.code).toBe(0);
    const one = readFileSync(join(a, 'predictions.csv'), 'utf8');
    const two = readFileSync(join(dir, 'run', 'predictions.csv'), 'utf8');
    expect(one).toBe(two);
  });

  it('refuses to mix a run with other settings into an existing folder', async () => {
    const r = await cli(['run', '--config', configPath, '--out', join(dir, 'run'), '--seed', '5', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/holds results made with other settings: run.json differs in seed \(1 there, 5 now\)/);
  });
});

describe('mimanet run: bad input gets one clear line, no stack trace', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown loss', ['--losses', 'c,adv'], /unknown loss "adv"/],
    ['loss set without c', ['--losses', 's,t'], /must include "c"/],
    ['bad preset', ['--preset', 'huge'], /config field "preset" is "huge"/],
    ['bad seeds', ['--seeds', 'x'], /option --seeds is "x"/],
    ['bad backend', ['--backend', 'gpu'], /unknown backend 'gpu'/],
  ];
  for (const [name, args, pattern] of cases) {
    it(name, async () => {
      const r = await cli(['run', '--out', join(dir, 'bad'), '--quiet', ...args]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(pattern);
      expect(r.err).not.toMatch(/\n\s+at /);
    });
  }

  it('a config file with a bad value names the field and the value', async () => {
    const p = join(dir, 'bad.yaml');
    writeFileSync(p, 'model:\n  channels: 2\n');
    const r = await cli(['run', '--config', p, '--out', join(dir, 'bad2'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/config field "model.channels" is 2: expected 1 or 3/);
    writeFileSync(p, 'finetune:\n  tau: 0\n');
    expect((await cli(['run', '--config', p, '--quiet'])).err).toMatch(/"finetune.tau" is 0/);
    writeFileSync(p, 'finetune:\n  lamda: 3\n');
    expect((await cli(['run', '--config', p, '--quiet'])).err).toMatch(/unknown config field "finetune.lamda"/);
    writeFileSync(p, 'model: [1, 2\n');
    expect((await cli(['run', '--config', p, '--quiet'])).err).toMatch(/bad.yaml is not valid YAML/);
  });

  it('an empty micro dataset is an error', async () => {
    const p = join(dir, 'empty.json');
    writeFileSync(p, JSON.stringify({ ...tinyConfig, data: { kind: 'synthetic', options: { micro: { subjectsPerSource: 0 } } } }));
    const r = await cli(['run', '--config', p, '--out', join(dir, 'empty'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/subjectsPerSource|no clips/);
  });

  it('a training fold missing a class is an error naming the fold and the class', async () => {
    const p = join(dir, 'missing.json');
    // one clip per subject: holding out the only subject with a class removes it from training
    writeFileSync(p, JSON.stringify({ ...tinyConfig, data: { kind: 'synthetic', options: { micro: { sources: 1, subjectsPerSource: 3, clipsPerSubject: 2, classShares: [0.7, 0.3, 0] } } } }));
    const r = await cli(['run', '--config', p, '--out', join(dir, 'missing'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/held-out subject|class/);
  });
});
