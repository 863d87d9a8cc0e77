/**
 * The WebGPU backend in Node: @tensorflow/tfjs-backend-webgpu on Dawn (npm `webgpu`, optional
 * dependencies), which reaches the GPU through its Vulkan driver.
 *
 * Three things stand between the two packages and a working backend in Node 20:
 * - Dawn opens the Vulkan loader (`libvulkan.so.1`) by name. Where the system has none (Debian without
 *   `libvulkan1`), a loader beside the chosen driver is opened first (Chromium ships one next to its
 *   SwiftShader driver), and kept open so that Dawn's own lookup by name finds it.
 * - tfjs-backend-webgpu registers itself only if `navigator.gpu` exists when it is imported, and Node 20
 *   has no `navigator`.
 * - It asks for `requiredFeatures` as a nested array (`[['bgra8unorm-storage']]`), against the spec;
 *   `webgpu` 0.6.2 happens to accept it (it converts the inner array to its string), other builds
 *   need not, so the adapter handed to tfjs flattens the list.
 *
 * Reading a tensor must be asynchronous on this backend (`await t.data()`): its synchronous read needs an
 * `OffscreenCanvas`, which Node lacks.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const WEBGPU_BACKEND = 'webgpu';
const WEBGPU_PACKAGE = 'webgpu';
const TFJS_WEBGPU_PACKAGE = '@tensorflow/tfjs-backend-webgpu';
const VULKAN_LOADER = 'libvulkan.so.1';
/** dlopen flags: RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE (glibc's value; Node does not export it). */
const KEEP_LOADED = 0x2 | 0x100 | 0x1000;

/** The adapter a WebGPU backend computes on, as Dawn describes it. */
export interface GpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a CPU implementation (SwiftShader, lavapipe): Dawn marks such adapters as fallbacks. */
  cpu: boolean;
}

/** Drivers that compute on the CPU, by `architecture`, in case a build does not mark them as fallbacks. */
const CPU_ARCHITECTURES = ['swiftshader', 'llvmpipe', 'lavapipe'];

interface AdapterLike {
  info: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  requestDevice(desc?: { requiredFeatures?: Iterable<unknown> } & Record<string, unknown>): Promise<unknown>;
}
interface GpuLike {
  requestAdapter(opts?: Record<string, unknown>): Promise<AdapterLike | null>;
}
interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

/** What Dawn reports about `adapter`, with `cpu` set for fallback (CPU) adapters. */
export function describeAdapter(info: AdapterLike['info']): GpuAdapter {
  const architecture = String(info.architecture ?? '');
  return {
    vendor: String(info.vendor ?? ''),
    architecture,
    device: String(info.device ?? ''),
    description: String(info.description ?? ''),
    cpu: info.isFallbackAdapter === true || CPU_ARCHITECTURES.includes(architecture.toLowerCase()),
  };
}

/** A short name of the adapter for a backend identity: `google-swiftshader`. */
export function adapterTag(a: GpuAdapter): string {
  const tag = [a.vendor, a.architecture || a.device].filter(Boolean).join('-').toLowerCase().replace(/[^a-z0-9._-]+/g, '_');
  return tag || 'unknown';
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

/** Opens `path` (or a library name) and keeps it loaded; undefined when it opened, else why not. */
function keepLoaded(path: string): string | undefined {
  try {
    process.dlopen({ exports: {} }, path, KEEP_LOADED);
  } catch (e) {
    // a plain library is not a Node addon: it opened (and stays, RTLD_NODELETE) but registered nothing
    if (/did not self-register/.test(errorText(e))) return undefined;
    return errorText(e);
  }
  return undefined;
}

/**
 * Makes a Vulkan loader available to Dawn and returns where it came from, or throws listing the places
 * tried. Order: the system's (`libvulkan.so.1` by name), `MIMANET_VULKAN_LOADER`, the folders of the
 * drivers `VK_ICD_FILENAMES` names, Chromium's (`/usr/lib/chromium`).
 */
export function ensureVulkanLoader(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform !== 'linux') return 'system';
  const tried: string[] = [];
  const system = keepLoaded(VULKAN_LOADER);
  if (system === undefined) return 'system';
  tried.push(`${VULKAN_LOADER} (${system})`);
  const candidates = [
    env.MIMANET_VULKAN_LOADER,
    ...(env.VK_ICD_FILENAMES ?? '').split(':').filter(Boolean).map((f) => join(dirname(f), VULKAN_LOADER)),
    join('/usr/lib/chromium', VULKAN_LOADER),
  ].filter((p): p is string => typeof p === 'string' && p !== '');
  for (const p of [...new Set(candidates)]) {
    if (!existsSync(p)) {
      tried.push(`${p} (missing)`);
      continue;
    }
    const why = keepLoaded(p);
    if (why === undefined) return p;
    tried.push(`${p} (${why})`);
  }
  throw new Error(`no Vulkan loader: tried ${tried.join(', ')}; install the system's (Debian: libvulkan1) or set MIMANET_VULKAN_LOADER to a libvulkan.so.1`);
}

