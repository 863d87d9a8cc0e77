/**
 * Fused operations a backend can offer to the model and training code, looked up when called.
 * This module has no Node imports, so the model code that consults it still bundles for the
 * browser; the native backend (Node only) fills the entries in when it registers. Each entry
 * returns null when the active backend is not the one that provided it, and the caller then
 * computes the same thing with tensor ops.
 */
import type * as tf from '@tensorflow/tfjs';

/** Adam's per-step constants, as src/train/optimizer.ts computes them. */
export interface AdamStepConstants {
  /** lr / (1 - beta1^t). */
  step: number;
  beta1: number;
  beta2: number;
  /** 1 / sqrt(1 - beta2^t). */
  sc2: number;
  epsilon: number;
}

export interface FastPaths {
  /** One Adam step of `value`: m and v updated in place, the new value returned as a tensor. */
  adamStep?: (value: tf.Tensor, grad: tf.Tensor, m: Float32Array, v: Float32Array, c: AdamStepConstants) => tf.Tensor | null;
  /** Training-mode batch norm over the last axis (then ReLU when `relu`), with its batch statistics. */
  batchNormTrain?: (x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number, relu: boolean) =>
    { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D; invStd: tf.Tensor1D } | null;
  /** Inference-mode batch norm over the last axis with given statistics (then ReLU when `relu`), in one pass. */
  batchNormApply?: (x: tf.Tensor, mean: tf.Tensor1D, variance: tf.Tensor1D, gamma: tf.Tensor1D, beta: tf.Tensor1D,
    epsilon: number, relu: boolean) => tf.Tensor | null;
  /** The gradient of `batchNormTrain`: [dx, dgamma, dbeta]. */
  batchNormGrad?: (x: tf.Tensor, dy: tf.Tensor, mean: tf.Tensor, invStd: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor,
    relu: boolean) => [tf.Tensor, tf.Tensor1D, tf.Tensor1D] | null;
}

/** The fused operations registered so far. */
export const fastPaths: FastPaths = {};
