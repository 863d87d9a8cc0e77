/**
 * Backend choice, checkpoint loading (from a URL or from picked files) and
 * MiNet inference in the browser.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// registers the custom layers of saved checkpoints; the bindings keep bundlers from dropping them
import { TemporalAggregate } from '../../src/model/temporal-aggregate.js';
import { GradientReversal } from '../../src/model/grl.js';
import { INPUT_MODES, makeBatch, type InputMode, type Normalization } from '../../src/data/batches.js';

export const CUSTOM_LAYERS = [TemporalAggregate, GradientReversal];

/** Backends in the order they are tried when none is asked for. */
export const BACKEND_ORDER = ['webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

/** Where the build puts the tfjs-backend-wasm binaries, relative to the page. */
export const WASM_DIR = 'wasm/';

/**
 * Starts the first backend of `order` that initialises; `wanted` goes first.
 * Returns the backend in use.
 */
export async function chooseBackend(wanted?: string): Promise<string> {
  setWasmPaths(new URL(WASM_DIR, document.baseURI).href);
  const order: string[] = wanted ? [wanted, ...BACKEND_ORDER.filter((b) => b !== wanted)] : [...BACKEND_ORDER];
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return tf.getBackend();
      }
    } catch {
      // next one
    }
  }
  throw new Error(`no TensorFlow.js backend would start (tried ${order.join(', ')})`);
}

/** A few words on how the backend runs: the WebGL renderer (a software one is slow), wasm SIMD and threads. */
export async function backendDetail(): Promise<string> {
  const name = tf.getBackend();
  try {
    if (name === 'webgl') {
      const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
      const ext = gl?.getExtension('WEBGL_debug_renderer_info');
      const renderer = gl && ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : 'unknown renderer';
      return `WebGL ${tf.env().get('WEBGL_VERSION')} on ${renderer}`;
    }
    if (name === 'wasm') {
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      return `WebAssembly${simd ? ' SIMD' : ''}${threads ? ', multithreaded' : ', one thread'}`;
    }
  } catch {
    // details are a nicety
  }
  return name;
}

/** What mimanet.json says, as far as the page needs it. */
export interface DemoMeta {
  labels: string[];
  net: { size: number; channels: 1 | 3; frames: number; width?: number; sc?: number; K?: number };
  temporal: string;
  normalization: Normalization;
  provenance?: Record<string, unknown>;
}

export interface DemoModel {
  model: tf.LayersModel;
  meta: DemoMeta;
  /** Where it came from, for the status line. */
  source: string;
  /** Trainable and non-trainable weights. */
  params: number;
}

function fail(file: string, field: string, value: unknown, want: string): never {
  throw new Error(`${file}: ${field} is ${JSON.stringify(value)}, expected ${want}`);
}

/** Checks the fields the page relies on; errors name the field and quote the value. */
export function parseMeta(json: unknown, file = 'mimanet.json'): DemoMeta {
  if (typeof json !== 'object' || json === null) fail(file, 'the content', json, 'an object');
  const m = json as Record<string, unknown>;
  if (m.format !== 'mimanet-checkpoint') fail(file, 'format', m.format, '"mimanet-checkpoint"');
  const labels = m.labels;
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string')) fail(file, 'labels', labels, 'two or more class names');
  const net = m.net as Record<string, unknown> | undefined;
  if (typeof net !== 'object' || net === null) fail(file, 'net', net, 'an object');
  const posInt = (k: string): number => {
    const v = net[k];
    if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) fail(file, `net.${k}`, v, 'a positive integer');
    return v;
  };
  const size = posInt('size');
  const frames = posInt('frames');
  const channels = net.channels;
  if (channels !== 1 && channels !== 3) fail(file, 'net.channels', channels, '1 or 3');
  const norm = m.normalization as Record<string, unknown> | undefined;
  if (typeof norm !== 'object' || norm === null) fail(file, 'normalization', norm, '{ mean, std }');
  for (const k of ['mean', 'std'] as const) {
    const v = norm[k];
    const ok = Array.isArray(v) && (v.length === 1 || v.length === channels) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!ok) fail(file, `normalization.${k}`, v, channels === 1 ? 'one number' : 'one or three numbers');
  }
  if ((norm.std as number[]).some((s) => s <= 0)) fail(file, 'normalization.std', norm.std, 'positive numbers');
  const input = norm.input ?? 'frames';
  if (!(INPUT_MODES as readonly unknown[]).includes(input)) fail(file, 'normalization.input', norm.input, INPUT_MODES.join(' or '));
  return {
    labels: labels as string[],
    net: { ...(net as object), size, frames, channels } as DemoMeta['net'],
    temporal: String(m.temporal ?? 'mean'),
    normalization: { mean: norm.mean as number[], std: norm.std as number[], input: input as InputMode },
    provenance: m.provenance as Record<string, unknown> | undefined,
  };
}

