/**
 * `mimanet flow`: TV-L1 optical flow of image pairs (src/motion), written as Middlebury .flo files.
 *
 *   mimanet flow ONSET APEX --out OUT.flo [--png]
 *   mimanet flow --pairs LIST [--threads N] [--json] [--png]     (each line of LIST: ONSET APEX OUT.flo)
 *
 * Images are read with the decoder of the preprocessing (any format mimanet reads) and made grey
 * as `predict` makes them. `--json` prints {"pairs": [{"out", "ms", "cpuMs"}, ...]} as the last line,
 * `ms` being the time of the flow alone, decoding and writing excluded (`cpuMs` its CPU time).
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import sharp from 'sharp';
import { frameSource, loadFrameInputs, toSharp } from '../data/preprocess/decode.js';
import { opticalFlow, nativeFlowAvailable } from '../motion/flow.js';
import { encodeFlo, flowToColour } from '../motion/flo.js';
import { DEFAULT_TVL1_PARAMS, resolveTvl1Params, type FlowField, type Tvl1Params } from '../motion/tvl1.js';
import { writeFileAtomic } from '../util/fs.js';

export interface FlowPair {
  onset: string;
  apex: string;
  out: string;
}

export interface FlowPairResult {
  out: string;
  /** Time of the flow computation, ms (decoding and writing excluded). */
  ms: number;
  /** CPU time of the process during it, ms, all threads (less sensitive to other load than `ms`). */
  cpuMs: number;
}

/** A grey image as the flow reads it. */
async function readGrey(path: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const [input] = await loadFrameInputs([path]);
  try {
    const { data, info } = await toSharp(input).removeAlpha().greyscale().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    throw new Error(`${frameSource(input)}: cannot read the image (${(e as Error).message.split('\n')[0]})`);
  }
}

