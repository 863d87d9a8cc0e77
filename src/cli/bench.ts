/**
 * `mimanet bench`: times the training computations after warm-up, with the
 * same arguments as the PyTorch reference script, and prints one JSON object.
 *   trainStepMs     ResNet18 + linear head, Adam, cross entropy on `batch` images
 *   forwardMs       the same net in inference mode
 *   finetuneStepMs  one Eq. 8 step: MiNet forward and backward, frozen MaNet forward,
 *                   D_s, D_t, C_s and all five losses on n micro + n macro clips of T frames
 * `--flow` times optical flow instead (./bench-flow.ts), `--spot` the spotter on a
 * long video (./bench-spot.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { Command } from 'commander';
import { initBackend, type GpuAdapter } from '../backend/index.js';
import { BACKEND_HELP, backendFlag } from './run.js';
import { buildResNet18 } from '../model/resnet.js';
import { TwoStreamNet } from '../model/twostream.js';
import { sampleIntervalStarts, checkIntervals } from '../model/twostream.js';
import { GuidedStep } from '../train/finetune.js';
import { FlatAdam } from '../train/optimizer.js';
import { PRESETS } from '../config.js';
import { MACRO_LABELS, MACRO_TO_MICRO, MICRO_LABELS } from '../data/synthetic/config.js';
import { Rng } from '../util/rng.js';
import { formatReport, runAgainstTorch } from './bench-torch.js';

/** The benchmark times the `paper` preset's nets, heads and Eq. 8 settings. */
const PAPER = PRESETS.paper;

export interface BenchOptions {
  /** Image size (H = W). Default: the paper preset's (112). */
  size: number;
  /** Images per ResNet18 train step. Default 8. */
  batch: number;
  /** ResNet18 width. Default: the paper preset's (64). */
  width: number;
  /** Frames per clip T of the fine-tuning step. Default: the paper preset's (16). */
  frames: number;
  /** Micro (and macro) clips per fine-tuning step. Default: the paper preset's n (8). */
  n: number;
  /** Timed repetitions (median reported). Default 5; the fine-tuning step uses half, at least 2. */
  steps: number;
  /** Skip the fine-tuning step (it is the slowest part). */
  skipFinetune: boolean;
}

export const DEFAULT_BENCH_OPTIONS: BenchOptions = {
  size: PAPER.model.size,
  batch: 8,
  width: PAPER.model.width,
  frames: PAPER.model.frames,
  n: PAPER.finetune.n,
  steps: 5,
  skipFinetune: false,
};