function checkAgainstModel(model: tf.LayersModel, meta: DemoMeta, where: string): void {
  const out = model.outputs[0]!.shape;
  const classes = out[out.length - 1];
  if (classes !== meta.labels.length) throw new Error(`${where}: the model outputs ${classes} classes but mimanet.json lists ${meta.labels.length} labels`);
  const { size, channels, frames } = meta.net;
  const byName = new Map(model.inputs.map((s) => [s.name.replace(/:\d+$/, ''), s.shape]));
  const want: Record<string, number[]> = { apex: [size, size, channels], frames: [frames, size, size, channels] };
  for (const [name, shape] of Object.entries(want)) {
    const got = byName.get(name);
    if (!got) throw new Error(`${where}: model.json has no input named "${name}" (inputs: ${[...byName.keys()].join(', ')})`);
    if (got.slice(1).join(',') !== shape.join(',')) throw new Error(`${where}: input "${name}" is [${got.slice(1).join(', ')}], mimanet.json implies [${shape.join(', ')}]`);
  }
}

function countParams(model: tf.LayersModel): number {
  return model.weights.reduce((s, w) => s + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
}

/** Loads `model.json`, its weights and `mimanet.json` from a folder URL. */
export async function loadFromUrl(base: string): Promise<DemoModel> {
  const dir = new URL(base.endsWith('/') ? base : `${base}/`, document.baseURI);
  const metaUrl = new URL('mimanet.json', dir).href;
  const res = await fetch(metaUrl);
  if (!res.ok) throw new Error(`${metaUrl}: HTTP ${res.status} ${res.statusText}`);
  let json: unknown;
  try {
    json = await res.json();
  } catch (e) {
    throw new Error(`${metaUrl}: not JSON (${(e as Error).message})`);
  }
  const meta = parseMeta(json, metaUrl);
  const model = await tf.loadLayersModel(new URL('model.json', dir).href);
  checkAgainstModel(model, meta, dir.href);
  return { model, meta, source: dir.href, params: countParams(model) };
}

/** Loads from files picked or dropped: model.json, the weight files it names, mimanet.json. */
export async function loadFromFiles(files: readonly File[]): Promise<DemoModel> {
  const byName = new Map(files.map((f) => [f.name, f]));
  const modelJson = byName.get('model.json');
  const metaJson = byName.get('mimanet.json');
  const missing = [!modelJson && 'model.json', !metaJson && 'mimanet.json'].filter(Boolean);
  if (missing.length) throw new Error(`the chosen files lack ${missing.join(' and ')} (got: ${files.map((f) => f.name).join(', ') || 'nothing'})`);
  let topology: { weightsManifest?: Array<{ paths: string[] }> };
  try {
    topology = JSON.parse(await modelJson!.text());
  } catch (e) {
    throw new Error(`model.json: cannot parse (${(e as Error).message})`);
  }
  const weightNames = (topology.weightsManifest ?? []).flatMap((g) => g.paths.map((p) => p.split('/').pop()!));
  const absent = weightNames.filter((n) => !byName.has(n));
  if (absent.length) throw new Error(`model.json names weight file(s) ${absent.join(', ')}, which were not among the chosen files`);
  let json: unknown;
  try {
    json = JSON.parse(await metaJson!.text());
  } catch (e) {
    throw new Error(`mimanet.json: cannot parse (${(e as Error).message})`);
  }
  const meta = parseMeta(json);
  const model = await tf.loadLayersModel(tf.io.browserFiles([modelJson!, ...weightNames.map((n) => byName.get(n)!)]));
  checkAgainstModel(model, meta, 'the chosen files');
  return { model, meta, source: files.length === 1 ? files[0]!.name : `${modelJson!.name} + ${files.length - 1} files`, params: countParams(model) };
}

export interface Prediction {
  probs: number[];
  /** Index of the largest probability. */
  best: number;
  /** Wall time of model.predict and the read-back, ms. */
  ms: number;
}

/**
 * One clip (T frames of size x size x channels bytes, onset first, apex last)
 * through MiNet, normalised by `makeBatch` exactly as in training.
 */
export async function predictClip(m: DemoModel, clip: Uint8Array): Promise<Prediction> {
  const { size, channels, frames } = m.meta.net;
  const set = { name: 'demo', labels: m.meta.labels, frames, height: size, width: size, channels, clips: [{ id: 'clip', subject: 'demo', source: 'demo', label: 0, frames: clip }] };
  const batch = makeBatch(set, [0], { normalization: m.meta.normalization });
  const t0 = performance.now();
  try {
    const inputs = m.model.inputNames.map((n) => (n.startsWith('apex') ? batch.apex : batch.frames));
    const out = m.model.predict(inputs) as tf.Tensor;
    const probs = Array.from(await out.data());
    out.dispose();
    const ms = performance.now() - t0;
    const best = probs.reduce((bi, p, i) => (p > probs[bi]! ? i : bi), 0);
    return { probs, best, ms };
  } finally {
    batch.apex.dispose();
    batch.frames.dispose();
  }
}
