/**
 * `mimanet spot` one frame at a time, for the page. No DOM, so a worker (and Node) can run it.
 *
 * The spotter's costly part is each pass's motion m[j], the flow from frame j - k to frame j;
 * it depends on those two frames only, so it is computed once, when frame j arrives, by the
 * library's `passMotion` over the frames j - k .. j. Everything after it (difference, contrast,
 * the threshold T = mean + p (max - mean), peaks, the merging of the passes) needs the whole
 * video and is cheap: `result()` runs the library's `differenceAndContrast` and `spotFromPasses`
 * over all the motion seen so far. After the last frame, `result()` is what `spot()` gives on
 * the same frames (src/motion/spot.ts; `spotPasses` builds the passes the same way).
 */
import { differenceAndContrast, halfWindow, passMotion, resolveSpotOptions, spotFromPasses, type FlowFn, type SpotOptions, type SpotPass, type SpotResult } from '../../src/browser.js';

interface LivePass {
  name: 'micro' | 'macro';
  k: number;
  /** m[j] for every frame seen (0 for j < k, as `passMotion` leaves it). */
  motion: number[];
}

export class LiveSpotter {
  readonly options: SpotOptions;
  private readonly passes: LivePass[];
  /** The last (largest k) + 1 frames: all that the next frame's flows need. */
  private readonly recent: Float32Array[] = [];
  private readonly keep: number;
  private count = 0;

  constructor(
    readonly width: number,
    readonly height: number,
    options: Partial<SpotOptions> & { fps: number },
    private readonly flow: FlowFn,
  ) {
    this.options = resolveSpotOptions(options);
    this.passes = (
      [
        ['micro', this.options.microWindow],
        ['macro', this.options.macroWindow],
      ] as const
    ).map(([name, seconds]) => ({ name, k: halfWindow(seconds, this.options.fps), motion: [] }));
    this.keep = Math.max(...this.passes.map((p) => p.k)) + 1;
  }

  /** Frames pushed so far. */
  get frames(): number {
    return this.count;
  }

  /** Half-windows of the passes, in frames. */
  get windows(): Array<{ name: 'micro' | 'macro'; k: number }> {
    return this.passes.map(({ name, k }) => ({ name, k }));
  }

  /** Adds the next frame (grey, width x height, 0..255): two flows once both windows fit. */
  push(frame: Float32Array): void {
    if (frame.length !== this.width * this.height) throw new Error(`spot: frame ${this.count} has ${frame.length} values, expected ${this.width}x${this.height} = ${this.width * this.height}`);
    this.recent.push(frame);
    if (this.recent.length > this.keep) this.recent.shift();
    const j = this.count++;
    for (const p of this.passes) {
      if (j < p.k) {
        p.motion.push(0);
        continue;
      }
      // passMotion over frames j - k .. j computes one value, m[j] (its index k)
      const m = passMotion(this.recent.slice(this.recent.length - 1 - p.k), this.width, this.height, p.k, this.flow, this.options);
      p.motion.push(m[p.k]!);
    }
  }

  /** The intervals and per-frame score over the frames seen so far (T from these frames only). */
  result(): SpotResult {
    const passes: SpotPass[] = this.passes.map((p) => {
      const { d, c } = differenceAndContrast(p.motion, p.k);
      return { name: p.name, k: p.k, difference: d, contrast: c };
    });
    return spotFromPasses(passes, this.options);
  }
}
