/**
 * ResNet18 trunk (He et al. 2016) as a TensorFlow.js layers model: the backbone
 * of both streams of MiNet and MaNet (paper 3.1: "We use ResNet18 as the
 * architecture of spatial stream network and temporal stream network").
 *
 * Layer names follow torchvision's parameter names with `.` replaced by `_`
 * (`conv1`, `bn1`, `layer2_0_downsample_0`, ...), so ImageNet weights published
 * for torchvision map onto them by name.
 */
import * as tf from '@tensorflow/tfjs';
import { useFastBatchNorm } from './batchnorm.js';

export interface ResNetArgs {
  /** Input height and width in pixels. */
  size: number;
  /** Input channels: 1 (grey) or 3 (RGB). */
  channels: number;
  /** Width of the first stage; torchvision's ResNet18 is 64. Stages are width, 2w, 4w, 8w. */
  width: number;
  /** Prefix of every layer name, to keep two streams apart in one graph. */
  prefix: string;
  /** When true the model ends in global average pooling and outputs [8w]; else the last feature map [h, w, 8w]. */
  pool: boolean;
}

/** Feature size of a ResNet18 trunk of this width (the channels of its last stage). */
export function resnetFeatures(width: number): number {
  return 8 * width;
}

/** Spatial size of the last feature map for an input of `size` pixels (stride 32 overall). */
export function resnetMapSize(size: number): number {
  let s = size;
  s = Math.floor((s + 2 * 3 - 7) / 2) + 1; // conv1 7x7/2
  s = Math.floor((s + 2 * 1 - 3) / 2) + 1; // maxpool 3x3/2
  for (let i = 0; i < 3; i++) s = Math.floor((s + 2 - 3) / 2) + 1; // stride-2 stages
  return s;
}

const BN_EPS = 1e-5; // torchvision's value, so imported weights give the same activations
const BN_MOMENTUM = 0.9; // tfjs keeps momentum * old + (1 - momentum) * batch; torch's 0.1 is the other side

function conv(name: string, filters: number, kernel: number, stride: number): tf.layers.Layer {
  return tf.layers.conv2d({
    name,
    filters,
    kernelSize: kernel,
    strides: stride,
    padding: 'same',
    useBias: false,
    kernelInitializer: tf.initializers.heNormal({ seed: hashSeed(name) }),
  });
}

function bn(name: string): tf.layers.Layer {
  return useFastBatchNorm(tf.layers.batchNormalization({ name, axis: -1, epsilon: BN_EPS, momentum: BN_MOMENTUM }));
}

/** Batch norm then ReLU; in training the ReLU runs inside the batch norm, which saves less for the backward pass. */
function bnRelu(x: tf.SymbolicTensor, name: string, reluName: string): tf.SymbolicTensor {
  const relu = tf.layers.reLU({ name: reluName });
  const norm = useFastBatchNorm(tf.layers.batchNormalization({ name, axis: -1, epsilon: BN_EPS, momentum: BN_MOMENTUM }), relu);
  return relu.apply(norm.apply(x)) as tf.SymbolicTensor;
}

/**
 * A ReLU layer whose training call keeps its output, not its input, for the gradient
 * (dy where y > 0). Its input (here a residual sum) is then read by nothing after the forward
 * pass, and {@link applyTrunk} frees it.
 */
function reluSavingOutput(layer: tf.layers.Layer): tf.layers.Layer {
  const l = layer as unknown as { call: (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[] };
  const stock = l.call.bind(layer);
  const relu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const y = tf.relu(x);
    save([y]);
    return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => tf.mul(dy, tf.step(saved[0]))) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  l.call = (inputs, kwargs) => {
    if (!kwargs?.training) return stock(inputs, kwargs);
    return relu(Array.isArray(inputs) ? inputs[0] : inputs);
  };
  return layer;
}

/**
 * Applies a trunk. In training, layer by layer: each layer's output is disposed as soon as the
 * layers reading it have run. The tensors the backward pass needs are the engine's own saved
 * copies, which share the data, so what goes is what nothing reads again (a batch norm's output
 * once the residual sum is taken, the sum once its ReLU has run); the model's own call keeps
 * every one of them until it returns. Inference is the model's own `apply`.
 */
