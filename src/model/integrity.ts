/** Checks that weights read back are the ones written: a checksum, and finite values only. */
import { z } from '../util/schema.js';

export { sha256 } from '../util/checksum.js';

/** One tensor of a TensorFlow.js weight manifest, as checked on reading. */
export const WeightSpec = z
  .object({
    name: z.string(),
    shape: z.array(z.number().int().nonnegative()),
    dtype: z.enum(['float32', 'int32', 'bool']),
  })
  .passthrough();
export type WeightSpec = z.infer<typeof WeightSpec>;

/** Refuses float32 weights that hold NaN or Infinity, naming the file and the tensor. */
export function checkFiniteWeights(buf: Uint8Array, specs: readonly WeightSpec[], file: string): void {
  let offset = 0;
  for (const sp of specs) {
    const n = sp.shape.reduce((a, b) => a * b, 1);
    if (sp.dtype === 'float32') {
      const view = new DataView(buf.buffer, buf.byteOffset + offset, n * 4);
      for (let i = 0; i < n; i++) {
        const v = view.getFloat32(i * 4, true);
        if (!Number.isFinite(v)) throw new Error(`${file}: tensor "${sp.name}" holds ${v} at element ${i}: the weights are damaged`);
      }
    }
    offset += n * 4;
  }
}
