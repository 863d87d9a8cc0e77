/**
 * The long-video readers (CAS(ME)^2 and SAMM Long Videos) on miniature trees:
 * every video with its frames in order, intervals in the annotation's frame
 * numbers, and each quirk as a problem line; and `data inspect` on them.
 */
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intervalKind, readCasme2Lv, readLongVideos, readSammLv } from '../../src/data/datasets/long-videos.js';
import type { Problem } from '../../src/data/datasets/types.js';
import { runCli as cli } from '../helpers.js';
import { casme2LvTree, patternFrames, removeTrees, sammLvTree, writeWorkbook } from './fixtures.js';

afterAll(removeTrees);

const problemsOf = (ps: Problem[], row: number): Problem[] => ps.filter((p) => p.row === row);

describe('CAS(ME)^2 long videos (casme2-lv)', () => {
  let root = '';
  beforeAll(async () => {
    root = await casme2LvTree(
      'lv-casme2',
      [
        { subject: 15, code: '0101', name: 'disgustingteeth', frames: 40 },
        { subject: 15, code: '0502', name: 'funnyerrors', frames: 30, drop: [12, 13] },
        { subject: 16, code: '0101', name: 'disgustingteeth', frames: 20 },
      ],
      [
        [1, 'disgustingteeth_1', 5, 8, 12, '4+10', 'disgust', 'micro-expression', 'disgust'],
        [1, 'disgustingteeth_2', 20, 24, 35, '12', 'happiness', 'macro-expression', 'happy'],
        [1, 'funnyerrors_1', 3, 4, 0, '6+12', 'happiness', 'macro-expression', 'happy'], // offset not coded
        [1, 'funnyerrors_2', 10, 30, 15, '1', 'surprise', 'micro-expression', null], // apex outside
        [2, 'disgustingteeth_1', 15, 16, 25, '4', 'disgust', 'macro-expression', null], // past the last frame
        [2, 'disgustingteeth_1', 9, 8, 6, '4', 'disgust', 'micro-expression', null], // offset before onset
        [2, 'disgustingteeth_3', 2, 3, 4, '4', 'disgust', 'blink', null], // unknown type
        [1, 'disgustingteeth_1', 5, 8, 12, '4+10', 'disgust', 'micro-expression', 'disgust'], // duplicate of row 1
        [3, 'disgustingteeth_1', 2, 3, 4, '4', 'disgust', 'micro-expression', null], // participant 3 unknown
        [1, 'climbingthewall_1', 2, 3, 4, '4', 'disgust', 'micro-expression', null], // video not in the naming sheet
      ],
      { 1: 15, 2: 16 },
    );
  });

  it('lists every video folder with its frames and numbers, and the intervals in annotation frame numbers', async () => {
    const set = await readCasme2Lv(root);
    expect([set.name, set.fps]).toEqual(['casme2-lv', 30]);
    expect(set.videos.map((v) => [v.id, v.subject, v.dataset, v.fps, v.frames.length])).toEqual([
      ['15_0101disgustingteeth', 's15', 'casme2-lv', 30, 40],
      ['15_0502funnyerrors', 's15', 'casme2-lv', 30, 28],
      ['16_0101disgustingteeth', 's16', 'casme2-lv', 30, 20],
    ]);
    const v = set.videos[1]!;
    expect(v.frameNumbers.slice(9, 13)).toEqual([10, 11, 14, 15]);
    expect(v.frames.slice(9, 13).map((p) => basename(p))).toEqual(['img10.jpg', 'img11.jpg', 'img14.jpg', 'img15.jpg']);
    expect(set.videos[0]!.intervals).toEqual([
      { onset: 5, apex: 8, offset: 12, kind: 'micro', label: 'disgust', aus: '4+10', row: 1 },
      { onset: 20, apex: 24, offset: 35, kind: 'macro', label: 'happiness', aus: '12', row: 2 },
    ]);
    expect(v.intervals).toEqual([
      { onset: 3, apex: 4, offset: 4, kind: 'macro', label: 'happiness', aus: '6+12', row: 3 },
      { onset: 10, apex: 12, offset: 15, kind: 'micro', label: 'surprise', aus: '1', row: 4 },
    ]);
    expect(set.videos[2]!.intervals).toEqual([]);
  });

  it('reports each quirk with its row and video', async () => {
    const { problems } = await readLongVideos('casme2-lv', root);
    expect(problems.every((p) => p.dataset === 'casme2-lv')).toBe(true);
    expect(problemsOf(problems, 3)).toMatchObject([{ kind: 'note', clip: '15_0502funnyerrors', problem: 'offset 0 is not coded; the interval ends at its apex, frame 4' }]);
    expect(problemsOf(problems, 4)).toMatchObject([{ kind: 'note', problem: 'apex 30 is outside onset 10 .. offset 15; using the middle, frame 12' }]);
    expect(problemsOf(problems, 5)).toMatchObject([{ kind: 'error', clip: '16_0101disgustingteeth', problem: "interval 15 .. 25 reaches outside the video's frames 1 .. 20" }]);
    expect(problemsOf(problems, 6)).toMatchObject([{ kind: 'error', problem: 'offset 6 is before onset 9' }]);
    expect(problemsOf(problems, 7)[0]!.problem).toBe('unknown expression type "blink"; expected micro (e.g. "micro-expression", "Micro - 1/2") or macro');
    expect(problemsOf(problems, 8)).toMatchObject([{ kind: 'error', problem: 'the same micro interval 5 .. 12 is in row 1; this row is ignored' }]);
    expect(problemsOf(problems, 9)[0]!.problem).toBe('participant 3 is not in the subject sheet "naming_subject"');
    expect(problemsOf(problems, 10)[0]!.problem).toBe('video "climbingthewall_1": "climbingthewall" is not in the video sheet "naming_video"');
    const videoNotes = problems.filter((p) => p.row === undefined).map((p) => [p.kind, p.clip, p.problem]);
    expect(videoNotes).toEqual([
      ['note', '15_0502funnyerrors', 'frame numbers 12-13 have no file; frames are listed as found'],
      ['note', '16_0101disgustingteeth', 'no annotated interval (a video without expressions, or every row of it has an error)'],
    ]);
    expect(problems).toHaveLength(10);
  });

  it('a missing video folder, and a workbook without its naming sheets', async () => {
    const root2 = await casme2LvTree('lv-casme2-b', [{ subject: 15, code: '0101', name: 'disgustingteeth', frames: 5 }], [[1, 'funnyerrors_1', 1, 2, 3, '4', 'happiness', 'micro-expression', null]], { 1: 15 });
    await writeWorkbook(join(root2, 'code_final.xlsx'), {
      code_final: [[1, 'funnyerrors_1', 1, 2, 3, '4', 'happiness', 'micro-expression', null]],
      naming_subject: [[1, 's15', 1]],
      naming_video: [['0101', 'disgustingteeth'], ['0502', 'funnyerrors']],
    });
    const { problems } = await readCasme2Lv(root2);
    expect(problems[0]).toMatchObject({ kind: 'error', row: 1, problem: `video folder ${join(root2, 'rawpic', 's15', '<n>_0502funnyerrors')} not found` });
    await writeWorkbook(join(root2, 'code_final.xlsx'), { code_final: [[1, 'x', 1, 2, 3]] });
    await expect(readCasme2Lv(root2)).rejects.toThrow(/code_final\.xlsx: expected 3 worksheets \(expressions; participant -> subject; video code -> video name\), found 1$/);
  });
});

