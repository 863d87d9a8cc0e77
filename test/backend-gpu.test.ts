/**
 * Choosing a GPU backend: tfjs-node-gpu (not installed here: a stand-in package registers the
 * 'tensorflow' backend as it would), and the rule by which 'auto' takes webgpu.
 */
import { describe, it, expect, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { autoWebGpuRefusal, initBackend, isGpuBackend, setPackageImporter, type GpuAdapter } from '../src/backend/index.js';
import { adapterTag, describeAdapter, vulkanDriverNamed } from '../src/backend/webgpu.js';
import { backendIdentity } from '../src/results/folder.js';
import { backendChoiceOf } from '../src/queue/jobs.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

const GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';
const imported: string[] = [];
/** What the stand-in's libtensorflow says about its device (tfjs-node: `isUsingGpuDevice`). */
let standInOnGpu = true;
let kernelsCopied = false;

/** What tfjs-node-gpu does on import: registers a 'tensorflow' backend (here the cpu kernels under that name). */
function standIn(spec: string): Promise<unknown> {
  imported.push(spec);
  if (spec !== GPU_PACKAGE) return Promise.reject(new Error(`Cannot find package '${spec}'`));
  if (tf.findBackendFactory('tensorflow') == null) {
    const onGpu = standInOnGpu;
    tf.registerBackend('tensorflow', () => Object.assign(new MathBackendCPU(), { isUsingGpuDevice: onGpu }));
    if (!kernelsCopied) for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'tensorflow' });
    kernelsCopied = true;
  }
  return Promise.resolve({});
}

afterAll(async () => {
  setPackageImporter(undefined);
  await initBackend('cpu');
});

describe('tfjs-node-gpu', () => {
  it('missing: the error names the package and the CUDA 11.2 / cuDNN 8.1 it needs', async () => {
    setPackageImporter((spec) => Promise.reject(new Error(`Cannot find package '${spec}'`)));
    await expect(initBackend('tfjs-node-gpu')).rejects.toThrow(
      /backend 'tfjs-node-gpu' is unavailable: @tensorflow\/tfjs-node-gpu could not be imported \(Cannot find package '@tensorflow\/tfjs-node-gpu'\); it needs CUDA 11\.2 and cuDNN 8\.1/);
  });

  it('importable, but libtensorflow falls back to the CPU (no CUDA device): refused, naming CUDA', async () => {
    setPackageImporter(standIn);
    standInOnGpu = false;
    try {
      await expect(initBackend('tfjs-node-gpu')).rejects.toThrow(
        /backend 'tfjs-node-gpu' is unavailable: @tensorflow\/tfjs-node-gpu loaded, but libtensorflow found no CUDA device; it needs CUDA 11\.2 and cuDNN 8\.1/);
    } finally {
      standInOnGpu = true;
      await tf.setBackend('cpu');
      tf.removeBackend('tensorflow');
    }
  });

  it('importable: --backend tfjs-node-gpu computes on its \'tensorflow\' backend, a backend of its own for results and queue workers', async () => {
    setPackageImporter(standIn);
    const info = await initBackend('tfjs-node-gpu');
    expect(info).toMatchObject({ name: 'tensorflow', kernels: 'cuda', requested: 'tfjs-node-gpu' });
    expect(tf.getBackend()).toBe('tensorflow');
    const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]]));
    expect(Array.from(await y.data())).toEqual([17, 39]);
    y.dispose();
    expect(backendIdentity(info)).toBe('tensorflow/cuda');
    expect(backendChoiceOf(info)).toBe('tfjs-node-gpu');
    expect(backendChoiceOf({ ...info, kernels: undefined })).toBe('tfjs-node');
    expect(isGpuBackend(info)).toBe(true);
    // the other TensorFlow package cannot take the name in the same process
    await expect(initBackend('tfjs-node')).rejects.toThrow(/@tensorflow\/tfjs-node-gpu already registered the 'tensorflow' backend/);
  });

  it('importable: auto takes it before every other backend', async () => {
    imported.length = 0;
    setPackageImporter(standIn);
    const info = await initBackend('auto');
    expect(info).toMatchObject({ name: 'tensorflow', kernels: 'cuda', requested: 'auto' });
    expect(imported).toEqual([GPU_PACKAGE]);
    expect(info.notes).toBe('threads chosen by libtensorflow');
  });
});

const swiftshader = { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0' };
const nvidia = { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA 535.104.05' };

describe('webgpu adapters and auto', () => {
  it('a fallback adapter, or a known CPU driver, is a CPU adapter; an NVIDIA one is not', () => {
    expect(describeAdapter({ ...swiftshader, isFallbackAdapter: true })).toEqual({ ...swiftshader, cpu: true });
    expect(describeAdapter({ ...swiftshader, isFallbackAdapter: false }).cpu).toBe(true);
    expect(describeAdapter({ vendor: 'mesa', architecture: 'llvmpipe' }).cpu).toBe(true);
    expect(describeAdapter({ vendor: 'acme', architecture: 'softgpu', isFallbackAdapter: true }).cpu).toBe(true);
    expect(describeAdapter({ ...nvidia, isFallbackAdapter: false })).toEqual({ ...nvidia, cpu: false });
    expect(adapterTag(describeAdapter(swiftshader))).toBe('google-swiftshader');
    expect(adapterTag(describeAdapter({ vendor: 'NVIDIA Corp', architecture: '' , device: 'RTX 4090' }))).toBe('nvidia_corp-rtx_4090');
  });

  it('auto takes webgpu only on a non-CPU adapter, and says why not otherwise', () => {
    const gpu: GpuAdapter = { ...nvidia, cpu: false };
    expect(autoWebGpuRefusal({ adapter: gpu })).toBeUndefined();
    expect(autoWebGpuRefusal({ adapter: { ...swiftshader, cpu: true } })).toBe("backend 'webgpu' skipped: its adapter SwiftShader driver 5.0.0 is a CPU driver");
    expect(autoWebGpuRefusal({ why: 'Dawn found no Vulkan adapter' })).toBe("backend 'webgpu' is unavailable: Dawn found no Vulkan adapter");
  });

  it('a results folder counts each adapter as its own backend', () => {
    const info = { name: 'webgpu', kernels: adapterTag(describeAdapter(swiftshader)) };
    expect(backendIdentity(info)).toBe('webgpu/google-swiftshader');
    expect(isGpuBackend(info)).toBe(true);
    expect(isGpuBackend({ name: 'tensorflow' })).toBe(false);
  });

  it('Dawn is not loaded where no Vulkan driver is named or installed', () => {
    expect(vulkanDriverNamed({ VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json' })).toBe(true);
    expect(vulkanDriverNamed({ VK_DRIVER_FILES: '/x/icd.json' })).toBe(true);
    const dir = tempDir('icd');
    expect(vulkanDriverNamed({}, [dir, join(dir, 'missing')])).toBe(false);
    writeFileSync(join(dir, 'nvidia_icd.json'), '{}');
    expect(vulkanDriverNamed({}, [dir])).toBe(true);
  });
});