export function applyTrunk(model: tf.LayersModel, x: tf.Tensor, training: boolean): tf.Tensor {
  if (!training) return model.apply(x, { training }) as tf.Tensor;
  type Layer = tf.layers.Layer & { inboundNodes: Array<{ inboundLayers: tf.layers.Layer[] }> };
  const layers = model.layers as Layer[];
  if (layers.some((l) => l.inboundNodes.length !== 1) || model.outputs.length !== 1 || model.inputs.length !== 1) {
    return model.apply(x, { training }) as tf.Tensor; // a layer shared or reused: the stock executor
  }
  const outName = model.outputs[0].sourceLayer.name;
  const readers = new Map<string, number>();
  for (const l of layers) for (const src of l.inboundNodes[0].inboundLayers) readers.set(src.name, (readers.get(src.name) ?? 0) + 1);
  const out = new Map<string, tf.Tensor>();
  for (const l of layers) {
    const sources = l.inboundNodes[0].inboundLayers;
    if (sources.length === 0) {
      out.set(l.name, x);
      continue;
    }
    const ins = sources.map((src) => out.get(src.name)!);
    out.set(l.name, l.apply(ins.length === 1 ? ins[0] : ins, { training }) as tf.Tensor);
    for (const src of sources) {
      const left = readers.get(src.name)! - 1;
      readers.set(src.name, left);
      if (left === 0 && src.inboundNodes[0].inboundLayers.length > 0 && src.name !== outName) out.get(src.name)!.dispose();
    }
  }
  return out.get(outName)!;
}

/** Stable per-layer seed so that weight initialisation is reproducible; tf.randomSeed-like behaviour on top comes from `withSeed`. */
function hashSeed(name: string): number {
  let h = 2166136261 ^ initSeedBase;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 0) % 2147483647;
}

let initSeedBase = 0;

/** Runs `fn` with weight initialisers seeded from `seed`: the same seed builds identical weights. */
export function withInitSeed<T>(seed: number, fn: () => T): T {
  const prev = initSeedBase;
  initSeedBase = seed >>> 0;
  try {
    return fn();
  } finally {
    initSeedBase = prev;
  }
}

export function layerSeed(name: string): number {
  return hashSeed(name);
}

/**
 * Symmetric "same" padding matches torch's padding=k//2 only for stride 1 or
 * even inputs; with stride 2 TF pads the extra row at the bottom. Results differ
 * from torchvision by that one-pixel shift on odd sizes, which is harmless for
 * training from scratch and small when importing weights.
 */
function basicBlock(x: tf.SymbolicTensor, p: string, filters: number, stride: number, inChannels: number): tf.SymbolicTensor {
  let y = conv(`${p}_conv1`, filters, 3, stride).apply(x) as tf.SymbolicTensor;
  y = bnRelu(y, `${p}_bn1`, `${p}_relu1`);
  y = conv(`${p}_conv2`, filters, 3, 1).apply(y) as tf.SymbolicTensor;
  y = bn(`${p}_bn2`).apply(y) as tf.SymbolicTensor;
  let shortcut = x;
  if (stride !== 1 || inChannels !== filters) {
    shortcut = conv(`${p}_downsample_0`, filters, 1, stride).apply(x) as tf.SymbolicTensor;
    shortcut = bn(`${p}_downsample_1`).apply(shortcut) as tf.SymbolicTensor;
  }
  const sum = tf.layers.add({ name: `${p}_add` }).apply([y, shortcut]) as tf.SymbolicTensor;
  return reluSavingOutput(tf.layers.reLU({ name: `${p}_relu2` })).apply(sum) as tf.SymbolicTensor;
}

/** Builds a ResNet18 trunk: conv 7x7/2, max-pool 3x3/2, four stages of two basic blocks. */
export function buildResNet18(args: ResNetArgs): tf.LayersModel {
  const { size, channels, width, prefix } = args;
  const p = prefix ? `${prefix}_` : '';
  const input = tf.input({ shape: [size, size, channels], name: `${p}input` });
  let x = conv(`${p}conv1`, width, 7, 2).apply(input) as tf.SymbolicTensor;
  x = bnRelu(x, `${p}bn1`, `${p}relu`);
  x = tf.layers.maxPooling2d({ name: `${p}maxpool`, poolSize: 3, strides: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor;
  let c = width;
  const stages: Array<[number, number]> = [
    [width, 1],
    [2 * width, 2],
    [4 * width, 2],
    [8 * width, 2],
  ];
  stages.forEach(([filters, stride], i) => {
    x = basicBlock(x, `${p}layer${i + 1}_0`, filters, stride, c);
    c = filters;
    x = basicBlock(x, `${p}layer${i + 1}_1`, filters, 1, c);
  });
  if (args.pool) x = tf.layers.globalAveragePooling2d({ name: `${p}avgpool` }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: prefix || 'resnet18' });
}
