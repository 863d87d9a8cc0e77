/**
 * Chooses and initialises the TensorFlow.js backend mimanet computes on.
 *
 * Preference for 'auto': a GPU first, then the CPU backends.
 * - tfjs-node-gpu (libtensorflow with CUDA, optional dependency) when it can be imported;
 * - webgpu (./webgpu.ts) only when Dawn finds an adapter that is not a CPU implementation
 *   (SwiftShader and lavapipe are CPU drivers: 'auto' never picks them, `--backend webgpu` does);
 * - tfjs-node (native TensorFlow on the CPU, optional dependency) when it can be imported;
 * - 'native' (the cpu backend with mimanet's C++ addon for convolutions and matrix products,
 *   see ./native.ts) when the addon was built;
 * - wasm (XNNPACK, with the training kernels of ./wasm_kernels.ts added);
 * - the pure-JS cpu backend.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from './wasm_kernels.js';
import { NATIVE_BACKEND, registerNativeBackend } from './native.js';
import { activateWebGpu, adapterTag, probeAdapter, WEBGPU_BACKEND, type GpuAdapter } from './webgpu.js';

export type { GpuAdapter } from './webgpu.js';

export type BackendChoice = 'auto' | 'tfjs-node-gpu' | 'webgpu' | 'tfjs-node' | 'native' | 'wasm' | 'cpu';

/** Options of {@link initBackend}. */
export interface BackendOptions {
  /** Worker threads for backends that can use several; default: the backend's own default. */
  threads?: number;
  /**
   * Native backend with oneDNN: the OpenMP threads each oneDNN kernel is built for and runs with.
   * oneDNN splits its sums by this count, so it is part of the backend's identity (`native/onednn-t2`)
   * and every thread of a run uses the run's count, however many fold workers share the cores.
   * Default: `threads` when given (benchmarks), else the machine's cores.
   */
  onednnThreads?: number;
}

export interface BackendInfo {
  /** tfjs name of the active backend ('tensorflow', 'webgpu', 'wasm', 'cpu'). */
  name: string;
  /** The choice initBackend was called with. */
  requested: string;
  /** Threads the backend computes with. */
  threads: number;
  tfjsVersion: string;
  notes?: string;
  /**
   * For the native backend, which kernels do the heavy work: `onednn` (oneDNN's convolutions and
   * GEMMs), `onednn-gemm` (its GEMMs only) or `builtin`; for tfjs-node-gpu `cuda`; for webgpu the
   * adapter (`google-swiftshader`: vendor and architecture). They round differently, so a results
   * folder counts a change of kernels as a change of backend.
   */
  kernels?: string;
  /** webgpu: the adapter Dawn computes on (vendor, architecture, device, driver description). */
  adapter?: GpuAdapter;
  /** Native backend with oneDNN kernels: the OpenMP threads they compute with (see {@link BackendOptions.onednnThreads}). */
  onednnThreads?: number;
}

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'native', 'wasm', 'cpu'];

/** Backends that compute on a GPU: a local run on them uses one fold worker (more would only share the GPU). */
export function isGpuBackend(info: Pick<BackendInfo, 'name' | 'kernels'>): boolean {
  return info.name === WEBGPU_BACKEND || (info.name === TFJS_NODE_BACKEND && info.kernels === TFJS_NODE_GPU_KERNELS);
}

/** The backend `v` names; the error quotes it and lists the choices. */
export function checkBackendChoice(v: unknown): BackendChoice {
  if (!(BACKEND_CHOICES as readonly unknown[]).includes(v)) throw new Error(`unknown backend '${String(v)}'; expected one of ${BACKEND_CHOICES.join(', ')}`);
  return v as BackendChoice;
}

const TFJS_NODE_PACKAGE = '@tensorflow/tfjs-node';
const TFJS_NODE_GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';
const TFJS_NODE_BACKEND = 'tensorflow';
/** `kernels` of tfjs-node-gpu: it registers the same 'tensorflow' backend as tfjs-node. */
const TFJS_NODE_GPU_KERNELS = 'cuda';

/** Imports a package by name; tests pass their own to stand in for packages not installed. */
export type PackageImporter = (spec: string) => Promise<unknown>;
// A variable specifier keeps TypeScript and bundlers from requiring the optional packages.
const importPackage: PackageImporter = (spec) => import(spec);
let importer: PackageImporter = importPackage;

/** Replaces how initBackend imports tfjs-node and tfjs-node-gpu (undefined: the real import). */
export function setPackageImporter(f: PackageImporter | undefined): void {
  importer = f ?? importPackage;
}

