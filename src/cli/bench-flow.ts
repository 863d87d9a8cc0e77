/**
 * `mimanet bench --flow`: the time of a TV-L1 pair at 128x128 with the default parameters.
 *
 *   --against-opencv   OpenCV's DualTVL1 (bench/tvl1_ref.py) and `mimanet flow --pairs`, each its
 *                      own process with the same pairs and threads, run alternately (A B A B), so
 *                      that a change of load hits both sides of a round alike. Per round the median
 *                      time per pair of each side and their ratio; the median of the ratios. Both
 *                      sides time the flow alone (decoding and writing excluded), after a warm-up pair.
 *   --browser          the TypeScript TV-L1 (what pages and the demo run) in headless Chromium, with
 *                      the same pairs timed in Node's TypeScript and native implementations.
 * The pairs are the standard known-motion pairs (src/motion/pairs.ts), so the endpoint error of each
 * side is reported too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import { endpointErrors, knownMotionPair, median, photoMotionPair, photoMotions, standardPairs, type KnownPair } from '../motion/pairs.js';
import { decodeFlo } from '../motion/flo.js';
import { opticalFlow } from '../motion/flow.js';
import { tvl1FlowTs } from '../motion/tvl1.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
export const TVL1_REF = join(ROOT, 'bench', 'tvl1_ref.py');
const MIMANET_BIN = join(ROOT, 'bin', 'mimanet.js');

export interface FlowBenchOptions {
  /** Side of the square test images. Default 128. */
  size: number;
  /** Threads of both sides. */
  threads: number;
  /** A/B rounds (--against-opencv) or timed repetitions (--browser). */
  rounds: number;
  /** Interpreter with cv2.optflow; default MIMANET_OPENCV_PYTHON, /usr/bin/python3, python3. */
  python?: string;
  /**
   * A folder of real photos (.jpg, .jpeg, .png): the pairs are cut from them and moved by
   * {@link photoMotions} (twelve pairs) instead of the textured standard pairs. `true`: the demo
   * photos shipped with the face detector package. Default: the standard pairs.
   */
  photos?: string | true;
  log?: (line: string) => void;
}

const load = (): [number, number, number] => loadavg().map((x) => Math.round(x * 100) / 100) as [number, number, number];

/** The first interpreter that imports cv2.optflow, or an Error with the one-line reason. */
export function findOpencvPython(explicit?: string): string {
  const candidates = explicit ? [explicit] : [process.env.MIMANET_OPENCV_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  for (const py of candidates) {
    if (spawnSync(py, ['-c', 'import cv2; cv2.optflow.DualTVL1OpticalFlow_create()'], { stdio: 'ignore' }).status === 0) return py;
  }
  throw new Error(`--against-opencv needs OpenCV with its contrib module optflow, and ${candidates.join(' and ')} cannot import it: install it (Debian: apt-get install -y python3-opencv) or name the interpreter with --python`);
}

interface BenchPair { name: string; pair: KnownPair }

function benchPairs(size: number): BenchPair[] {
  return standardPairs(size, size).map((p) => ({ name: p.name, pair: knownMotionPair(p.motion, p.seed, size, size) }));
}

/** The folder of the face detector package's demo photos (sample1.jpg ... sample6.jpg: people, 1920 px wide). */
export function defaultPhotoDir(): string {
  const pkg = createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json');
  return join(dirname(pkg), 'demo');
}

/**
 * Twelve pairs cut from the photos of `dir` (sorted by name; photo k of n takes motions k, k + n,
 * ...). In the default folder only its photos (`sampleN.jpg`) count, not its screenshots.
 */
export async function photoPairs(dir: string, size: number): Promise<BenchPair[]> {
  if (!existsSync(dir)) throw new Error(`--photos: folder ${dir} not found`);
  const pattern = dir === defaultPhotoDir() ? /^sample\d+\.jpg$/ : /\.(jpe?g|png)$/i;
  const files = readdirSync(dir).filter((f) => pattern.test(f)).sort();
  if (files.length === 0) throw new Error(`--photos: ${dir} holds no .jpg, .jpeg or .png photo`);
  const motions = photoMotions(size);
  const grey = new Map<string, { width: number; height: number; data: Uint8Array }>();
  const out: BenchPair[] = [];
  for (const [k, m] of motions.entries()) {
    const file = files[k % files.length];
    let photo = grey.get(file);
    if (!photo) {
      const { data, info } = await sharp(join(dir, file)).greyscale().raw().toBuffer({ resolveWithObject: true });
      photo = { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, info.width * info.height) };
      grey.set(file, photo);
    }
    out.push({ name: `${file}: ${m.name}`, pair: photoMotionPair(photo, m.motion, size) });
  }
  return out;
}

