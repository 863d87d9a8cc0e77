/**
 * `mimanet spot score`: the interval tables it reads, its errors, and its
 * agreement with an independent Python scorer (test/spotting/megc_ref.py) on
 * seeded random interval sets.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSpotCsv } from '../../src/motion/spot-csv.js';
import { evaluateSpotting } from '../../src/motion/spot-metric.js';
import { runCli, tempDir } from '../helpers.js';
import { randomSet, setCsv } from './random-sets.js';

const root = join(import.meta.dirname, '..', '..');
const REF = join(root, 'test', 'spotting', 'megc_ref.py');

/** The JSON `spot score --json` prints as its last line. */
function lastJson(out: string): unknown {
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** The reference scorer's JSON for each (truth, pred) pair of files, in one Python run. */
function reference(pairs: Array<[string, string]>): unknown[] {
  const r = spawnSync('/usr/bin/python3', [REF, ...pairs.flat()], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`megc_ref.py failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

describe('spot interval tables', () => {
  it('read columns by name, keep other columns, skip blank lines, and read scores only for predictions', () => {
    const text = '\uFEFFKind,Video,apex,onset,offset,score\nmicro,s01,12,10,19,0.5\n\n"macro","a, b",40,30,80,0.25\n';
    expect(parseSpotCsv(text, 'p.csv', { scores: true })).toEqual([
      { video: 's01', onset: 10, offset: 19, kind: 'micro', score: 0.5, extra: { apex: '12' } },
      { video: 'a, b', onset: 30, offset: 80, kind: 'macro', score: 0.25, extra: { apex: '40' } },
    ]);
    // in a truth table a score column is just another column
    expect(parseSpotCsv(text, 't.csv')[0]).toEqual({ video: 's01', onset: 10, offset: 19, kind: 'micro', extra: { apex: '12', score: '0.5' } });
    expect(parseSpotCsv('video,onset,offset,kind\n', 'p.csv', { scores: true })).toEqual([]);
  });

  it('name the file, the line and the field of a bad row, and quote the value', () => {
    const bad = (body: string, scores = true) => () => parseSpotCsv(`video,onset,offset,kind,score\n${body}\n`, 'P.csv', { scores });
    expect(bad('v,1.5,9,micro,1')).toThrow('P.csv line 2, field onset: expected a whole frame index >= 0, got "1.5"');
    expect(bad('v,0,9,micro,1\nv,-3,9,micro,1')).toThrow('P.csv line 3, field onset: expected a whole frame index >= 0, got "-3"');
    expect(bad('v,0,x,micro,1')).toThrow('P.csv line 2, field offset: expected a whole frame index >= 0, got "x"');
    expect(bad('v,9,4,micro,1')).toThrow('P.csv line 2, field offset: 4 is before onset 9');
    expect(bad('v,0,9,Micro,1')).toThrow('P.csv line 2, field kind: expected micro or macro, got "Micro"');
    expect(bad('v,0,9,micro,high')).toThrow('P.csv line 2, field score: expected a number (the file has a score column, so every row needs one), got "high"');
    expect(bad('v,0,9,micro,')).toThrow('P.csv line 2, field score: expected a number (the file has a score column, so every row needs one), got ""');
    expect(bad(',0,9,micro,1')).toThrow('P.csv line 2, field video: expected a video name, got ""');
    expect(bad('v,0,9,micro')).toThrow('P.csv line 2: 4 fields, but the header has 5 (video,onset,offset,kind,score)');
    expect(() => parseSpotCsv('video,start,end,kind\nv,0,9,micro\n', 'T.csv')).toThrow('T.csv line 1: the header "video,start,end,kind" lacks "onset", "offset"; expected columns video,onset,offset,kind');
    expect(() => parseSpotCsv('v1,0,9,micro\n', 'T.csv')).toThrow('T.csv line 1: the header "v1,0,9,micro" lacks "video", "onset", "offset", "kind"');
    expect(() => parseSpotCsv('video,onset,offset,kind,onset\n', 'T.csv')).toThrow('T.csv line 1: column "onset" appears twice in the header');
    expect(() => parseSpotCsv('\n\n', 'T.csv')).toThrow('T.csv: empty; expected a header line video,onset,offset,kind');
  });
});

describe('mimanet spot score', () => {
  it('prints the MEGC table and, with --json, the scores as the last line', async () => {
    const dir = tempDir('spot-score');
    const t = join(dir, 't.csv');
    const p = join(dir, 'p.csv');
    writeFileSync(t, 'video,onset,offset,kind\nv1,10,19,micro\nv1,30,80,macro\nv2,5,9,micro\n');
    // [15,24] has IoU 5/15 with [10,19], [12,19] 8/10; v3 has no truth
    writeFileSync(p, 'video,onset,offset,kind,score\nv1,15,24,micro,0.9\nv1,12,19,micro,0.5\nv3,1,2,macro,0.1\n');
    const r = await runCli(['spot', 'score', '--truth', t, '--pred', p, '--json']);
    expect(r.code).toBe(0);
    expect(lastJson(r.out)).toEqual({
      micro: { tp: 1, fp: 1, fn: 1, precision: 0.5, recall: 0.5, f1: 0.5 },
      macro: { tp: 0, fp: 1, fn: 1, precision: 0, recall: 0, f1: 0 },
      overall: { tp: 1, fp: 2, fn: 2, precision: 1 / 3, recall: 1 / 3, f1: 1 / 3 },
    });
    expect(r.out).toContain('overall      1     2     2     0.3333  0.3333  0.3333');
    expect(r.err).toContain('note: 1 prediction(s) in 1 video(s) without ground truth ("v3"): counted as false positives');
    // without --json the table only
    const plain = await runCli(['spot', 'score', '--truth', t, '--pred', p]);
    expect(plain.out.trim().split('\n').pop()).toMatch(/^overall/);
  });

  it('reports a missing file or a bad row on one line, naming the file', async () => {
    const dir = tempDir('spot-score-bad');
    const t = join(dir, 't.csv');
    writeFileSync(t, 'video,onset,offset,kind\nv1,10,19,micro\n');
    const missing = await runCli(['spot', 'score', '--truth', t, '--pred', join(dir, 'nope.csv')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe(`mimanet: error: option --pred: cannot read ${join(dir, 'nope.csv')} (ENOENT)\n`);
    const p = join(dir, 'p.csv');
    writeFileSync(p, 'video,onset,offset,kind\nv1,10,19,micro\nv1,12,9,micro\n');
    const bad = await runCli(['spot', 'score', '--truth', t, '--pred', p]);
    expect(bad.code).toBe(1);
    expect(bad.err).toBe(`mimanet: error: ${p} line 3, field offset: 9 is before onset 12\n`);
  });

  it('agrees exactly with an independent implementation of the MEGC metric on 400 random interval sets', async () => {
    const dir = tempDir('spot-random');
    const pairs: Array<[string, string]> = [];
    const ours: unknown[] = [];
    // how often the sets hit the rules that distinguish scorers
    const seen = { exactHalf: 0, bestTaken: 0, iouTies: 0, scoreTies: 0, unscored: 0, strayVideo: 0, otherKind: 0, overlappingTruths: 0 };
    for (let seed = 0; seed < 400; seed++) {
      const set = randomSet(seed);
      const csv = setCsv(set);
      const t = join(dir, `t${seed}.csv`);
      const p = join(dir, `p${seed}.csv`);
      writeFileSync(t, csv.truth);
      writeFileSync(p, csv.pred);
      pairs.push([t, p]);
      const r = await runCli(['spot', 'score', '--truth', t, '--pred', p, '--json']);
      expect(r.code, r.err).toBe(0);
      ours.push(lastJson(r.out));

      const e = evaluateSpotting(set.truths, set.predictions);
      const same = (a: { video: string; kind: string }, b: { video: string; kind: string }) => a.video === b.video && a.kind === b.kind;
      set.predictions.forEach((pred, i) => {
        const m = e.matches[i];
        if (m.truth >= 0 && m.iou === 0.5) seen.exactHalf++;
        if (m.truth < 0 && m.iou >= 0.5) seen.bestTaken++;
        const ious = set.truths.filter((x) => same(x, pred)).map((x) => Math.max(0, Math.min(x.offset, pred.offset) - Math.max(x.onset, pred.onset) + 1) / (x.offset - x.onset + 1 + pred.offset - pred.onset + 1 - Math.max(0, Math.min(x.offset, pred.offset) - Math.max(x.onset, pred.onset) + 1)));
        if (ious.filter((v) => v >= 0.5 && v === Math.max(...ious)).length > 1) seen.iouTies++;
        if (set.scored && set.predictions.some((q, j) => j !== i && same(q, pred) && q.score === pred.score)) seen.scoreTies++;
        if (!set.truths.some((x) => x.video === pred.video)) seen.strayVideo++;
        if (!set.truths.some((x) => same(x, pred)) && set.truths.some((x) => x.video === pred.video)) seen.otherKind++;
      });
      if (!set.scored && set.predictions.length > 1) seen.unscored++;
      set.truths.forEach((a, i) => set.truths.forEach((b, j) => j > i && same(a, b) && a.onset <= b.offset && b.onset <= a.offset && seen.overlappingTruths++));
    }
    const ref = reference(pairs);
    expect(ref).toHaveLength(400);
    for (let k = 0; k < ours.length; k++) expect(ours[k], `set ${k}: ${pairs[k].join(' ')}`).toEqual(ref[k]);
    // the sets do exercise every rule
    for (const [what, n] of Object.entries(seen)) expect(n, what).toBeGreaterThanOrEqual(10);
  });

  it('the command line run as a process gives the reference scores', () => {
    const dir = tempDir('spot-process');
    const set = randomSet(9001);
    const csv = setCsv(set);
    const t = join(dir, 't.csv');
    const p = join(dir, 'p.csv');
    writeFileSync(t, csv.truth);
    writeFileSync(p, csv.pred);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'test', 'mimanet-bin.ts'), 'spot', 'score', '--truth', t, '--pred', p, '--json'], { encoding: 'utf8', cwd: root });
    expect(r.status, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toEqual(reference([[t, p]])[0]);
    expect((lastJson(r.stdout) as { overall: { tp: number } }).overall.tp).toBeGreaterThan(0);
  });
});
