/**
 * The page's frame-at-a-time spotter (web/src/spot-live.ts) against `spot()` of src/motion/spot.ts:
 * after every frame its result is what `spot()` gives on the frames seen so far, with the same flow.
 */
import { describe, it, expect } from 'vitest';
import { LiveSpotter } from '../../web/src/spot-live.js';
import { spot, type FlowFn } from '../../src/motion/spot.js';
import { tvl1FlowTs } from '../../src/motion/tvl1.js';
import { generateLongVideos, longVideoFrame } from '../../src/data/synthetic/long-video.js';

describe('live spotter of the demo page', () => {
  it('after each frame, gives spot() on the frames so far (intervals, score, thresholds)', () => {
    // 3 s at 15 fps, 32x32, explicit options: one micro- and one macro-expression, nothing else moving
    const v = generateLongVideos({
      seed: 2, videos: 1, seconds: 3, fps: 15, size: 32, channels: 1,
      micro: { count: 1, intensity: 0.8, intensityJitter: 0, minSeconds: 0.3, maxSeconds: 0.5 },
      macro: { count: 1, intensity: 1, intensityJitter: 0, minSeconds: 1, maxSeconds: 1.2 },
      blinksPerMinute: 0, headMovesPerMinute: 0, headAmplitude: 0.04, drift: 0, lightDrift: 0, jitter: 0, flicker: 0, noise: 1, gap: 0.3,
    }).videos[0]!;
    const frames = Array.from({ length: v.frames }, (_, t) => Float32Array.from(longVideoFrame(v, t)));
    // the flow of each pair is computed once by either side: cache it by the frames' identity
    const cache = new Map<string, { u: Float32Array; v: Float32Array }>();
    const flow: FlowFn = (a, b, w, h) => {
      const key = `${frames.indexOf(a)}>${frames.indexOf(b)}`;
      let f = cache.get(key);
      if (!f) cache.set(key, (f = tvl1FlowTs(a, b, w, h)));
      return f;
    };
    const live = new LiveSpotter(v.size, v.size, { fps: v.fps }, flow);
    let found = 0;
    for (let n = 1; n <= frames.length; n++) {
      live.push(frames[n - 1]!);
      const got = live.result();
      const want = spot(frames.slice(0, n), v.size, v.size, flow, { fps: v.fps });
      expect(got.intervals, `after ${n} frames`).toEqual(want.intervals);
      expect(Array.from(got.score)).toEqual(Array.from(want.score));
      expect(got.passes.map((p) => [p.name, p.k, p.threshold])).toEqual(want.passes.map((p) => [p.name, p.k, p.threshold]));
      found = got.intervals.length;
    }
    expect(live.frames).toBe(frames.length);
    expect(found, 'the video should give the spotter something to find').toBeGreaterThan(0);
  });

  it('refuses a frame of the wrong size, naming it', () => {
    const live = new LiveSpotter(8, 8, { fps: 30 }, () => ({ u: new Float32Array(64), v: new Float32Array(64) }));
    expect(() => live.push(new Float32Array(63))).toThrow('spot: frame 0 has 63 values, expected 8x8 = 64');
  });
});