/** PNGs of the pairs and one LIST per side (a warm-up line first, then every pair). */
async function writePairFiles(dir: string, pairs: BenchPair[]): Promise<{ list: (side: string) => string; flo: (side: string, k: number) => string }> {
  for (const [k, { pair }] of pairs.entries()) {
    const raw = { raw: { width: pair.width, height: pair.height, channels: 1 as const } };
    await sharp(pair.i0, raw).png().toFile(join(dir, `${k}-a.png`));
    await sharp(pair.i1, raw).png().toFile(join(dir, `${k}-b.png`));
  }
  const flo = (side: string, k: number): string => join(dir, `${side}-${k}.flo`);
  for (const side of ['opencv', 'mimanet']) {
    const lines = [`${join(dir, '0-a.png')} ${join(dir, '0-b.png')} ${join(dir, `${side}-warmup.flo`)}`];
    pairs.forEach((_, k) => lines.push(`${join(dir, `${k}-a.png`)} ${join(dir, `${k}-b.png`)} ${flo(side, k)}`));
    writeFileSync(join(dir, `${side}.txt`), lines.join('\n') + '\n');
  }
  return { list: (side) => join(dir, `${side}.txt`), flo };
}

/** Wall and CPU ms of each pair, the warm-up pair left out. */
function runPairsJson(cmd: string, args: string[], what: string): { ms: number[]; cpuMs: number[] } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${`${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ') || 'no output'}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let parsed: { pairs?: Array<{ ms?: unknown; cpuMs?: unknown }> };
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`${what} printed no JSON object: ${line.slice(0, 200)}`);
  }
  const ms = (parsed.pairs ?? []).map((p) => Number(p.ms));
  const cpuMs = (parsed.pairs ?? []).map((p) => Number(p.cpuMs));
  if (ms.length < 2 || [...ms, ...cpuMs].some((x) => !Number.isFinite(x))) throw new Error(`${what}: expected a time per pair, got ${line.slice(0, 200)}`);
  return { ms: ms.slice(1), cpuMs: cpuMs.slice(1) }; // the first pair warms up
}

export interface AgainstOpencvReport {
  date: string;
  args: { size: number; threads: number; rounds: number; pairs: number; photos?: string };
  loadBefore: [number, number, number];
  loadAfter: [number, number, number];
  rounds: Array<{
    opencvMs: number[]; mimanetMs: number[]; opencvMedianMs: number; mimanetMedianMs: number; ratio: number;
    opencvCpuMs: number[]; mimanetCpuMs: number[]; cpuRatio: number;
  }>;
  /** mimanet / OpenCV: median of the rounds' ratios of median times per pair, and their spread. */
  ratio: { median: number; min: number; max: number };
  /** The same with CPU time (all threads of each process), which other load disturbs less. */
  cpuRatio: { median: number; min: number; max: number };
  /** Median endpoint error of each pair (px) and the median over pairs. */
  epe: { pairs: Array<{ name: string; opencv: number; mimanet: number }>; opencvMedian: number; mimanetMedian: number };
}

export async function runFlowAgainstOpencv(o: FlowBenchOptions): Promise<AgainstOpencvReport> {
  if (!existsSync(TVL1_REF)) throw new Error(`--against-opencv: the reference script ${TVL1_REF} is missing`);
  const python = findOpencvPython(o.python);
  const log = o.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'mimanet-bench-flow-'));
  try {
    const pairs = o.photos ? await photoPairs(o.photos === true ? defaultPhotoDir() : o.photos, o.size) : benchPairs(o.size);
    const files = await writePairFiles(dir, pairs);
    const loadBefore = load();
    log(`load average before: ${loadBefore.join(' ')}`);
    const rounds: AgainstOpencvReport['rounds'] = [];
    for (let i = 0; i < o.rounds; i++) {
      const cv = runPairsJson(python, [TVL1_REF, '--pairs', files.list('opencv'), '--threads', String(o.threads), '--json'], `OpenCV run ${i + 1}`);
      const mm = runPairsJson(process.execPath, [MIMANET_BIN, 'flow', '--pairs', files.list('mimanet'), '--threads', String(o.threads), '--json'], `mimanet run ${i + 1}`);
      const round = {
        opencvMs: cv.ms, mimanetMs: mm.ms, opencvMedianMs: median(cv.ms), mimanetMedianMs: median(mm.ms), ratio: median(mm.ms) / median(cv.ms),
        opencvCpuMs: cv.cpuMs, mimanetCpuMs: mm.cpuMs, cpuRatio: median(mm.cpuMs) / median(cv.cpuMs),
      };
      rounds.push(round);
      log(`round ${i + 1}/${o.rounds}: OpenCV ${round.opencvMedianMs.toFixed(1)} ms, mimanet ${round.mimanetMedianMs.toFixed(1)} ms per pair (${round.ratio.toFixed(2)}x; CPU time ${round.cpuRatio.toFixed(2)}x)`);
    }
    const loadAfter = load();
    log(`load average after: ${loadAfter.join(' ')}`);
    const epePairs = pairs.map(({ name, pair }, k) => ({
      name,
      opencv: median(endpointErrors(decodeFlo(readFileSync(files.flo('opencv', k))), pair.truth)),
      mimanet: median(endpointErrors(decodeFlo(readFileSync(files.flo('mimanet', k))), pair.truth)),
    }));
    const spread = (xs: number[]): { median: number; min: number; max: number } => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
    return {
      date: new Date().toISOString(),
      args: { size: o.size, threads: o.threads, rounds: o.rounds, pairs: pairs.length, ...(o.photos ? { photos: o.photos === true ? '@vladmandic/face-api/demo' : o.photos } : {}) },
      loadBefore,
      loadAfter,
      rounds,
      ratio: spread(rounds.map((r) => r.ratio)),
      cpuRatio: spread(rounds.map((r) => r.cpuRatio)),
      epe: { pairs: epePairs, opencvMedian: median(epePairs.map((p) => p.opencv)), mimanetMedian: median(epePairs.map((p) => p.mimanet)) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A Markdown summary of {@link runFlowAgainstOpencv}. */
export function formatOpencvReport(r: AgainstOpencvReport): string {
  const lines = [
    `TV-L1, ${r.args.size}x${r.args.size}, default parameters, ${r.args.threads} thread(s), ${r.args.pairs} ${r.args.photos ? `pairs cut from the photos of ${r.args.photos}` : 'textured pairs'} per run; load average (1, 5, 15 min) before: ${r.loadBefore.join(', ')}; after: ${r.loadAfter.join(', ')}`,
    '',
    '| round | OpenCV ms per pair (median) | mimanet ms per pair (median) | mimanet / OpenCV | CPU time, mimanet / OpenCV |',
    '|---|---|---|---|---|',
    ...r.rounds.map((x, i) => `| ${i + 1} | ${x.opencvMedianMs.toFixed(1)} | ${x.mimanetMedianMs.toFixed(1)} | ${x.ratio.toFixed(2)}x | ${x.cpuRatio.toFixed(2)}x |`),
    `| median of rounds | | | **${r.ratio.median.toFixed(2)}x** (${r.ratio.min.toFixed(2)}x - ${r.ratio.max.toFixed(2)}x) | ${r.cpuRatio.median.toFixed(2)}x (${r.cpuRatio.min.toFixed(2)}x - ${r.cpuRatio.max.toFixed(2)}x) |`,
    '',
    `median endpoint error over the pairs: OpenCV ${r.epe.opencvMedian.toFixed(4)} px, mimanet ${r.epe.mimanetMedian.toFixed(4)} px (requirement: at most 1.1 x OpenCV + 0.01 = ${(1.1 * r.epe.opencvMedian + 0.01).toFixed(4)} px)`,
    '',
    '| pair | OpenCV EPE (px, median) | mimanet EPE |',
    '|---|---|---|',
    ...r.epe.pairs.map((p) => `| ${p.name} | ${p.opencv.toFixed(4)} | ${p.mimanet.toFixed(4)} |`),
  ];
  return lines.join('\n');
}

export interface BrowserFlowReport {
  date: string;
  args: { size: number; rounds: number; pairs: number };
  browser: string;
  loadBefore: [number, number, number];
  loadAfter: [number, number, number];
  /** Median time per pair (ms) of each implementation, over rounds x pairs, after a warm-up pair. */
  chromiumTsMs: number;
  nodeTsMs: number;
  nodeNativeMs: number;
}

const MIME: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.map': 'application/json' };

/** Times the TypeScript TV-L1 in headless Chromium (playwright-core, a development dependency, and a system Chromium). */
export async function runFlowInBrowser(o: FlowBenchOptions & { chromium?: string }): Promise<BrowserFlowReport> {
  const executablePath = o.chromium ?? process.env.MIMANET_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`--browser: no Chromium at ${executablePath}; install it (Debian: apt-get install -y chromium) or name it with MIMANET_CHROMIUM=PATH`);
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch {
    throw new Error('--browser needs playwright-core (a development dependency of mimanet: run it from a checkout after npm install)');
  }
  // dist/ holds the compiled modules; their relative imports load as they are
  const dist = join(ROOT, 'dist');
  if (!existsSync(join(dist, 'motion', 'tvl1.js'))) throw new Error(`--browser: ${dist}/motion/tvl1.js is missing; build with npx tsc -p tsconfig.json`);
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]));
    const file = join(dist, path);
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>flow bench</title>');
      return;
    }
    if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const browser = await playwright.chromium.launch({ executablePath, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const loadBefore = load();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const chromiumTimes = await page.evaluate(async ({ size, rounds }) => {
      const base = '/motion/'; // served from dist/, fetched by the page
      const tvl1 = await import(`${base}tvl1.js`);
      const pairs = await import(`${base}pairs.js`);
      const list = pairs.standardPairs(size, size).map((p: { motion: unknown; seed: number }) => pairs.knownMotionPair(p.motion, p.seed, size, size));
      tvl1.tvl1FlowTs(list[0].i0, list[0].i1, size, size);
      const ms: number[] = [];
      for (let r = 0; r < rounds; r++) {
        for (const p of list) {
          const t0 = performance.now();
          tvl1.tvl1FlowTs(p.i0, p.i1, size, size);
          ms.push(performance.now() - t0);
        }
      }
      return ms;
    }, { size: o.size, rounds: o.rounds });
    const version = browser.version();
    const pairs = benchPairs(o.size);
    const time = (fn: (p: KnownPair) => void): number[] => {
      fn(pairs[0].pair);
      const ms: number[] = [];
      for (let r = 0; r < o.rounds; r++) {
        for (const { pair } of pairs) {
          const t0 = performance.now();
          fn(pair);
          ms.push(performance.now() - t0);
        }
      }
      return ms;
    };
    const nodeTs = time((p) => tvl1FlowTs(p.i0, p.i1, p.width, p.height));
    const nodeNative = time((p) => opticalFlow(p.i0, p.i1, p.width, p.height, {}, { implementation: 'native', threads: o.threads }));
    return {
      date: new Date().toISOString(),
      args: { size: o.size, rounds: o.rounds, pairs: pairs.length },
      browser: `Chromium ${version}`,
      loadBefore,
      loadAfter: load(),
      chromiumTsMs: median(chromiumTimes),
      nodeTsMs: median(nodeTs),
      nodeNativeMs: median(nodeNative),
    };
  } finally {
    await browser.close();
    server.close();
  }
}