let current: BackendInfo | undefined;
/** choice and threads of the call that produced `current`. */
let currentKey = '';

export function currentBackendInfo(): BackendInfo | undefined {
  return current;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

/** tfjs-node or tfjs-node-gpu: both register the 'tensorflow' backend, on the CPU or on CUDA. */
async function useTensorflow(gpu: boolean): Promise<Omit<BackendInfo, 'requested'>> {
  const choice = gpu ? 'tfjs-node-gpu' : 'tfjs-node';
  const pkg = gpu ? TFJS_NODE_GPU_PACKAGE : TFJS_NODE_PACKAGE;
  const other = gpu ? TFJS_NODE_PACKAGE : TFJS_NODE_GPU_PACKAGE;
  // each package registers 'tensorflow' with its own libtensorflow; the first loaded keeps the name
  if (loadedTensorflow !== undefined && loadedTensorflow !== pkg) {
    throw new Error(`backend '${choice}' is unavailable: ${other} already registered the '${TFJS_NODE_BACKEND}' backend in this process`);
  }
  try {
    await importer(pkg);
  } catch (e) {
    const needs = gpu ? '; it needs CUDA 11.2 and cuDNN 8.1 (see README: Training on a GPU)' : '';
    throw new Error(`backend '${choice}' is unavailable: ${pkg} could not be imported (${errorText(e)})${needs}`);
  }
  if (tf.findBackendFactory(TFJS_NODE_BACKEND) == null) {
    throw new Error(`backend '${choice}' is unavailable: ${pkg} loaded but registered no ` +
      `'${TFJS_NODE_BACKEND}' backend with this copy of @tensorflow/tfjs (versions must match ${tf.version_core})`);
  }
  loadedTensorflow = pkg;
  if (!(await tf.setBackend(TFJS_NODE_BACKEND))) {
    throw new Error(`backend '${choice}' is unavailable: the '${TFJS_NODE_BACKEND}' backend failed to initialise`);
  }
  // libtensorflow for GPU falls back to the CPU where it cannot open CUDA; that is not this backend
  if (gpu && usesGpuDevice(tf.backend()) === false) {
    throw new Error(`backend '${choice}' is unavailable: ${pkg} loaded, but libtensorflow found no CUDA device; it needs CUDA 11.2 and cuDNN 8.1 (see README: Training on a GPU)`);
  }
  return { name: TFJS_NODE_BACKEND, threads: 0, tfjsVersion: tf.version_core, notes: 'threads chosen by libtensorflow',
    ...(gpu ? { kernels: TFJS_NODE_GPU_KERNELS } : {}) };
}

/** tfjs-node's answer to whether libtensorflow computes on a GPU (a property or a method), if it gives one. */
function usesGpuDevice(backend: unknown): boolean | undefined {
  const v = (backend as { isUsingGpuDevice?: unknown }).isUsingGpuDevice;
  if (typeof v === 'function') return Boolean((v as () => unknown).call(backend));
  return typeof v === 'boolean' ? v : undefined;
}

/** The package that registered the 'tensorflow' backend in this process. */
let loadedTensorflow: string | undefined;

function webGpuInfo(adapter: GpuAdapter): Omit<BackendInfo, 'requested'> {
  const on = `${adapter.description || adapter.device || adapter.architecture} (${adapter.vendor}${adapter.cpu ? ', a CPU driver' : ''})`;
  return { name: WEBGPU_BACKEND, threads: 0, tfjsVersion: tf.version_core, kernels: adapterTag(adapter), adapter, notes: `Dawn on ${on}` };
}

async function useWebGpu(): Promise<Omit<BackendInfo, 'requested'>> {
  try {
    return webGpuInfo(await activateWebGpu());
  } catch (e) {
    throw new Error(`backend 'webgpu' is unavailable: ${errorText(e)}`);
  }
}

/**
 * Why 'auto' does not take webgpu with what Dawn found (undefined: it does). The rule: only a real GPU,
 * never a CPU driver (SwiftShader, lavapipe), which is slower than the CPU backends.
 */
export function autoWebGpuRefusal(found: { adapter?: GpuAdapter; why?: string }): string | undefined {
  if (!found.adapter) return `backend 'webgpu' is unavailable: ${found.why ?? 'no adapter'}`;
  if (found.adapter.cpu) return `backend 'webgpu' skipped: its adapter ${found.adapter.description || found.adapter.architecture} is a CPU driver`;
  return undefined;
}

async function useWebGpuOnGpu(): Promise<Omit<BackendInfo, 'requested'>> {
  const refusal = autoWebGpuRefusal(await probeAdapter());
  if (refusal) throw new Error(refusal);
  return useWebGpu();
}

async function useNative(opts: BackendOptions): Promise<Omit<BackendInfo, 'requested'>> {
  let lib: ReturnType<typeof registerNativeBackend>;
  try {
    lib = registerNativeBackend();
  } catch (e) {
    throw new Error(`backend 'native' is unavailable: ${errorText(e)}`);
  }
  if (opts.threads !== undefined) lib.setThreads(opts.threads);
  if (!(await tf.setBackend(NATIVE_BACKEND))) throw new Error(`backend 'native' is unavailable: it failed to initialise`);
  const notes = lib.simdInfo();
  const kernels = notes.includes('convolutions by oneDNN') ? 'onednn' : notes.includes('GEMMs by oneDNN') ? 'onednn-gemm' : 'builtin';
  const onednnThreads = lib.setOneDnnThreads(opts.onednnThreads ?? opts.threads ?? availableParallelism());
  return { name: NATIVE_BACKEND, threads: lib.getThreads(), tfjsVersion: tf.version_core, notes, kernels,
    ...(kernels === 'builtin' || onednnThreads === 0 ? {} : { onednnThreads }) };
}

async function useWasm(opts: BackendOptions): Promise<Omit<BackendInfo, 'requested'>> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    throw new Error(`backend 'wasm' is unavailable: @tensorflow/tfjs-backend-wasm could not be imported (${errorText(e)})`);
  }
  registerWasmTrainingKernels();
  if (opts.threads !== undefined && tf.findBackend('wasm') == null) wasm.setThreadsCount(opts.threads);
  let ok: boolean;
  try {
    ok = await tf.setBackend('wasm');
  } catch (e) {
    throw new Error(`backend 'wasm' is unavailable: ${errorText(e)}`);
  }
  if (!ok) throw new Error(`backend 'wasm' is unavailable: the wasm module failed to initialise`);
  const threads = wasm.getThreadsCount();
  const notes = opts.threads !== undefined && opts.threads !== threads
    ? `asked for ${opts.threads} threads; this wasm build runs ${threads}` : undefined;
  return { name: 'wasm', threads, tfjsVersion: tf.version_core, notes };
}