/** Folders where the Vulkan loader looks for driver manifests (besides VK_ICD_FILENAMES / VK_DRIVER_FILES). */
const VULKAN_DRIVER_DIRS = ['/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/etc/vulkan/icd.d'];

/** Whether any Vulkan driver is installed or named: without one Dawn has nothing to find (and says so on stderr). */
export function vulkanDriverNamed(env: NodeJS.ProcessEnv = process.env, dirs: readonly string[] = VULKAN_DRIVER_DIRS): boolean {
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) return true;
  return dirs.some((d) => {
    try {
      return readdirSync(d).some((f) => f.endsWith('.json'));
    } catch {
      return false;
    }
  });
}

let dawn: { gpu: GpuLike; adapter: AdapterLike | null; loader: string } | undefined;

/** Dawn's GPU object and its adapter (null when Dawn found none); loaded once per thread. */
async function openDawn(): Promise<NonNullable<typeof dawn>> {
  if (dawn) return dawn;
  const loader = ensureVulkanLoader();
  let mod: DawnModule;
  try {
    const spec: string = WEBGPU_PACKAGE;
    mod = (await import(spec)) as DawnModule;
  } catch (e) {
    throw new Error(`the ${WEBGPU_PACKAGE} package (Dawn) could not be imported (${errorText(e)})`);
  }
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  dawn = { gpu, adapter, loader };
  return dawn;
}

/** The adapter Dawn offers here, or why there is none; loads nothing into tfjs. */
export async function probeAdapter(): Promise<{ adapter?: GpuAdapter; why?: string }> {
  if (!dawn && !vulkanDriverNamed()) return { why: `no Vulkan driver installed (none in ${VULKAN_DRIVER_DIRS.join(', ')}) or named by VK_ICD_FILENAMES` };
  try {
    const d = await openDawn();
    if (!d.adapter) return { why: `Dawn found no Vulkan adapter (Vulkan loader: ${d.loader}; VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'})` };
    return { adapter: describeAdapter(d.adapter.info) };
  } catch (e) {
    return { why: errorText(e) };
  }
}

/** The adapter tfjs is handed: its device requests get a flat list of features. */
function flatteningAdapter(adapter: AdapterLike): AdapterLike {
  return new Proxy(adapter, {
    get(target, prop) {
      if (prop === 'requestDevice') {
        return (desc?: Parameters<AdapterLike['requestDevice']>[0]) =>
          target.requestDevice(desc?.requiredFeatures ? { ...desc, requiredFeatures: [...desc.requiredFeatures].flat() } : desc);
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * Registers tfjs-backend-webgpu on Dawn's adapter and makes it the active backend; returns the adapter.
 * Throws naming what is missing: the packages, a Vulkan loader, an adapter.
 */
export async function activateWebGpu(): Promise<GpuAdapter> {
  const d = await openDawn();
  if (!d.adapter) throw new Error(`Dawn found no Vulkan adapter (Vulkan loader: ${d.loader}; VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'})`);
  if (tf.findBackendFactory(WEBGPU_BACKEND) == null) {
    const adapter = flatteningAdapter(d.adapter);
    const gpu = { ...Object.fromEntries(['getPreferredCanvasFormat', 'wgslLanguageFeatures'].map((k) => [k, Reflect.get(d.gpu, k)])),
      requestAdapter: async () => adapter };
    const g = globalThis as unknown as { navigator?: Record<string, unknown> };
    if (g.navigator === undefined) g.navigator = {};
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
    try {
      const spec: string = TFJS_WEBGPU_PACKAGE;
      await import(spec);
    } catch (e) {
      throw new Error(`${TFJS_WEBGPU_PACKAGE} could not be imported (${errorText(e)})`);
    }
    if (tf.findBackendFactory(WEBGPU_BACKEND) == null) {
      throw new Error(`${TFJS_WEBGPU_PACKAGE} loaded but registered no '${WEBGPU_BACKEND}' backend with this copy of @tensorflow/tfjs (versions must match ${tf.version_core})`);
    }
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(WEBGPU_BACKEND);
  } catch (e) {
    throw new Error(`it failed to initialise (${errorText(e)})`);
  }
  if (!ok) throw new Error('it failed to initialise');
  return describeAdapter(d.adapter.info);
}