describe('SAMM Long Videos (samm-lv)', () => {
  it('finds the header after the title rows, takes the video from the first two fields of Filename, and reports each quirk', async () => {
    const root = await sammLvTree('lv-samm', { '006_1': 60, '006_2': 30, '007_5': 20 }, [
      ['006', '006_1_1', 1, 10, 12, 15, 6, 'Micro - 1/2', 'R14A', ''],
      ['006', '006_1_2', 1, 20, null, 50, 31, 'Macro', '12', 'apex not coded'],
      [6, '006_2_1', 2, 0, 100, 400, 401, 'Macro', '4', ''], // starts before the first frame
      ['007', '007_5_1', 3, 2, 5, 9, 8, 'Mikro', '1', ''], // unknown type
      ['008', '008_1_1', 3, 2, 5, 9, 8, 'Micro - 1/2', '1', ''], // no video folder
      ['006', 'badname', 3, 2, 5, 9, 8, 'Micro - 1/2', '1', ''],
    ]);
    const set = await readSammLv(root);
    expect([set.name, set.fps]).toEqual(['samm-lv', 200]);
    expect(set.videos.map((v) => [v.id, v.subject, v.frames.length, v.frameNumbers[0], v.frameNumbers.at(-1)])).toEqual([
      ['006_1', '006', 60, 1, 60],
      ['006_2', '006', 30, 1, 30],
      ['007_5', '007', 20, 1, 20],
    ]);
    expect(basename(set.videos[0]!.frames[0]!)).toBe('006_1_0001.jpg');
    const header = 10; // nine title rows, then the header row
    expect(set.videos[0]!.intervals).toEqual([
      { onset: 10, apex: 12, offset: 15, kind: 'micro', aus: 'R14A', row: header + 1 },
      { onset: 20, apex: 35, offset: 50, kind: 'macro', aus: '12', row: header + 2 },
    ]);
    const lines = set.problems.map((p) => [p.kind, p.clip, p.row, p.problem]);
    // rows that name no video folder are reported while reading, the others once the videos are listed
    expect(lines).toEqual([
      ['error', '008_1', header + 5, `video folder ${join(root, 'SAMM_longvideos', '008_1')} not found`],
      ['error', undefined, header + 6, 'Filename "badname" does not start with <subject>_<video>'],
      ['note', '006_1', header + 2, 'apex is empty (no apex); using the middle, frame 35'],
      ['error', '006_2', header + 3, "interval 0 .. 400 reaches outside the video's frames 1 .. 30"],
      ['error', '007_5', header + 4, 'unknown expression type "Mikro"; expected micro (e.g. "micro-expression", "Micro - 1/2") or macro'],
      ['note', '006_2', undefined, 'no annotated interval (a video without expressions, or every row of it has an error)'],
      ['note', '007_5', undefined, 'no annotated interval (a video without expressions, or every row of it has an error)'],
    ]);
  });

  it('reads the kind of an interval from the Type cell', () => {
    expect(['micro-expression', 'Micro - 1/2', 'Micro', 'macro-expression', 'Macro', 'MACRO', 'blink', null].map((c) => intervalKind(c))).toEqual([
      'micro',
      'micro',
      'micro',
      'macro',
      'macro',
      'macro',
      null,
      null,
    ]);
  });
});

