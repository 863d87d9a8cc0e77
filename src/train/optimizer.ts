/**
 * Adam (Kingma and Ba 2015) with the moment estimates kept in JavaScript.
 *
 * tf.train.adam updates each variable with about fourteen small kernels; a
 * two-stream ResNet18 has over a hundred variables, so the optimiser alone
 * launched more kernels than the forward pass, and slicing one flat update
 * vector is no better on wasm (its Slice copies the whole input). Here each
 * variable costs one read of its gradient and value and one write: the update
 * itself is a plain loop over Float32Arrays (on the native backend, the same
 * loop in C++ on the tensors' own buffers).
 *
 * On a backend that keeps tensors on a GPU (webgpu, webgl) a synchronous read
 * is impossible (webgpu) or stalls the device, so there the same update runs
 * as tensor ops with the moments kept on the device.
 */
import * as tf from '@tensorflow/tfjs';
import { fastPaths, type AdamStepConstants } from '../backend/fast-paths.js';
import { withEarlyRelease } from './release.js';

export interface FlatAdamOptions {
  /** Learning rate. */
  lr: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8 (PyTorch's value), added to sqrt of the bias-corrected second moment. */
  epsilon?: number;
}

/** Backends whose tensors live on a GPU: the update stays there (see above). */
const DEVICE_BACKENDS = new Set(['webgpu', 'webgl']);

export class FlatAdam {
  private readonly vars: tf.Variable[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  /** The moments as tensors, on a device backend (created at its first step). */
  private onDevice: { m: tf.Tensor[]; v: tf.Tensor[] } | undefined;
  private t = 0;
  readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;

  constructor(vars: tf.Variable[], opts: FlatAdamOptions) {
    if (vars.length === 0) throw new Error('FlatAdam: no variables to optimise');
    this.vars = vars;
    this.m = vars.map((v) => new Float32Array(v.size));
    this.v = vars.map((v) => new Float32Array(v.size));
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-8;
  }

  /** Computes the gradients of `loss` for the variables, applies one Adam step, returns the loss (caller disposes). */
  minimize(loss: () => tf.Scalar): tf.Scalar {
    // saved activations and intermediate gradients are freed as the backward pass leaves them behind
    const { value, grads } = withEarlyRelease(() => tf.variableGrads(loss, this.vars));
    try {
      this.apply(this.vars.map((v) => grads[v.name]));
    } finally {
      tf.dispose(Object.values(grads));
    }
    return value;
  }

  /** One Adam step with gradients in the order of the variables; a variable without a gradient is left alone. */
  apply(grads: Array<tf.Tensor | undefined>): void {
    this.t++;
    const { beta1: b1, beta2: b2, t } = this;
    const c1 = 1 - b1 ** t;
    const c2 = 1 - b2 ** t;
    const step = this.lr / c1;
    const sc2 = 1 / Math.sqrt(c2);
    const eps = this.epsilon;
    if (DEVICE_BACKENDS.has(tf.getBackend())) {
      this.applyOnDevice(grads, { step, beta1: b1, beta2: b2, sc2, epsilon: eps });
      return;
    }
    this.vars.forEach((variable, i) => {
      const g = grads[i];
      if (!g) return;
      // on the native backend the same loop runs in the addon, on the tensors' own buffers
      const next = fastPaths.adamStep?.(variable, g, this.m[i], this.v[i], { step, beta1: b1, beta2: b2, sc2, epsilon: eps }) ?? null;
      if (next) {
        variable.assign(next);
        next.dispose();
        return;
      }
      const gv = g.dataSync() as Float32Array;
      const p = Float32Array.from(variable.dataSync() as Float32Array);
      const m = this.m[i];
      const v = this.v[i];
      for (let k = 0; k < p.length; k++) {
        const gk = gv[k];
        const mk = b1 * m[k] + (1 - b1) * gk;
        const vk = b2 * v[k] + (1 - b2) * gk * gk;
        m[k] = mk;
        v[k] = vk;
        p[k] -= (step * mk) / (Math.sqrt(vk) * sc2 + eps);
      }
      const updated = tf.tensor(p, variable.shape, 'float32');
      variable.assign(updated);
      updated.dispose();
    });
  }

  /** The update of `apply` as tensor ops; the moments stay on the device between steps. */
  private applyOnDevice(grads: Array<tf.Tensor | undefined>, c: AdamStepConstants): void {
    if (this.onDevice === undefined) {
      // moments of earlier steps on another backend carry over
      this.onDevice = {
        m: this.vars.map((v, i) => tf.keep(tf.tensor(this.m[i], v.shape, 'float32'))),
        v: this.vars.map((v, i) => tf.keep(tf.tensor(this.v[i], v.shape, 'float32'))),
      };
    }
    const { m, v } = this.onDevice;
    this.vars.forEach((variable, i) => {
      const g = grads[i];
      if (!g) return;
      const [mk, vk] = tf.tidy(() => {
        const mNext = tf.add(tf.mul(m[i], c.beta1), tf.mul(g, 1 - c.beta1));
        const vNext = tf.add(tf.mul(v[i], c.beta2), tf.mul(tf.square(g), 1 - c.beta2));
        const denom = tf.add(tf.mul(tf.sqrt(vNext), c.sc2), c.epsilon);
        variable.assign(tf.sub(variable, tf.div(tf.mul(mNext, c.step), denom)));
        return [mNext, vNext];
      });
      m[i].dispose();
      v[i].dispose();
      m[i] = mk;
      v[i] = vk;
    });
  }

  dispose(): void {
    if (this.onDevice) tf.dispose([...this.onDevice.m, ...this.onDevice.v]);
    this.onDevice = undefined;
    this.m.length = 0;
    this.v.length = 0;
  }
}
