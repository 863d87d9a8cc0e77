/**
 * Frees memory during the backward pass as soon as the engine is done with it.
 *
 * TensorFlow.js's `gradients` keeps, until the whole backward pass ends, every
 * tensor a kernel saved for its gradient and the gradient of every
 * intermediate tensor. The peak of a training step is then about twice its
 * forward activations. The tape is walked once, in reverse: when the walk
 * reaches the next node, the previous node has read its saved tensors and the
 * gradients of its outputs for the last time, so they can be released there.
 *
 * `withEarlyRelease` records that, for the duration of one synchronous call, by
 * wrapping each node's gradient function as the engine records it. A gradient
 * tensor that is also stored under another tensor (a gradient function that
 * returns its incoming dy, or one object returned twice) is never released
 * early; nested gradient computations switch the release off for the call.
 * The gradients are the same tensors with the same values either way.
 */
import * as tf from '@tensorflow/tfjs';

interface TapeNode {
  id: number;
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  addTapeNode: (...args: unknown[]) => void;
}

/** What the previous node of the backward walk left behind. */
interface Pending {
  dys: tf.Tensor[];
  saved: tf.Tensor[];
}

/** Runs `fn` (typically one `tf.variableGrads` or optimiser step) with early release in its backward pass. */
export function withEarlyRelease<T>(fn: () => T): T {
  const engine = tf.engine() as unknown as EngineInternals;
  if (Object.prototype.hasOwnProperty.call(engine, 'addTapeNode')) return fn(); // already inside one
  const record = engine.addTapeNode;
  let nested = false;
  let pending: Pending | null = null;
  // objects stored as the gradient of more than one tensor: never released early
  const shared = new WeakSet<tf.Tensor>();
  const returned = new WeakSet<tf.Tensor>();
  const releasePending = (): void => {
    const p = pending;
    pending = null;
    if (!p || nested) return;
    for (const dy of p.dys) if (!shared.has(dy)) dy.dispose();
    for (const t of p.saved) t.dispose();
  };
  engine.addTapeNode = function (this: EngineInternals, ...args: unknown[]): void {
    record.apply(this, args);
    if (this.state.gradientDepth !== 1) {
      nested = true;
      return;
    }
    const tape = this.state.activeTape;
    const node = tape?.[tape.length - 1];
    const gradient = node?.gradient;
    if (!node || !gradient) return;
    node.gradient = (dys) => {
      releasePending();
      const thunks = gradient(dys);
      const incoming = dys.filter((d): d is tf.Tensor => d != null);
      const wrapped: Record<string, () => tf.Tensor> = {};
      for (const [name, thunk] of Object.entries(thunks)) {
        wrapped[name] = () => {
          const dx = thunk();
          if (returned.has(dx) || incoming.includes(dx)) shared.add(dx);
          returned.add(dx);
          return dx;
        };
      }
      pending = { dys: incoming, saved: node.saved ?? [] };
      return wrapped;
    };
  };
  try {
    return fn();
  } finally {
    delete (engine as Partial<EngineInternals>).addTapeNode;
    pending = null;
  }
}