export interface BenchResult {
  backend: string;
  threads: number;
  /** webgpu: the adapter the figures were measured on. */
  adapter?: GpuAdapter;
  /** The backend's kernels (native: oneDNN or built-in; tfjs-node-gpu: cuda; webgpu: the adapter). */
  kernels?: string;
  workers: number;
  size: number;
  batch: number;
  width: number;
  frames: number;
  n: number;
  trainStepMs: number;
  forwardMs: number;
  finetuneStepMs: number | null;
  peakRssMb: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function time(fn: () => Promise<void>, steps: number): Promise<number> {
  await fn(); // warm-up: kernel set-up, optimiser slots
  const ts: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  return Math.round(median(ts) * 10) / 10;
}

export async function runBench(o: BenchOptions, backend: { name: string; threads: number; kernels?: string; adapter?: GpuAdapter }): Promise<BenchResult> {
  const rng = new Rng(0);
  const C = PAPER.model.channels;
  const trunk = buildResNet18({ size: o.size, channels: C, width: o.width, prefix: 'bench', pool: true });
  const head = tf.layers.dense({ units: 5 });
  const x = tf.randomNormal([o.batch, o.size, o.size, C], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: o.batch }, () => rng.int(5)), 'int32'), 5);
  const net = (training: boolean): tf.Tensor => head.apply(trunk.apply(x, { training }) as tf.Tensor) as tf.Tensor;
  tf.tidy(() => net(false)); // builds the head's variables
  // the optimiser of pretraining and fine-tuning (src/train), not tf.train.adam
  const optimizer = new FlatAdam([...trunk.trainableWeights, ...head.trainableWeights].map((w) => w.read() as tf.Variable),
    { lr: PAPER.pretrain.lr });
  const trainStepMs = await time(async () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, net(true)) as tf.Scalar);
    await loss.data();
    loss.dispose();
  }, o.steps);
  const forwardMs = await time(async () => {
    const out = tf.tidy(() => net(false));
    await out.data();
    out.dispose();
  }, o.steps);
  optimizer.dispose();
  tf.dispose([x, y]);
  trunk.dispose();

  let finetuneStepMs: number | null = null;
  if (!o.skipFinetune) {
    const { sc, K, headWidths } = PAPER.model;
    const cfg = { size: o.size, channels: C, frames: o.frames, width: o.width, sc, K };
    const minet = new TwoStreamNet({ ...cfg, classes: MICRO_LABELS.length }, 'MiNet');
    const manet = new TwoStreamNet({ ...cfg, classes: MACRO_LABELS.length }, 'MaNet');
    const step = new GuidedStep(minet, manet, {
      ...PAPER.finetune,
      losses: ['c', 's', 'sam', 't', 'con'],
      n: o.n,
      headWidths,
      macroToMicro: [...MACRO_TO_MICRO],
      seed: 0,
    });
    const clip = (seed: number, classes: number): { apex: tf.Tensor4D; frames: tf.Tensor5D; labels: number[] } => ({
      apex: tf.randomNormal([o.n, o.size, o.size, C], 0, 1, 'float32', seed) as tf.Tensor4D,
      frames: tf.randomNormal([o.n, o.frames, o.size, o.size, C], 0, 1, 'float32', seed + 1) as tf.Tensor5D,
      labels: Array.from({ length: o.n }, () => rng.int(classes)),
    });
    const micro = clip(2, MICRO_LABELS.length);
    const macro = clip(4, MACRO_LABELS.length);
    const T = o.frames;
    finetuneStepMs = await time(async () => {
      const starts = sampleIntervalStarts({ sc, K, frames: T }, rng);
      await step.run({ micro, macro, starts, lambda: 1 });
    }, Math.max(2, Math.floor(o.steps / 2)));
    step.dispose();
    tf.dispose([micro.apex, micro.frames, macro.apex, macro.frames]);
    minet.dispose();
    manet.dispose();
  }
  return {
    backend: backend.name,
    threads: backend.threads,
    ...(backend.adapter ? { adapter: backend.adapter } : {}),
    ...(backend.kernels ? { kernels: backend.kernels } : {}),
    workers: 1,
    size: o.size,
    batch: o.batch,
    width: o.width,
    frames: o.frames,
    n: o.n,
    trainStepMs,
    forwardMs,
    finetuneStepMs,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** `mimanet bench --flow`: TV-L1 timings, in-process, against OpenCV, or in Chromium. */
async function benchFlow(f: Record<string, string | boolean | undefined>): Promise<void> {
  const { runFlowAgainstOpencv, formatOpencvReport, runFlowInBrowser } = await import('./bench-flow.js');
  const { knownMotionPair, standardPairs, median } = await import('../motion/pairs.js');
  const { opticalFlow } = await import('../motion/flow.js');
  const size = positiveInt('size', f.size as string);
  const threads = f.threads === undefined ? 1 : positiveInt('threads', f.threads as string);
  const rounds = positiveInt('rounds', f.rounds as string);
  const log = f.json ? undefined : (line: string) => process.stderr.write(`mimanet bench: ${line}\n`);
  if (f.photos !== undefined && !f.againstOpencv) throw new Error('option --photos applies to --flow --against-opencv (the pairs both sides compute)');
  if (f.againstOpencv) {
    const report = await runFlowAgainstOpencv({ size, threads, rounds, python: f.python as string | undefined, photos: f.photos as string | true | undefined, log });
    process.stdout.write(f.json ? JSON.stringify(report) + '\n' : formatOpencvReport(report) + '\n\n' + JSON.stringify(report) + '\n');
    return;
  }
  if (f.browser) {
    const report = await runFlowInBrowser({ size, threads, rounds, log });
    if (!f.json) process.stderr.write(`mimanet bench: TV-L1 ${size}x${size} per pair: ${report.browser} (TypeScript) ${report.chromiumTsMs.toFixed(1)} ms, Node TypeScript ${report.nodeTsMs.toFixed(1)} ms, Node native (${threads} thread(s)) ${report.nodeNativeMs.toFixed(1)} ms\n`);
    process.stdout.write(JSON.stringify(report) + '\n');
    return;
  }
  const pairs = standardPairs(size, size).map((p) => knownMotionPair(p.motion, p.seed, size, size));
  opticalFlow(pairs[0].i0, pairs[0].i1, size, size, {}, { threads });
  const ms: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const p of pairs) {
      const t0 = performance.now();
      opticalFlow(p.i0, p.i1, size, size, {}, { threads });
      ms.push(performance.now() - t0);
    }
  }
  process.stdout.write(JSON.stringify({ size, threads, pairs: pairs.length, rounds, medianMs: median(ms), minMs: Math.min(...ms), maxMs: Math.max(...ms) }) + '\n');
}

