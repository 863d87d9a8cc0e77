/**
 * `mimanet bench --against-torch`: PyTorch (bench/torch_ref.py) and `mimanet bench`
 * interleaved, A B A B, each run its own process with the same arguments, so that a
 * change of load hits both sides of a pair alike. Reports each pair's ratio
 * (mimanet / PyTorch), the median of the ratios and their spread, and the load
 * average before and after.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchResult } from './bench.js';

/** The figures compared, in the order of the table. */
export const PAIR_METRICS = ['trainStepMs', 'forwardMs', 'finetuneStepMs', 'peakRssMb'] as const;
export type PairMetric = (typeof PAIR_METRICS)[number];

/** One side's figures of one run (a metric is null when that run did not time it). */
export type SideFigures = Partial<Record<PairMetric, number | null>>;

export interface Pair {
  torch: SideFigures;
  mimanet: SideFigures;
}

export interface MetricSummary {
  /** mimanet / PyTorch of each pair, in run order (null where either side lacks the figure). */
  ratios: Array<number | null>;
  /** Median, min and max of the pairs' ratios; null when no pair has both figures. */
  median: number | null;
  min: number | null;
  max: number | null;
  /** Medians of each side's raw figures. */
  torchMedian: number | null;
  mimanetMedian: number | null;
}

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function num(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Ratio mimanet / PyTorch of one pair, or null where a side lacks the figure or PyTorch's is 0. */
export function pairRatio(p: Pair, metric: PairMetric): number | null {
  const t = p.torch[metric];
  const m = p.mimanet[metric];
  return num(t) && num(m) && t > 0 ? m / t : null;
}

/** Per-pair ratios of one metric and their median and spread: the ratio is taken within a pair, then summarised. */
export function summarizePairs(pairs: Pair[], metric: PairMetric): MetricSummary {
  const ratios = pairs.map((p) => pairRatio(p, metric));
  const ok = ratios.filter(num);
  const side = (s: 'torch' | 'mimanet'): number | null => median(pairs.map((p) => p[s][metric]).filter(num));
  return {
    ratios,
    median: median(ok),
    min: ok.length ? Math.min(...ok) : null,
    max: ok.length ? Math.max(...ok) : null,
    torchMedian: side('torch'),
    mimanetMedian: side('mimanet'),
  };
}

export interface AgainstTorchOptions {
  bench: BenchOptions;
  /** Pairs of runs, at least 1 (5 or more for figures worth quoting). */
  pairs: number;
  /** Threads of both sides. */
  threads: number;
  /** mimanet's --backend. */
  backend: string;
  /** Python interpreter with PyTorch; default: MIMANET_PYTHON, else the first of python3, /usr/bin/python3 that imports torch. */
  python?: string;
  /** PyTorch's device (`cpu`, `cuda`); default cpu. */
  torchDevice?: string;
  /** Called with a line of progress (stderr). */
  log?: (line: string) => void;
}

export interface AgainstTorchReport {
  date: string;
  args: Record<string, number | string | boolean>;
  loadBefore: [number, number, number];
  loadAfter: [number, number, number];
  torchVersion: string | null;
  pairs: Array<{ torch: BenchResult & { torchVersion?: string }; mimanet: BenchResult }>;
  summary: Record<PairMetric, MetricSummary>;
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** The package root, from src/cli or dist/cli. */
const ROOT = join(HERE, '..', '..');
export const TORCH_REF = join(ROOT, 'bench', 'torch_ref.py');
const MIMANET_BIN = join(ROOT, 'bin', 'mimanet.js');

/** The first interpreter that imports torch, or an Error with the one-line reason. */
export function findTorchPython(explicit?: string): string {
  const candidates = explicit ? [explicit] : process.env.MIMANET_PYTHON ? [process.env.MIMANET_PYTHON] : ['python3', '/usr/bin/python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  throw new Error(
    `--against-torch needs PyTorch, and ${candidates.join(' and ')} cannot import torch: install it (Debian: apt-get install -y python3-torch) or name the interpreter with --python`,
  );
}

function runJson(cmd: string, args: string[], what: string): Record<string, unknown> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) {
    const tail = `${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${tail || r.error?.message || 'no output'}`);
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`${what} printed no JSON object: ${line.slice(0, 200)}`);
  }
}

