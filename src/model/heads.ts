/**
 * The guidance heads of paper 2.3-2.4 (3.1: "three convolutional layers ending
 * with a linear layer"):
 *   D_s  spatial domain discriminator: 2-D convs over the apex feature map -> 1 logit
 *   D_t  temporal domain discriminator: 1-D convs over the K steps of v(s) -> 1 logit
 *   C_s  relation classifier: 1-D convs over v(s) -> s_c logits (which interval s = 2^k)
 */
import * as tf from '@tensorflow/tfjs';
import { layerSeed } from './resnet.js';

export interface HeadArgs {
  /** Channels of the three conv layers. The paper gives none; default [256, 128, 64]. */
  widths: [number, number, number];
}

function convStack(name: string, input: tf.SymbolicTensor, dims: 1 | 2, widths: number[]): tf.SymbolicTensor {
  let x = input;
  widths.forEach((filters, i) => {
    const n = `${name}_conv${i + 1}`;
    const args = { name: n, filters, kernelSize: 3, padding: 'same' as const, activation: 'relu' as const, kernelInitializer: tf.initializers.heNormal({ seed: layerSeed(n) }) };
    x = (dims === 2 ? tf.layers.conv2d(args) : tf.layers.conv1d(args)).apply(x) as tf.SymbolicTensor;
  });
  const pool = dims === 2 ? tf.layers.globalAveragePooling2d({ name: `${name}_pool` }) : tf.layers.globalAveragePooling1d({ name: `${name}_pool` });
  return pool.apply(x) as tf.SymbolicTensor;
}

function head(name: string, inputShape: number[], dims: 1 | 2, outputs: number, widths: number[]): tf.LayersModel {
  const input = tf.input({ shape: inputShape, name: `${name}_input` });
  const pooled = convStack(name, input, dims, widths);
  const out = tf.layers
    .dense({ name: `${name}_fc`, units: outputs, kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed(`${name}_fc`) }) })
    .apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name });
}

/** D_s over an [h, w, F] apex feature map. */
export function buildSpatialDiscriminator(mapSize: number, features: number, args: HeadArgs): tf.LayersModel {
  return head('D_s', [mapSize, mapSize, features], 2, 1, args.widths);
}

/** D_t over a [K, F] sequence v(s). */
export function buildTemporalDiscriminator(steps: number, features: number, args: HeadArgs): tf.LayersModel {
  return head('D_t', [steps, features], 1, 1, args.widths);
}

/** C_s over a [K, F] sequence v(s), s_c logits. */
export function buildRelationClassifier(steps: number, features: number, sc: number, args: HeadArgs): tf.LayersModel {
  return head('C_s', [steps, features], 1, sc, args.widths);
}
