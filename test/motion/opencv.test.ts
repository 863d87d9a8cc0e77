/**
 * TV-L1 against an independent implementation: OpenCV's DualTVL1 (cv2.optflow, Debian's
 * python3-opencv) on textured pairs with known motion. Optional: without a Python that imports
 * cv2.optflow the file skips with one line; MIMANET_REQUIRE_OPENCV=1 (set by .ci/run, which installs
 * python3-opencv) makes it fail instead. MIMANET_OPENCV_PYTHON names the interpreter (default
 * /usr/bin/python3, then python3).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { opticalFlow } from '../../src/motion/flow.js';
import { decodeFlo } from '../../src/motion/flo.js';
import { endpointErrors, knownMotionPair, median, standardPairs } from '../../src/motion/pairs.js';
import { tempDir } from '../helpers.js';

const REQUIRED = process.env.MIMANET_REQUIRE_OPENCV === '1';

/** The first interpreter that imports cv2 with its optflow module, or undefined. */
function opencvPython(): string | undefined {
  const candidates = [process.env.MIMANET_OPENCV_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  return candidates.find((py) => spawnSync(py, ['-c', 'import cv2; cv2.optflow.DualTVL1OpticalFlow_create()'], { stdio: 'ignore' }).status === 0);
}

const python = opencvPython();
if (!python) {
  if (REQUIRED) throw new Error('MIMANET_REQUIRE_OPENCV=1, but no Python imports cv2.optflow: install python3-opencv (apt-get install -y python3-opencv) or set MIMANET_OPENCV_PYTHON');
  console.warn('OpenCV cross-check of TV-L1 skipped: no Python with cv2.optflow (apt-get install -y python3-opencv); MIMANET_REQUIRE_OPENCV=1 requires it');
}

describe.skipIf(!python)('TV-L1 against OpenCV DualTVL1 (same default parameters)', () => {
  it('median endpoint error at most 1.1x OpenCV\'s + 0.01 px on every pair: translations, rotations, zooms, mouth-corner bumps', async () => {
    const dir = tempDir('flow-opencv');
    const pairs = standardPairs().map((p) => ({ ...p, pair: knownMotionPair(p.motion, p.seed) }));
    const lines: string[] = [];
    for (const [k, { pair }] of pairs.entries()) {
      const raw = { raw: { width: pair.width, height: pair.height, channels: 1 as const } };
      await sharp(pair.i0, raw).png().toFile(join(dir, `${k}-a.png`));
      await sharp(pair.i1, raw).png().toFile(join(dir, `${k}-b.png`));
      lines.push(`${join(dir, `${k}-a.png`)} ${join(dir, `${k}-b.png`)} ${join(dir, `${k}.flo`)}`);
    }
    writeFileSync(join(dir, 'pairs.txt'), lines.join('\n') + '\n');
    const r = spawnSync(python!, ['bench/tvl1_ref.py', '--pairs', join(dir, 'pairs.txt'), '--threads', '1'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (const [k, { name, pair }] of pairs.entries()) {
      const cv = decodeFlo(readFileSync(join(dir, `${k}.flo`)), `${k}.flo`);
      const f = opticalFlow(pair.i0, pair.i1, pair.width, pair.height);
      const a = median(endpointErrors(f, pair.truth));
      const b = median(endpointErrors(cv, pair.truth));
      ours.push(a);
      theirs.push(b);
      expect(a, `${name}: mimanet ${a.toFixed(4)} px, OpenCV ${b.toFixed(4)} px`).toBeLessThanOrEqual(1.1 * b + 0.01);
      // OpenCV finds the motion too (the pairs are fair to both)
      expect(b, name).toBeLessThan(0.1);
    }
    expect(median(ours)).toBeLessThanOrEqual(1.1 * median(theirs) + 0.01);
  });
});
