/**
 * Many clips in one `mimanet predict`: a folder of 50 clips exported by
 * `mimanet data synthetic`, a list file, CSV and JSON. Each row is checked
 * against the single-clip command on the same clip.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/backend/index.js';
import { parseCsv } from '../src/results/csv.js';
import { clipPath, saveClipSet } from '../src/data/cache.js';
import { randomClipSet, runCli, tempDir } from './helpers.js';
import { saveTinyCheckpoint } from './tiny-checkpoint.js';

const LABELS = ['negative', 'positive', 'surprise'];
const root = tempDir('batch');
const model = join(root, 'model');
const clips = join(root, 'clips');

beforeAll(async () => {
  await initBackend('wasm');
  // the quick preset's geometry (T = 8), which `data synthetic` exports
  await saveTinyCheckpoint(model, { frames: 8, labels: LABELS, seed: 11 });
  const r = await runCli(['data', 'synthetic', '--out', clips, '--count', '50', '--set', 'micro']);
  expect(r.code, r.err).toBe(0);
});

describe('mimanet data synthetic', () => {
  it('names each clip by its folder in labels.csv and clip.json, and takes clips from every subject and source', async () => {
    const rows = parseCsv(readFileSync(join(clips, 'micro', 'labels.csv'), 'utf8')).slice(1);
    expect(rows).toHaveLength(50);
    const folders = readdirSync(join(clips, 'micro')).filter((n) => n !== 'labels.csv');
    expect(rows.map((r) => r[0]).sort()).toEqual(folders.sort());
    for (const [clip, subject, source, label] of rows.slice(0, 5)) {
      expect(JSON.parse(readFileSync(join(clips, 'micro', clip, 'clip.json'), 'utf8'))).toEqual({ clip, onset: 0, apex: 7, label, subject, source });
    }
    // 50 clips of the quick preset's 15 subjects (5 per source): every subject, 3 or 4 clips each
    const perSubject = new Map<string, number>();
    for (const r of rows) perSubject.set(r[1], (perSubject.get(r[1]) ?? 0) + 1);
    expect(perSubject.size).toBe(15);
    expect(Math.min(...perSubject.values())).toBe(3);
    expect(Math.max(...perSubject.values())).toBe(4);
    // and the first 10 from 10 subjects of the three sources
    const ten = await runCli(['data', 'synthetic', '--out', join(root, 'ten'), '--count', '10', '--set', 'micro']);
    expect(ten.code).toBe(0);
    const first = parseCsv(readFileSync(join(root, 'ten', 'micro', 'labels.csv'), 'utf8')).slice(1);
    expect(new Set(first.map((r) => r[1])).size).toBe(10);
    expect(new Set(first.map((r) => r[2]))).toEqual(new Set(['synth-smic', 'synth-casme2', 'synth-samm']));
  });
});

describe('mimanet predict over many clips', () => {
  it('scores a folder of 50 clips in one process, as CSV (file) and JSON (stdout); each row is what predict gives for that clip alone', async () => {
    const out = join(root, 'predictions.csv');
    const r = await runCli(['predict', '--backend', 'wasm', '--model', model, '--clips', join(clips, 'micro'), '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^50 of 50 clips scored in \d+\.\d s: .*predictions\.csv\n$/);
    const [header, ...rows] = parseCsv(readFileSync(out, 'utf8'));
    expect(header).toEqual(['clip', 'label', ...LABELS, 'onset', 'apex', 'adjusted', 'error']);
    expect(rows).toHaveLength(50);
    const labelsCsv = parseCsv(readFileSync(join(clips, 'micro', 'labels.csv'), 'utf8')).slice(1);
    expect(rows.map((x) => x[0]).sort()).toEqual(labelsCsv.map((x) => x[0]).sort());
    for (const row of rows) {
      const probs = row.slice(2, 5).map(Number);
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(row[1]).toBe(LABELS[probs.indexOf(Math.max(...probs))]);
      expect(row.slice(5)).toEqual(['0', '7', '', '']);
    }
    const json = await runCli(['predict', '--backend', 'wasm', '--model', model, '--clips', join(clips, 'micro'), '--json']);
    expect(json.code).toBe(0);
    const all = JSON.parse(json.out) as Array<{ clip: string; probabilities: Record<string, number> }>;
    expect(all).toHaveLength(50);
    for (const k of [0, 17, 49]) {
      const one = await runCli(['predict', '--backend', 'wasm', '--model', model, join(clips, 'micro', all[k].clip), '--json']);
      expect(JSON.parse(one.out).probabilities).toEqual(all[k].probabilities);
      expect(rows.find((x) => x[0] === all[k].clip)!.slice(2, 5).map(Number)).toEqual(LABELS.map((l) => Number(all[k].probabilities[l].toFixed(6))));
    }
  });

  it('a list file and a clip cache: paths relative to the list, comments passed over, a bad clip named in its row and the exit code', async () => {
    const folders = readdirSync(join(clips, 'micro')).filter((n) => n !== 'labels.csv').slice(0, 2);
    const list = join(clips, 'list.txt');
    writeFileSync(list, `# two clips and one that is not there\nmicro/${folders[0]}\n\nmicro/${folders[1]}\nmicro/missing\n`);
    const r = await runCli(['predict', '--backend', 'wasm', '--model', model, '--list', list]);
    expect(r.code).toBe(1);
    const [, ...rows] = parseCsv(r.out);
    expect(rows.map((x) => x[0])).toEqual([`micro/${folders[0]}`, `micro/${folders[1]}`, 'micro/missing']);
    expect(rows[2].slice(1)).toEqual(['', '', '', '', '', '', '', `${join(clips, 'micro', 'missing')}: no such file or folder`]);
    expect(r.err).toContain(`mimanet: error: micro/missing: ${join(clips, 'micro', 'missing')}: no such file or folder\n`);
    expect(r.err).toMatch(/mimanet: error: 1 of 3 clips could not be scored \(their error is in the error field\)\n$/);

    const cache = join(root, 'cache');
    saveClipSet(cache, randomClipSet({ name: 'toy', clips: 3, classes: 3, subjects: 2, T: 8, size: 32 }));
    const c = await runCli(['predict', '--backend', 'wasm', '--model', model, '--clips', cache, '--json']);
    expect(c.code, c.err).toBe(0);
    const got = JSON.parse(c.out) as Array<{ clip: string; probabilities: Record<string, number> }>;
    expect(got.map((x) => x.clip)).toEqual(['toy/clip0', 'toy/clip1', 'toy/clip2']);
    const alone = await runCli(['predict', '--backend', 'wasm', '--model', model, clipPath(cache, 'toy/clip2'), '--json']);
    expect(JSON.parse(alone.out).probabilities).toEqual(got[2].probabilities);
  });

  it('refuses flags that apply to one clip only, and an output file that is neither .csv nor .json', async () => {
    const dir = join(clips, 'micro');
    const onset = await runCli(['predict', '--model', model, '--clips', dir, '--onset', '1']);
    expect(onset.err).toMatch(/^mimanet: error: --onset, --apex and --clip apply to one clip/);
    const ext = await runCli(['predict', '--model', model, '--clips', dir, '--out', join(root, 'p.txt')]);
    expect(ext.err).toBe(`mimanet: error: --out ${join(root, 'p.txt')}: expected a .csv or .json file\n`);
    const none = await runCli(['predict', '--model', model]);
    expect(none.err).toBe('mimanet: error: no clip given: name a clip, or several with --clips DIR or --list FILE\n');
    const empty = await runCli(['predict', '--model', model, '--clips', root]);
    expect(empty.err).toMatch(/--clips .*: no clips here/);
  });
});
