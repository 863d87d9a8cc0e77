/**
 * `mimanet bench --spot`: the time `mimanet spot` takes on one long video, against the video's
 * own length. The video is the first embedded synthetic long video (seed 1, the generator's other
 * defaults), `seconds` long at `fps`, filmed at `size` (the spotter's working size, 64): the frames
 * go to the spotter as they are, so the time is the spotter's alone (both passes' flows, contrast,
 * threshold, peaks), face alignment and decoding excluded. One warm-up flow, then `rounds` timed
 * spots of the whole video; the median, the CPU time of the process and the load are reported.
 */
import { loadavg } from 'node:os';
import { generateLongVideos, longVideoFrame } from '../data/synthetic/long-video.js';
import { median } from '../motion/pairs.js';
import { resolveSpotOptions } from '../motion/spot.js';
import { spotFlow, spotFrames } from './spot-video.js';

export interface SpotBenchOptions {
  /** Length of the video, seconds. Default 30. */
  seconds: number;
  /** Frame rate. Default 30. */
  fps: number;
  /** Side of the frames (the spotter's working size). Default 64. */
  size: number;
  /** Threads of the spotter (`mimanet spot --threads`). */
  threads: number;
  /** Timed spots of the whole video. */
  rounds: number;
  log?: (line: string) => void;
}

export interface SpotBenchReport {
  date: string;
  args: { seconds: number; fps: number; size: number; threads: number; rounds: number; frames: number; flows: number };
  loadBefore: [number, number, number];
  loadAfter: [number, number, number];
  /** Wall and CPU (all threads of the process) seconds of each round. */
  rounds: Array<{ wallS: number; cpuS: number }>;
  /** Median wall seconds of a round, and its spread. */
  wallS: { median: number; min: number; max: number };
  cpuS: { median: number; min: number; max: number };
  /** Video seconds per wall second at the median: 1 or more is real time or faster. */
  realtime: number;
  /** Median wall milliseconds per flow (a round's time over its flows). */
  msPerFlow: number;
  /** Intervals found (the same every round). */
  intervals: number;
}

const load = (): [number, number, number] => loadavg().map((x) => Math.round(x * 100) / 100) as [number, number, number];

export async function runSpotBench(o: SpotBenchOptions): Promise<SpotBenchReport> {
  const log = o.log ?? (() => undefined);
  const { videos } = generateLongVideos({ videos: 1, seconds: o.seconds, fps: o.fps, size: o.size });
  const v = videos[0];
  const frames = Array.from({ length: v.frames }, (_, t) => Float32Array.from(longVideoFrame(v, t)));
  const options = resolveSpotOptions({ fps: v.fps });
  // each pass computes one flow per frame from its half-window k on
  const k = (s: number): number => Math.max(1, Math.round((s * v.fps) / 2));
  const flows = Math.max(0, v.frames - k(options.microWindow)) + Math.max(0, v.frames - k(options.macroWindow));
  spotFlow(1)(frames[0], frames[1], v.size, v.size); // warm-up: the addon loads
  const loadBefore = load();
  log(`load average before: ${loadBefore.join(' ')}`);
  const rounds: SpotBenchReport['rounds'] = [];
  let intervals = -1;
  for (let r = 0; r < o.rounds; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await spotFrames(frames, v.size, options, o.threads);
    const wallS = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cpuS = (c.user + c.system) / 1e6;
    if (intervals >= 0 && result.intervals.length !== intervals) throw new Error(`bench --spot: round ${r + 1} found ${result.intervals.length} intervals, round 1 ${intervals}`);
    intervals = result.intervals.length;
    rounds.push({ wallS, cpuS });
    log(`round ${r + 1}/${o.rounds}: ${wallS.toFixed(2)} s wall, ${cpuS.toFixed(2)} s CPU for ${o.seconds} s of video (${(o.seconds / wallS).toFixed(2)}x real time)`);
  }
  const loadAfter = load();
  log(`load average after: ${loadAfter.join(' ')}`);
  const spread = (xs: number[]): { median: number; min: number; max: number } => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
  const wall = spread(rounds.map((r) => r.wallS));
  return {
    date: new Date().toISOString(),
    args: { seconds: o.seconds, fps: o.fps, size: o.size, threads: o.threads, rounds: o.rounds, frames: v.frames, flows },
    loadBefore,
    loadAfter,
    rounds,
    wallS: wall,
    cpuS: spread(rounds.map((r) => r.cpuS)),
    realtime: o.seconds / wall.median,
    msPerFlow: (wall.median * 1000) / flows,
    intervals,
  };
}

/** A Markdown summary of {@link runSpotBench}. */
export function formatSpotBenchReport(r: SpotBenchReport): string {
  const a = r.args;
  return [
    `spot: one ${a.seconds} s synthetic long video at ${a.fps} fps (${a.frames} frames, ${a.flows} flows), ${a.size}x${a.size}, ${a.threads} thread(s); load average (1, 5, 15 min) before: ${r.loadBefore.join(', ')}; after: ${r.loadAfter.join(', ')}`,
    '',
    '| round | wall s | CPU s | video s / wall s |',
    '|---|---|---|---|',
    ...r.rounds.map((x, i) => `| ${i + 1} | ${x.wallS.toFixed(2)} | ${x.cpuS.toFixed(2)} | ${(a.seconds / x.wallS).toFixed(2)}x |`),
    `| median of rounds | **${r.wallS.median.toFixed(2)}** (${r.wallS.min.toFixed(2)} - ${r.wallS.max.toFixed(2)}) | ${r.cpuS.median.toFixed(2)} | **${r.realtime.toFixed(2)}x** |`,
    '',
    `${r.msPerFlow.toFixed(1)} ms per flow at the median; ${r.intervals} interval(s) found`,
  ].join('\n');
}
