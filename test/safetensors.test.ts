import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildResNet18, withInitSeed } from '../src/model/resnet.js';
import { TwoStreamNet } from '../src/model/twostream.js';
import {
  halfToFloat,
  initTwoStreamFromImagenet,
  loadTorchvisionResNet18,
  parseSafetensors,
  readSafetensors,
  tensorValues,
} from '../src/model/safetensors.js';
import { Rng } from '../src/util/rng.js';
import { useCpu, tempDir } from './helpers.js';
import { encodeSafetensors, f32, floats, randomResNet18, u16, type TensorSpec } from './safetensors-writer.js';

beforeAll(useCpu);

const dir = tempDir('st');
function writeFile(name: string, tensors: Record<string, TensorSpec>): string {
  const p = join(dir, name);
  writeFileSync(p, encodeSafetensors(tensors, { format: 'pt' }));
  return p;
}

describe('safetensors reader', () => {
  it('decodes F32, F16 and BF16 to the values their bits encode', () => {
    const bytes = encodeSafetensors({
      a: f32([1.5, -2.25, 3e-8], [3]),
      // F16: 1, -2, 0.5, 65504 (largest), 2^-24 (smallest subnormal), 0.333 -> 0x3555
      h: u16('F16', [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x3555], [2, 3]),
      // BF16: 1, -2, 3.140625 (0x4049), 0
      b: u16('BF16', [0x3f80, 0xc000, 0x4049, 0x0000], [4]),
    });
    const st = parseSafetensors(bytes, 'mem.safetensors');
    expect([...st.entries.keys()]).toEqual(['a', 'h', 'b']);
    expect(Array.from(tensorValues(st, 'a').values)).toEqual([1.5, -2.25, Math.fround(3e-8)]);
    const h = tensorValues(st, 'h');
    expect(h.shape).toEqual([2, 3]);
    expect(Array.from(h.values)).toEqual([1, -2, 0.5, 65504, 2 ** -24, Math.fround(0.333251953125)]);
    expect(Array.from(tensorValues(st, 'b').values)).toEqual([1, -2, 3.140625, 0]);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('names the file and the problem for truncated or malformed files', () => {
    const good = encodeSafetensors({ w: f32([1, 2, 3, 4], [2, 2]) });
    expect(() => parseSafetensors(good.subarray(0, 5), 'x.safetensors')).toThrow(/x.safetensors: truncated: 5 bytes/);
    expect(() => parseSafetensors(good.subarray(0, 20), 'x.safetensors')).toThrow(/x.safetensors: truncated: header of \d+ bytes announced/);
    expect(() => parseSafetensors(good.subarray(0, good.length - 1), 'x.safetensors')).toThrow(/x.safetensors: truncated: tensor "w" ends at data byte 16, the data section has 15 bytes/);
    const badJson = good.slice();
    badJson[9] = 0x7b; // '{{' at the start of the header
    expect(() => parseSafetensors(badJson, 'x.safetensors')).toThrow(/x.safetensors: header is not valid JSON/);
    const wrongSize = encodeSafetensors({ w: { dtype: 'F32', shape: [3], bytes: new Uint8Array(8) } });
    expect(() => parseSafetensors(wrongSize, 'x.safetensors')).toThrow(/tensor "w": 8 bytes for shape \[3\] of F32 \(12 expected\)/);
    const f64 = parseSafetensors(encodeSafetensors({ d: { dtype: 'F64', shape: [1], bytes: new Uint8Array(8) } }), 'x.safetensors');
    expect(() => tensorValues(f64, 'd')).toThrow(/x.safetensors: tensor "d" has dtype F64; supported: F32, F16, BF16/);
    expect(() => tensorValues(f64, 'nope')).toThrow(/x.safetensors: no tensor "nope"/);
    expect(() => readSafetensors(join(dir, 'missing.safetensors'))).toThrow(/missing.safetensors: cannot open/);
  });
});

describe('loadTorchvisionResNet18', () => {
  it('maps every conv and batch-norm tensor by name, OIHW -> HWIO, and skips fc and num_batches_tracked', () => {
    const sd = randomResNet18(2, 3, 7);
    const file = writeFile('rgb.safetensors', sd);
    const trunk = withInitSeed(1, () => buildResNet18({ size: 32, channels: 3, width: 2, prefix: 'spatial', pool: false }));
    const { loaded, skipped } = loadTorchvisionResNet18(trunk, file, 'spatial');
    // 20 convolutions (17 + 3 downsample) and 20 batch norms of 4 tensors each
    expect(loaded).toHaveLength(20 + 20 * 4);
    expect(skipped).toContain('fc.weight');
    expect(skipped).toContain('fc.bias');
    expect(skipped.filter((s) => s.endsWith('num_batches_tracked'))).toHaveLength(20);
    expect(skipped).toHaveLength(22);

    for (const [torch, layer] of [['conv1', 'spatial_conv1'], ['layer3.0.downsample.0', 'spatial_layer3_0_downsample_0'], ['layer4.1.conv2', 'spatial_layer4_1_conv2']] as const) {
      const src = sd[`${torch}.weight`];
      const [O, I, H, W] = src.shape;
      const expected = tf.tidy(() => tf.transpose(tf.tensor(floats(src), [O, I, H, W]), [2, 3, 1, 0]).arraySync());
      const kernel = trunk.getLayer(layer).getWeights()[0];
      expect(kernel.shape).toEqual([H, W, I, O]);
      expect(kernel.arraySync()).toEqual(expected);
    }
    const bn = trunk.getLayer('spatial_layer2_1_bn2').getWeights();
    expect(Array.from(bn[0].dataSync())).toEqual(Array.from(floats(sd['layer2.1.bn2.weight'])));
    expect(Array.from(bn[1].dataSync())).toEqual(Array.from(floats(sd['layer2.1.bn2.bias'])));
    expect(Array.from(bn[2].dataSync())).toEqual(Array.from(floats(sd['layer2.1.bn2.running_mean'])));
    expect(Array.from(bn[3].dataSync())).toEqual(Array.from(floats(sd['layer2.1.bn2.running_var'])));
    trunk.dispose();
  });

  it('sums conv1 over RGB for a grey trunk; conv1 + bn1 on a tiny input match a direct computation', () => {
    const sd = randomResNet18(2, 3, 11);
    const file = writeFile('grey.safetensors', sd);
    const trunk = withInitSeed(1, () => buildResNet18({ size: 32, channels: 1, width: 2, prefix: '', pool: true }));
    loadTorchvisionResNet18(trunk, file, '');
    const w = floats(sd['conv1.weight']); // [2, 3, 7, 7]
    const gamma = floats(sd['bn1.weight']);
    const beta = floats(sd['bn1.bias']);
    const mean = floats(sd['bn1.running_mean']);
    const variance = floats(sd['bn1.running_var']);
    const S = 32;
    const rng = new Rng(3);
    const x = Float32Array.from({ length: S * S }, () => rng.next() * 2 - 1);
    const sub = tf.model({ inputs: trunk.inputs, outputs: trunk.getLayer('bn1').output as tf.SymbolicTensor });
    const y = tf.tidy(() => (sub.predict(tf.tensor4d(x, [1, S, S, 1])) as tf.Tensor).arraySync() as number[][][][]);
    expect(y[0].length).toBe(16);
    // TF "same" with stride 2 on 32 px: 5 padding rows, 2 before and 3 after
    const padBefore = 2;
    let maxErr = 0;
    for (let oy = 0; oy < 16; oy++) {
      for (let ox = 0; ox < 16; ox++) {
        for (let o = 0; o < 2; o++) {
          let acc = 0;
          for (let ky = 0; ky < 7; ky++) {
            for (let kx = 0; kx < 7; kx++) {
              const iy = oy * 2 + ky - padBefore;
              const ix = ox * 2 + kx - padBefore;
              if (iy < 0 || iy >= S || ix < 0 || ix >= S) continue;
              let k = 0;
              for (let c = 0; c < 3; c++) k += w[((o * 3 + c) * 7 + ky) * 7 + kx];
              acc += k * x[iy * S + ix];
            }
          }
          const expected = (gamma[o] * (acc - mean[o])) / Math.sqrt(variance[o] + 1e-5) + beta[o];
          maxErr = Math.max(maxErr, Math.abs(y[0][oy][ox][o] - expected));
        }
      }
    }
    expect(maxErr).toBeLessThan(1e-4);
    trunk.dispose();
  });

  it('loads F16 files into both streams of a two-stream net', () => {
    const sd32 = randomResNet18(2, 3, 5);
    const sd16: Record<string, TensorSpec> = {};
    for (const [name, t] of Object.entries(sd32)) {
      // 0x3c00 = 1.0 everywhere keeps the check exact
      sd16[name] = t.dtype === 'F32' ? u16('F16', new Array(t.shape.reduce((a, b) => a * b, 1)).fill(0x3c00), t.shape) : t;
    }
    const file = writeFile('half.safetensors', sd16);
    const net = withInitSeed(2, () => new TwoStreamNet({ classes: 3, size: 32, channels: 1, frames: 4, width: 2, sc: 2, K: 2 }, 'MiNet'));
    const r = initTwoStreamFromImagenet(net, file);
    expect(r.loaded).toHaveLength(100);
    for (const trunk of [net.spatial, net.temporal]) {
      const k = trunk.getLayer(`${trunk.name}_conv1`).getWeights()[0];
      expect(k.shape).toEqual([7, 7, 1, 2]);
      expect(new Set(k.dataSync())).toEqual(new Set([3])); // three RGB kernels of ones summed
      expect(new Set(trunk.getLayer(`${trunk.name}_layer4_1_conv2`).getWeights()[0].dataSync())).toEqual(new Set([1]));
    }
    net.dispose();
  });

  it('loads a full-width (64) ResNet18 state dict of the real shapes', () => {
    const sd = randomResNet18(64, 3, 13);
    const file = writeFile('r18.safetensors', sd);
    const trunk = withInitSeed(1, () => buildResNet18({ size: 32, channels: 3, width: 64, prefix: 'spatial', pool: false }));
    const { loaded } = loadTorchvisionResNet18(trunk, file, 'spatial');
    expect(loaded).toHaveLength(100);
    const params = trunk.weights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
    expect(params).toBe(11_176_512 + 9_600); // torchvision ResNet18 without fc, plus the batch-norm statistics
    const k = trunk.getLayer('spatial_layer4_1_conv2').getWeights()[0];
    expect(k.shape).toEqual([3, 3, 512, 512]);
    const src = floats(sd['layer4.1.conv2.weight']);
    // HWIO [h, w, i, o] <- OIHW [o, i, h, w]; spot-check a few entries
    const kv = k.dataSync();
    for (const [h, w, i, o] of [[0, 0, 0, 0], [2, 1, 300, 511], [1, 2, 511, 7]]) {
      expect(kv[((h * 3 + w) * 512 + i) * 512 + o]).toBe(src[((o * 512 + i) * 3 + h) * 3 + w]);
    }
    trunk.dispose();
  });

  it('errors name the file and the tensor: missing, mis-shaped, unsupported dtype, truncated, wrong width; nothing is written', () => {
    const sd = randomResNet18(2, 3, 9);
    const trunk = withInitSeed(1, () => buildResNet18({ size: 32, channels: 3, width: 2, prefix: 'temporal', pool: true }));
    const before = trunk.getLayer('temporal_conv1').getWeights()[0].arraySync();

    const { ['layer3.1.bn2.running_var']: _drop, ...missing } = sd;
    void _drop;
    const fMissing = writeFile('missing.safetensors', missing);
    expect(() => loadTorchvisionResNet18(trunk, fMissing, 'temporal')).toThrow(/missing.safetensors: no tensor "layer3.1.bn2.running_var"/);

    const fShape = writeFile('shape.safetensors', { ...sd, 'layer2.0.conv2.weight': f32(new Float32Array(4 * 2 * 3 * 3), [4, 2, 3, 3]) });
    expect(() => loadTorchvisionResNet18(trunk, fShape, 'temporal')).toThrow(
      /shape.safetensors: tensor "layer2.0.conv2.weight" has shape \[4, 2, 3, 3\], layer temporal_layer2_0_conv2 needs \[4, 4, 3, 3\] \(OIHW\)/,
    );
    const fShape2 = writeFile('shape2.safetensors', { ...sd, 'layer1.0.bn1.running_mean': f32([0, 0, 0], [3]) });
    expect(() => loadTorchvisionResNet18(trunk, fShape2, 'temporal')).toThrow(/shape2.safetensors: tensor "layer1.0.bn1.running_mean" has shape \[3\], layer temporal_layer1_0_bn1 needs \[2\]/);

    const fDtype = writeFile('dtype.safetensors', { ...sd, 'layer1.1.conv1.weight': { dtype: 'F64', shape: [2, 2, 3, 3], bytes: new Uint8Array(8 * 36) } });
    expect(() => loadTorchvisionResNet18(trunk, fDtype, 'temporal')).toThrow(/dtype.safetensors: tensor "layer1.1.conv1.weight" has dtype F64/);

    const full = readFileSync(writeFile('full.safetensors', sd));
    const fTrunc = join(dir, 'trunc.safetensors');
    writeFileSync(fTrunc, full.subarray(0, full.length - 100));
    expect(() => loadTorchvisionResNet18(trunk, fTrunc, 'temporal')).toThrow(/trunc.safetensors: truncated: tensor "fc\.weight" ends at data byte \d+, the data section has \d+ bytes/);

    const wide = withInitSeed(1, () => buildResNet18({ size: 32, channels: 3, width: 4, prefix: 'temporal', pool: true }));
    expect(() => loadTorchvisionResNet18(wide, join(dir, 'full.safetensors'), 'temporal')).toThrow(/full.safetensors: tensor "conv1.weight" has shape \[2, 3, 7, 7\], the trunk has width 4.*model.width 64/);

    expect(trunk.getLayer('temporal_conv1').getWeights()[0].arraySync()).toEqual(before);
    trunk.dispose();
    wide.dispose();
  });
});