describe('data inspect on long videos', () => {
  it('lists videos, interval counts per kind and the problems', async () => {
    const root = await sammLvTree('lv-cli', { '011_3': 20 }, [
      ['011', '011_3_1', 1, 2, 4, 6, 5, 'Micro - 1/2', '4', ''],
      ['011', '011_3_2', 1, 8, 10, 18, 11, 'Macro', '12', ''],
      ['011', '011_3_3', 1, 9, 10, 40, 32, 'Macro', '12', ''],
    ]);
    await patternFrames(join(root, 'SAMM_longvideos', '011_4'), (k) => `011_4_${k}.jpg`, [1, 2]);
    const text = await cli(['data', 'inspect', '--dataset', 'samm-lv', '--root', root]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^samm-lv: 2 videos from 1 subjects at 200 fps; intervals: micro 1, macro 1\n {2}011_3 \(011\): 20 frames 1\.\.20; micro 1, macro 1\n {2}011_4 \(011\): 2 frames 1\.\.2; micro 0, macro 0\nproblems: 1 error\(s\)/);
    expect(text.out).toContain("[error] samm-lv (clip 011_3, row 13, ");
    const json = JSON.parse((await cli(['data', 'inspect', '--dataset', 'samm-lv', '--root', `samm-lv=${root}`, '--json'])).out);
    expect(json.intervals).toEqual({ micro: 1, macro: 1 });
    expect(json.counts).toEqual({ error: 1, excluded: 0, note: 1 });
    const prep = await cli(['data', 'prepare', '--dataset', 'samm-lv', '--root', root]);
    expect(prep.code).toBe(1);
    expect(prep.err).toMatch(/option --dataset: samm-lv is a long-video dataset for spotting; `data inspect` lists its videos and intervals, but it has no clips to prepare/);
  });
});
