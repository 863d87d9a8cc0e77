/**
 * The spotter in a worker, so that the page keeps capturing frames while the flow is computed:
 * frames are queued in the order they arrive and every one is analysed (none is dropped), by
 * {@link LiveSpotter} on the TypeScript TV-L1 of the library.
 */
import { opticalFlow, type SpotOptions } from '../../src/browser.js';
import { LiveSpotter } from './spot-live.js';
import type { SpotReply, SpotRequest } from './spot-messages.js';

let spotter: LiveSpotter | null = null;

function reply(r: SpotReply): void {
  (self as unknown as { postMessage(m: SpotReply): void }).postMessage(r);
}

self.onmessage = (ev: MessageEvent<SpotRequest>): void => {
  const msg = ev.data;
  try {
    if (msg.type === 'start') {
      spotter = new LiveSpotter(msg.width, msg.height, msg.options as Partial<SpotOptions> & { fps: number }, (a, b, w, h) => opticalFlow(a, b, w, h));
      reply({ type: 'started', options: spotter.options, windows: spotter.windows });
      return;
    }
    if (!spotter) throw new Error('spot worker: a frame came before start');
    const t0 = performance.now();
    spotter.push(new Float32Array(msg.grey));
    const r = spotter.result();
    reply({
      type: 'spotted',
      frames: spotter.frames,
      ms: performance.now() - t0,
      score: Array.from(r.score),
      passes: r.passes.map((p) => ({ name: p.name, k: p.k, threshold: p.threshold })),
      intervals: r.intervals,
    });
  } catch (e) {
    reply({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
};