function benchArgs(o: BenchOptions, threads: number): string[] {
  const a = ['--size', o.size, '--batch', o.batch, '--width', o.width, '--frames', o.frames, '--n', o.n, '--steps', o.steps, '--threads', threads].map(String);
  if (o.skipFinetune) a.push('--skip-finetune');
  return a;
}

const load = (): [number, number, number] => loadavg().map((x) => Math.round(x * 100) / 100) as [number, number, number];

export function runAgainstTorch(o: AgainstTorchOptions): AgainstTorchReport {
  if (!existsSync(TORCH_REF)) throw new Error(`--against-torch: the reference script ${TORCH_REF} is missing`);
  const python = findTorchPython(o.python);
  const args = benchArgs(o.bench, o.threads);
  const log = o.log ?? (() => undefined);
  const loadBefore = load();
  log(`load average before: ${loadBefore.join(' ')}`);
  const pairs: AgainstTorchReport['pairs'] = [];
  for (let i = 0; i < o.pairs; i++) {
    const torch = runJson(python, [TORCH_REF, ...args, '--device', o.torchDevice ?? 'cpu'], `PyTorch run ${i + 1}`) as unknown as BenchResult & { torchVersion?: string };
    const mimanet = runJson(process.execPath, [MIMANET_BIN, 'bench', ...args, '--backend', o.backend, '--json'], `mimanet run ${i + 1}`) as unknown as BenchResult;
    pairs.push({ torch, mimanet });
    const r = (m: PairMetric): string => {
      const x = pairRatio({ torch, mimanet }, m);
      return x === null ? '-' : `${x.toFixed(2)}x`;
    };
    log(`pair ${i + 1}/${o.pairs}: train ${torch.trainStepMs}/${mimanet.trainStepMs} ms (${r('trainStepMs')}), forward ${torch.forwardMs}/${mimanet.forwardMs} ms (${r('forwardMs')}), fine-tune ${torch.finetuneStepMs ?? '-'}/${mimanet.finetuneStepMs ?? '-'} ms (${r('finetuneStepMs')})`);
  }
  const loadAfter = load();
  log(`load average after: ${loadAfter.join(' ')}`);
  const summary = Object.fromEntries(PAIR_METRICS.map((m) => [m, summarizePairs(pairs, m)])) as Record<PairMetric, MetricSummary>;
  return {
    date: new Date().toISOString(),
    args: { ...o.bench, threads: o.threads, backend: o.backend, torchDevice: o.torchDevice ?? 'cpu', pairs: o.pairs },
    loadBefore,
    loadAfter,
    torchVersion: pairs[0]?.torch.torchVersion ?? null,
    pairs,
    summary,
  };
}

const LABELS: Record<PairMetric, string> = {
  trainStepMs: 'train step (ms)',
  forwardMs: 'forward (ms)',
  finetuneStepMs: 'full fine-tuning step (ms)',
  peakRssMb: 'peak memory (MB)',
};

function fmt(x: number | null | undefined, digits = 0): string {
  return num(x) ? x.toFixed(digits) : '-';
}

/** A Markdown table: one row per metric, each pair as `PyTorch / mimanet = ratio`, then the medians and spread. */
export function formatReport(r: AgainstTorchReport): string {
  const lines = [
    `load average (1, 5, 15 min) before: ${r.loadBefore.join(', ')}; after: ${r.loadAfter.join(', ')}`,
    '',
    `| | ${r.pairs.map((_, i) => `pair ${i + 1}: PyTorch / mimanet`).join(' | ')} | median PyTorch | median mimanet | median ratio | min - max |`,
    `|---|${r.pairs.map(() => '---|').join('')}---|---|---|---|`,
  ];
  for (const m of PAIR_METRICS) {
    const s = r.summary[m];
    if (s.median === null) continue;
    const cells = r.pairs.map((p, i) => `${fmt(p.torch[m], 1)} / ${fmt(p.mimanet[m], 1)} = ${fmt(s.ratios[i], 2)}x`);
    lines.push(`| ${LABELS[m]} | ${cells.join(' | ')} | ${fmt(s.torchMedian, 1)} | ${fmt(s.mimanetMedian, 1)} | ${fmt(s.median, 2)}x | ${fmt(s.min, 2)}x - ${fmt(s.max, 2)}x |`);
  }
  return lines.join('\n');
}
