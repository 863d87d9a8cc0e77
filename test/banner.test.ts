/**
 * Test processes compute as `mimanet` does (src/cli/index.ts): in TensorFlow.js's
 * production mode, so its "install tfjs-node" banner, printed on a cpu
 * backend's first tensor, does not fill the test output (test/setup.ts).
 */
import { describe, it, expect, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

describe('the test processes', () => {
  it('print no "install tfjs-node" banner when a cpu backend takes its first tensor', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const before = tf.getBackend() ?? 'cpu';
    try {
      // a fresh cpu backend: the banner comes with the first tensor each one stores
      tf.registerBackend('cpu-fresh', () => new MathBackendCPU());
      await tf.setBackend('cpu-fresh');
      tf.tensor([1, 2, 3]).dispose();
      const said = warn.mock.calls.map((c) => c.join(' ')).join('\n');
      expect(said).not.toMatch(/tfjs-node/);
      expect(tf.env().getBool('PROD')).toBe(true);
    } finally {
      warn.mockRestore();
      await tf.setBackend(before);
      tf.removeBackend('cpu-fresh');
    }
  });
});
