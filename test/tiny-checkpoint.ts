/** A small checkpoint for tests of `predict` and its neighbours: a grey 32x32 MiNet of width 2 with random weights. */
import { TwoStreamNet } from '../src/model/twostream.js';
import { withInitSeed } from '../src/model/resnet.js';
import { saveCheckpoint } from '../src/model/checkpoint.js';
import { DEFAULT_NORMALIZATION } from '../src/data/batches.js';

/**
 * Writes the checkpoint of a random net (seeded) to `dir`: T = `frames`, one
 * class per label, and the recipe of models that take frames as they are
 * (`align: none`, as for the synthetic data).
 */
export async function saveTinyCheckpoint(dir: string, opts: { frames: number; labels: readonly string[]; seed: number }): Promise<void> {
  const net = withInitSeed(opts.seed, () => new TwoStreamNet({ classes: opts.labels.length, size: 32, channels: 1, frames: opts.frames, width: 2, sc: 2, K: 2 }, 'MiNet'));
  try {
    await saveCheckpoint(net, dir, { labels: [...opts.labels], temporal: 'intervals', normalization: DEFAULT_NORMALIZATION, preprocessing: { align: 'none', resample: 'linear' } });
  } finally {
    net.dispose();
  }
}
