/**
 * Backend choice, checkpoint loading (from a URL or from picked files) and
 * MiNet inference in the browser.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// importing src/browser.ts registers the custom layers of saved checkpoints
import { CUSTOM_LAYERS, clipFlow, makeBatch, parseCheckpointMeta, type ParsedMeta } from '../../src/browser.js';

export { CUSTOM_LAYERS };

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
export type DemoMeta = ParsedMeta;

/** Checks the fields the page relies on; errors name the field and quote the value. */
export const parseMeta = parseCheckpointMeta;

export interface DemoModel {
  model: tf.LayersModel;
  meta: DemoMeta;
  /** Where it came from, for the status line. */
  source: string;
  /** Trainable and non-trainable weights. */
  params: number;
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
  /** With the flow input: wall time of the clip's optical flow, ms. */
  flowMs?: number;
}

/**
 * One clip (T frames of size x size x frameChannels bytes, onset first, apex last)
 * through MiNet, normalised by `makeBatch` exactly as in training; with the flow
 * input, its TV-L1 flow first, by the checkpoint's flow recipe (`clipFlow`, as
 * training and `predict` compute it). `flowMs` is the time of the flow.
 */
export async function predictClip(m: DemoModel, clip: Uint8Array): Promise<Prediction> {
  const { size, frames } = m.meta.net;
  const channels = m.meta.frameChannels;
  const geometry = { frames, height: size, width: size, channels };
  const recipe = m.meta.normalization.input === 'flow' ? m.meta.preprocessing?.flow : undefined;
  const f0 = performance.now();
  const flow = recipe ? clipFlow(clip, geometry, recipe) : undefined;
  const flowMs = recipe ? performance.now() - f0 : undefined;
  const set = { name: 'demo', labels: m.meta.labels, ...geometry, clips: [{ id: 'clip', subject: 'demo', source: 'demo', label: 0, frames: clip, ...(flow ? { flow } : {}) }] };
  const batch = makeBatch(set, [0], { normalization: m.meta.normalization });
  const t0 = performance.now();
  try {
    const inputs = m.model.inputNames.map((n) => (n.startsWith('apex') ? batch.apex : batch.frames));
    const out = m.model.predict(inputs) as tf.Tensor;
    const probs = Array.from(await out.data());
    out.dispose();
    const ms = performance.now() - t0;
    const best = probs.reduce((bi, p, i) => (p > probs[bi]! ? i : bi), 0);
    return { probs, best, ms, ...(flowMs !== undefined ? { flowMs } : {}) };
  } finally {
    batch.apex.dispose();
    batch.frames.dispose();
  }
}
