import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeFlo } from '../../src/motion/flo.js';
import { opticalFlow } from '../../src/motion/flow.js';
import { knownMotionPair } from '../../src/motion/pairs.js';
import { runCli, tempDir } from '../helpers.js';

const python = ['/usr/bin/python3', 'python3'].find((py) => spawnSync(py, ['-c', 'import cv2'], { stdio: 'ignore' }).status === 0);
if (!python) {
  if (process.env.MIMANET_REQUIRE_OPENCV === '1') throw new Error('MIMANET_REQUIRE_OPENCV=1, but no Python imports cv2: install python3-opencv (apt-get install -y python3-opencv)');
  console.warn('mimanet flow: the cv2.readOpticalFlow check is skipped (no Python with cv2; apt-get install -y python3-opencv); MIMANET_REQUIRE_OPENCV=1 requires it');
}

let dir: string;
const pair = knownMotionPair({ kind: 'rotation', degrees: 2 }, 21, 64, 48);

beforeAll(async () => {
  dir = tempDir('flow-cli');
  const raw = { raw: { width: 64, height: 48, channels: 1 as const } };
  await sharp(pair.i0, raw).png().toFile(join(dir, 'a.png'));
  await sharp(pair.i1, raw).png().toFile(join(dir, 'b.png'));
  // the same second image as JPEG (lossy) of another size, for the size check
  await sharp(pair.i1, raw).resize(60, 48).jpeg().toFile(join(dir, 'c.jpg'));
});

describe('mimanet flow', () => {
  it('writes the .flo of one pair, the flow of opticalFlow on the decoded grey images, and its colour-wheel PNG', async () => {
    const out = join(dir, 'one.flo');
    const r = await runCli(['flow', join(dir, 'a.png'), join(dir, 'b.png'), '--out', out, '--png']);
    expect(r.code, r.err).toBe(0);
    const f = decodeFlo(readFileSync(out), out);
    const want = opticalFlow(pair.i0, pair.i1, 64, 48);
    expect(Array.from(f.u)).toEqual(Array.from(want.u));
    expect(Array.from(f.v)).toEqual(Array.from(want.v));
    const png = await sharp(join(dir, 'one.png')).metadata();
    expect([png.width, png.height, png.channels]).toEqual([64, 48, 3]);
  });

  it.skipIf(!python)('writes files that OpenCV\'s readOpticalFlow reads as the same flow', () => {
    const out = join(dir, 'one.flo');
    const r = spawnSync(python!, ['-c', `import cv2, json; f = cv2.readOpticalFlow(${JSON.stringify(out)}); print(json.dumps([list(f.shape), float(f[10, 20, 0]), float(f[10, 20, 1])]))`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const [shape, u, v] = JSON.parse(r.stdout);
    const f = decodeFlo(readFileSync(out));
    expect(shape).toEqual([48, 64, 2]);
    expect(u).toBe(f.u[10 * 64 + 20]);
    expect(v).toBe(f.v[10 * 64 + 20]);
  });

  it('--pairs LIST --threads N --json: every pair in order, and {"pairs": [{"out", "ms"}]} as the last line', async () => {
    const list = join(dir, 'list.txt');
    writeFileSync(list, `# onset apex out\n${join(dir, 'a.png')} ${join(dir, 'b.png')} ${join(dir, 'p1.flo')}\n\n${join(dir, 'b.png')} ${join(dir, 'a.png')} ${join(dir, 'p2.flo')}\n`);
    const r = await runCli(['flow', '--pairs', list, '--threads', '2', '--json']);
    expect(r.code, r.err).toBe(0);
    const last = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(last.pairs.map((p: { out: string }) => p.out)).toEqual([join(dir, 'p1.flo'), join(dir, 'p2.flo')]);
    for (const p of last.pairs) expect(p.ms).toBeGreaterThan(0);
    // the same flow for 2 threads as for 1, and the reverse pair moves the other way
    expect(readFileSync(join(dir, 'p1.flo'))).toEqual(readFileSync(join(dir, 'one.flo')));
    const back = decodeFlo(readFileSync(join(dir, 'p2.flo')));
    expect(back.u[24 * 64 + 50]).toBeCloseTo(-decodeFlo(readFileSync(join(dir, 'p1.flo'))).u[24 * 64 + 50], 1);
    expect(existsSync(join(dir, 'p1.png'))).toBe(false);
  });

  it('refuses bad input with one line naming the file, line or option', async () => {
    const a = join(dir, 'a.png');
    const b = join(dir, 'b.png');
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, `${a} ${b} ${join(dir, 'x.flo')}\n${a} ${b}\n`);
    const cases: Array<[string[], string]> = [
      [['flow', a, b], 'option --out OUT.flo is missing'],
      [['flow', a, b, '--out', join(dir, 'x.png')], `option --out is "${join(dir, 'x.png')}": expected a .flo file`],
      [['flow', '--pairs', bad], `${bad}, line 2: expected "ONSET APEX OUT.flo", got "${a} ${b}"`],
      [['flow', '--pairs', join(dir, 'none.txt')], `--pairs ${join(dir, 'none.txt')}: cannot read the file (ENOENT)`],
      [['flow', a, join(dir, 'c.jpg'), '--out', join(dir, 'x.flo')], `${join(dir, 'c.jpg')}: 60x48, but ${a} is 64x48; a pair needs images of one size`],
      [['flow', a, join(dir, 'missing.png'), '--out', join(dir, 'x.flo')], join(dir, 'missing.png')],
      [['flow', a, b, '--out', join(dir, 'x.flo'), '--param', 'tau=0.5'], 'option --param: tau is 0.5, expected a number in (0, 0.25]'],
      [['flow', a, b, '--out', join(dir, 'x.flo'), '--param', 'lamda=0.1'], 'option --param lamda=0.1: unknown parameter "lamda"'],
      [['flow', a, b, '--out', join(dir, 'x.flo'), '--threads', '0'], 'option --threads is "0": expected an integer from 1 to 256'],
    ];
    for (const [args, msg] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toContain(msg);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('mimanet bench --flow', () => {
  it('times the known-motion pairs in process and prints the median time per pair', async () => {
    const r = await runCli(['bench', '--flow', '--rounds', '1', '--size', '64']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out.trim());
    expect(j).toMatchObject({ size: 64, threads: 1, pairs: 8, rounds: 1 });
    expect(j.medianMs).toBeGreaterThan(0);
  });
});