async function useCpu(): Promise<Omit<BackendInfo, 'requested'>> {
  if (!(await tf.setBackend('cpu'))) throw new Error(`backend 'cpu' is unavailable: it failed to initialise`);
  return { name: 'cpu', threads: 1, tfjsVersion: tf.version_core };
}

/**
 * Makes `choice` the active tfjs backend and returns what was chosen.
 * Calling again with the same choice returns the same info without re-initialising.
 * A forced backend that cannot be used throws an error naming it and why.
 */
export async function initBackend(choice: BackendChoice = 'auto', opts: BackendOptions = {}): Promise<BackendInfo> {
  checkBackendChoice(choice);
  for (const k of ['threads', 'onednnThreads'] as const) {
    const v = opts[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new Error(`backend ${k} must be a positive integer, got ${String(v)}`);
  }
  const key = `${choice}|${opts.threads ?? ''}|${opts.onednnThreads ?? ''}`;
  if (current && currentKey === key && tf.getBackend() === current.name) return current;
  let info: Omit<BackendInfo, 'requested'>;
  if (choice === 'auto') {
    const skipped: string[] = [];
    const order = [() => useTensorflow(true), useWebGpuOnGpu, () => useTensorflow(false), () => useNative(opts), () => useWasm(opts)];
    let found: Omit<BackendInfo, 'requested'> | undefined;
    for (const use of order) {
      try {
        found = await use();
        break;
      } catch (e) {
        skipped.push(errorText(e));
      }
    }
    info = found ?? (await useCpu());
    if (skipped.length > 0) info = { ...info, notes: [info.notes, ...skipped].filter(Boolean).join('; ') };
  } else if (choice === 'tfjs-node-gpu') {
    info = await useTensorflow(true);
  } else if (choice === 'webgpu') {
    info = await useWebGpu();
  } else if (choice === 'tfjs-node') {
    info = await useTensorflow(false);
  } else if (choice === 'native') {
    info = await useNative(opts);
  } else if (choice === 'wasm') {
    info = await useWasm(opts);
  } else {
    info = await useCpu();
  }
  await tf.ready();
  current = { ...info, requested: choice };
  currentKey = key;
  return current;
}