/** Reads LIST: one `ONSET APEX OUT.flo` per line (blank lines and lines starting with # skipped). */
export function readPairList(list: string): FlowPair[] {
  let text: string;
  try {
    text = readFileSync(list, 'utf8');
  } catch (e) {
    throw new Error(`--pairs ${list}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const pairs: FlowPair[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return;
    const parts = t.split(/\s+/);
    if (parts.length !== 3) throw new Error(`${list}, line ${i + 1}: expected "ONSET APEX OUT.flo", got ${JSON.stringify(t)}`);
    if (extname(parts[2]).toLowerCase() !== '.flo') throw new Error(`${list}, line ${i + 1}: the output ${JSON.stringify(parts[2])} should end in .flo`);
    pairs.push({ onset: parts[0], apex: parts[1], out: parts[2] });
  });
  if (pairs.length === 0) throw new Error(`${list}: no pairs (expected lines "ONSET APEX OUT.flo")`);
  return pairs;
}

/** TV-L1 parameters from `--param NAME=VALUE` options. */
export function parseFlowParams(list: readonly string[] = []): Tvl1Params {
  const partial: Record<string, number> = {};
  for (const p of list) {
    const m = /^(\w+)=(.+)$/.exec(p);
    if (!m) throw new Error(`option --param is ${JSON.stringify(p)}: expected NAME=VALUE, e.g. scaleStep=0.5`);
    if (!(m[1] in DEFAULT_TVL1_PARAMS)) throw new Error(`option --param ${p}: unknown parameter ${JSON.stringify(m[1])}; expected one of ${Object.keys(DEFAULT_TVL1_PARAMS).join(', ')}`);
    const v = Number(m[2]);
    if (!Number.isFinite(v)) throw new Error(`option --param ${p}: ${JSON.stringify(m[2])} is not a number`);
    partial[m[1]] = v;
  }
  return resolveTvl1Params(partial, 'option --param');
}

/** The colour-wheel picture's path beside a .flo file. */
export function pngPathFor(flo: string): string {
  return flo.replace(/\.flo$/i, '.png');
}

/** Computes and writes the flow of each pair in order; returns the output and compute time of each. */
export async function computeFlowPairs(pairs: readonly FlowPair[], opts: { threads: number; params: Tvl1Params; png?: boolean }): Promise<FlowPairResult[]> {
  const results: FlowPairResult[] = [];
  for (const p of pairs) {
    const a = await readGrey(p.onset);
    const b = await readGrey(p.apex);
    if (a.width !== b.width || a.height !== b.height) throw new Error(`${p.apex}: ${b.width}x${b.height}, but ${p.onset} is ${a.width}x${a.height}; a pair needs images of one size`);
    if (a.width < 3 || a.height < 3) throw new Error(`${p.onset}: ${a.width}x${a.height} is too small for optical flow (at least 3x3)`);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const flow: FlowField = opticalFlow(a.data, b.data, a.width, a.height, opts.params, { threads: opts.threads });
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    writeFileAtomic(p.out, encodeFlo(flow));
    if (opts.png) {
      const rgb = flowToColour(flow);
      writeFileAtomic(pngPathFor(p.out), await sharp(rgb, { raw: { width: flow.width, height: flow.height, channels: 3 } }).png().toBuffer());
    }
    results.push({ out: p.out, ms, cpuMs: (c.user + c.system) / 1000 });
  }
  return results;
}

interface FlowFlags {
  out?: string;
  pairs?: string;
  threads: string;
  json?: boolean;
  png?: boolean;
  param?: string[];
}

export function registerFlowCommand(program: Command): void {
  program
    .command('flow')
    .description('TV-L1 optical flow from ONSET to APEX (or of every pair of a list), written as Middlebury .flo')
    .argument('[onset]', 'first image (any format mimanet reads; made grey)')
    .argument('[apex]', 'second image, of the same size')
    .option('--out <file.flo>', 'where to write the flow of ONSET APEX')
    .option('--pairs <list>', 'a file of lines "ONSET APEX OUT.flo", computed in order')
    .option('--threads <n>', 'threads of the native TV-L1 (the flow is the same for any count)', '1')
    .option('--json', 'print {"pairs": [{"out", "ms"}, ...]} as the last line (ms: flow computation alone)')
    .option('--png', 'also write the colour-wheel picture of each flow beside it (OUT.png)')
    .option('--param <name=value>', 'a TV-L1 parameter (tau, lambda, theta, scales, warps, epsilon, innerIterations, outerIterations, scaleStep, medianFiltering); repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .action(async (onset: string | undefined, apex: string | undefined, flags: FlowFlags) => {
      const threads = Number(flags.threads);
      if (!/^\d+$/.test(flags.threads) || threads < 1 || threads > 256) throw new Error(`option --threads is ${JSON.stringify(flags.threads)}: expected an integer from 1 to 256`);
      const params = parseFlowParams(flags.param);
      let pairs: FlowPair[];
      if (flags.pairs !== undefined) {
        if (onset !== undefined || flags.out !== undefined) throw new Error('give either --pairs LIST or ONSET APEX --out OUT.flo, not both');
        pairs = readPairList(flags.pairs);
      } else {
        if (onset === undefined || apex === undefined) throw new Error('give two images, ONSET APEX, with --out OUT.flo (or --pairs LIST)');
        if (flags.out === undefined) throw new Error('option --out OUT.flo is missing: where to write the flow');
        if (extname(flags.out).toLowerCase() !== '.flo') throw new Error(`option --out is ${JSON.stringify(flags.out)}: expected a .flo file`);
        pairs = [{ onset, apex, out: flags.out }];
      }
      const native = nativeFlowAvailable();
      if (!native.available && threads > 1) process.stderr.write(`mimanet flow: the native TV-L1 is not available (${native.why}); computing in TypeScript on one thread\n`);
      const results = await computeFlowPairs(pairs, { threads, params, png: flags.png });
      if (flags.json) process.stdout.write(`${JSON.stringify({ pairs: results })}\n`);
      else for (const r of results) process.stdout.write(`${r.out}  ${r.ms.toFixed(1)} ms\n`);
    });
}
