/** The spotter's passes with their flows on worker threads are those of one thread, bit for bit. */
import { describe, it, expect } from 'vitest';
import { generateLongVideos, longVideoFrame } from '../src/data/synthetic/long-video.js';
import { opticalFlow } from '../src/motion/flow.js';
import { resolveSpotOptions, spotFromPasses, spotPasses } from '../src/motion/spot.js';
import { spotPassesParallel } from '../src/motion/spot-parallel.js';
import { runCli } from './helpers.js';

describe('spotPassesParallel', () => {
  it('gives the passes and intervals of spotPasses with the one-thread flow, for 1, 2 and 3 workers', async () => {
    const { videos } = generateLongVideos({ videos: 1, seconds: 10, size: 32, seed: 5, micro: { count: 2 }, macro: { count: 1 } });
    const v = videos[0];
    const frames = Array.from({ length: v.frames }, (_, t) => Float32Array.from(longVideoFrame(v, t)));
    const options = resolveSpotOptions({ fps: v.fps });
    const one = spotPasses(frames, 32, 32, (a, b, w, h) => opticalFlow(a, b, w, h, {}, { threads: 1 }), options);
    const expected = spotFromPasses(one, options).intervals;
    expect(one[0].contrast.some((c) => c > 0)).toBe(true);
    expect(expected.length).toBeGreaterThan(0);
    for (const workers of [1, 2, 3]) {
      let ticks = 0;
      const passes = await spotPassesParallel(frames, 32, 32, options, workers, (n) => (ticks += n));
      expect(passes.map((p) => [p.name, p.k])).toEqual(one.map((p) => [p.name, p.k]));
      passes.forEach((p, i) => {
        expect(Array.from(p.difference), `${workers} workers, ${p.name} difference`).toEqual(Array.from(one[i].difference));
        expect(Array.from(p.contrast), `${workers} workers, ${p.name} contrast`).toEqual(Array.from(one[i].contrast));
      });
      expect(spotFromPasses(passes, options).intervals).toEqual(expected);
      // one tick per flow: frames - k of each pass
      expect(ticks).toBe(2 * v.frames - one[0].k - one[1].k);
    }
  }, 120_000);

  it('refuses a bad worker count and a frame of the wrong size, quoting the value', async () => {
    const frames = [new Float32Array(16), new Float32Array(15)];
    await expect(spotPassesParallel(frames, 4, 4, { fps: 30 }, 0)).rejects.toThrow('spot: workers is 0, expected an integer from 1 to 256');
    await expect(spotPassesParallel(frames, 4, 4, { fps: 30 }, 2)).rejects.toThrow('spot: frame 1 has 15 values, expected 4x4 = 16');
  });
});

describe('mimanet bench --spot', () => {
  it('spots a generated long video --rounds times and reports each round, the median and the video seconds per wall second', async () => {
    const r = await runCli(['bench', '--spot', '--seconds', '15', '--size', '32', '--rounds', '2', '--threads', '2', '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out.trim().split('\n').pop()!);
    // 450 frames; the passes' half-windows at 30 fps are 5 and 15 frames: 445 + 435 flows
    expect(j.args).toEqual({ seconds: 15, fps: 30, size: 32, threads: 2, rounds: 2, frames: 450, flows: 880 });
    expect(j.rounds).toHaveLength(2);
    expect(j.wallS.median).toBe((j.rounds[0].wallS + j.rounds[1].wallS) / 2);
    expect(j.realtime).toBeCloseTo(15 / j.wallS.median, 9);
    expect(j.intervals).toBeGreaterThan(0);
    const bad = await runCli(['bench', '--spot', '--seconds', 'long']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('option --seconds is "long": expected a positive number of seconds');
  }, 240_000);
});