/** `mimanet bench --spot`: the spotter on one synthetic long video, against the video's length. */
async function benchSpot(f: Record<string, string | boolean | undefined>): Promise<void> {
  const { runSpotBench, formatSpotBenchReport } = await import('./bench-spot.js');
  const seconds = Number(f.seconds);
  if (!(Number.isFinite(seconds) && seconds > 0)) throw new Error(`option --seconds is ${JSON.stringify(f.seconds)}: expected a positive number of seconds`);
  const fps = Number(f.fps);
  if (!(Number.isFinite(fps) && fps > 0)) throw new Error(`option --fps is ${JSON.stringify(f.fps)}: expected a positive number of frames per second`);
  const report = await runSpotBench({
    seconds,
    fps,
    size: positiveInt('size', f.size as string),
    threads: f.threads === undefined ? 1 : positiveInt('threads', f.threads as string),
    rounds: positiveInt('rounds', f.rounds as string),
    log: f.json ? undefined : (line: string) => process.stderr.write(`mimanet bench: ${line}\n`),
  });
  process.stdout.write(f.json ? JSON.stringify(report) + '\n' : formatSpotBenchReport(report) + '\n\n' + JSON.stringify(report) + '\n');
}

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`option --${name} is ${JSON.stringify(v)}: expected a positive integer`);
  return n;
}

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('time a ResNet18 train step, a forward pass and a full guided fine-tuning step (medians after warm-up)')
    .option('--size <px>', 'image size', String(DEFAULT_BENCH_OPTIONS.size))
    .option('--batch <n>', 'images per ResNet18 step', String(DEFAULT_BENCH_OPTIONS.batch))
    .option('--width <n>', 'ResNet18 width (64 = the paper)', String(DEFAULT_BENCH_OPTIONS.width))
    .option('--frames <T>', 'frames per clip in the fine-tuning step', String(DEFAULT_BENCH_OPTIONS.frames))
    .option('--n <n>', 'micro (and macro) clips per fine-tuning step', String(DEFAULT_BENCH_OPTIONS.n))
    .option('--steps <n>', 'timed repetitions', String(DEFAULT_BENCH_OPTIONS.steps))
    .option('--skip-finetune', 'time only the ResNet18 step and forward pass')
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .option('--threads <n>', 'threads of the backend (native, wasm); default: the backend\'s own')
    .option('--json', 'print only the JSON object')
    .option('--against-torch', 'interleave PyTorch (bench/torch_ref.py) and mimanet, each run its own process, and report per-pair ratios (needs python3-torch)')
    .option('--pairs <n>', 'PyTorch/mimanet pairs of --against-torch', '5')
    .option('--torch-device <name>', 'PyTorch\'s device for --against-torch: cpu, or cuda on an NVIDIA GPU', 'cpu')
    .option('--python <cmd>', 'interpreter with PyTorch for --against-torch, with OpenCV for --flow --against-opencv (default: MIMANET_PYTHON or MIMANET_OPENCV_PYTHON, python3, /usr/bin/python3)')
    .option('--flow', 'time TV-L1 optical flow instead: a pair of --size (default 128 here) with the default parameters, on the known-motion pairs')
    .option('--against-opencv', 'with --flow: interleave OpenCV DualTVL1 (bench/tvl1_ref.py) and `mimanet flow`, each run its own process (needs python3-opencv)')
    .option('--photos [dir]', 'with --flow --against-opencv: twelve pairs cut from real photos (.jpg, .png) with known motion instead of the textured pairs; default folder: the face detector package\'s demo photos')
    .option('--browser', 'with --flow: time the TypeScript TV-L1 in headless Chromium (and in Node), as pages run it')
    .option('--rounds <n>', 'with --flow: OpenCV/mimanet rounds, or repetitions of the pairs with --browser; with --spot: timed spots of the video', '3')
    .option('--spot', 'time the spotter instead (mimanet spot): one synthetic long video at --size (default 64 here), its flows on --threads')
    .option('--seconds <s>', 'with --spot: length of the video', '30')
    .option('--fps <n>', 'with --spot: frame rate of the video', '30')
    .action(async (f: Record<string, string | boolean | undefined>, cmd: Command) => {
      if (f.spot) {
        if (f.flow || f.againstOpencv || f.browser || f.againstTorch) throw new Error('--spot times the spotter alone: leave out --flow, --against-opencv, --browser and --against-torch');
        // --size defaults to 64 for the spotter, its working size
        await benchSpot({ ...f, size: cmd.getOptionValueSource('size') === 'default' ? '64' : f.size });
        return;
      }
      if (f.flow) {
        // --size defaults to 128 for the flow, the size the speed target is set at
        await benchFlow({ ...f, size: cmd.getOptionValueSource('size') === 'default' ? '128' : f.size });
        return;
      }
      if (f.againstOpencv || f.browser) throw new Error('--against-opencv and --browser time optical flow: add --flow');
      const o: BenchOptions = {
        size: positiveInt('size', f.size as string),
        batch: positiveInt('batch', f.batch as string),
        width: positiveInt('width', f.width as string),
        frames: positiveInt('frames', f.frames as string),
        n: positiveInt('n', f.n as string),
        steps: positiveInt('steps', f.steps as string),
        skipFinetune: Boolean(f.skipFinetune),
      };
      if (!o.skipFinetune) {
        try {
          checkIntervals({ sc: PAPER.model.sc, K: PAPER.model.K, frames: o.frames });
        } catch (e) {
          throw new Error(`option --frames is ${o.frames}: ${(e as Error).message}`);
        }
      }
      const threads = f.threads === undefined ? undefined : positiveInt('threads', f.threads as string);
      if (f.againstTorch) {
        const report = runAgainstTorch({
          bench: o,
          pairs: positiveInt('pairs', f.pairs as string),
          threads: threads ?? 2,
          backend: backendFlag(f.backend as string | undefined),
          python: f.python as string | undefined,
          torchDevice: f.torchDevice as string,
          log: f.json ? undefined : (line) => process.stderr.write(`mimanet bench: ${line}\n`),
        });
        process.stdout.write(f.json ? JSON.stringify(report) + '\n' : formatReport(report) + '\n\n' + JSON.stringify(report) + '\n');
        return;
      }
      const backend = await initBackend(backendFlag(f.backend as string | undefined), threads === undefined ? {} : { threads });
      const on = backend.adapter ? `adapter ${backend.adapter.description || backend.adapter.device} (${backend.adapter.vendor}, ${backend.adapter.architecture}${backend.adapter.cpu ? ', a CPU driver' : ''})` : `${backend.threads} thread(s)`;
      if (!f.json) process.stderr.write(`mimanet bench: backend ${backend.name} (${on}), ${o.size}x${o.size}, width ${o.width}\n`);
      const result = await runBench(o, backend);
      process.stdout.write(JSON.stringify(result) + '\n');
    });
}
