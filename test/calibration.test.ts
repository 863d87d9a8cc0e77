/**
 * The calibration record (docs/calibration.md) reruns as it was run: each
 * calibration/*.yaml resolves to the settings of its run, whatever the presets
 * and the generator's defaults have become since.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfigFile, resolveConfig, type MimanetConfig } from '../src/config.js';
import { configFromFlags } from '../src/cli/run.js';
import { validateSyntheticConfig, type SyntheticConfig } from '../src/data/synthetic/config.js';

const DIR = 'calibration';

/** The quick preset the calibration ran on (src/config.ts before the freeze), with the L_c row alone, no checkpoints and no embeddings. */
const QUICK_THEN: Omit<MimanetConfig, 'out'> = {
  preset: 'quick',
  seed: 1,
  seeds: 1,
  backend: 'auto',
  variants: [['c']],
  flip: true,
  microTrainShares: [1],
  foldCheckpoints: 'none',
  embeddings: false,
  data: { kind: 'synthetic', options: {} },
  model: { size: 32, channels: 1, frames: 8, width: 8, sc: 2, K: 4, headWidths: [32, 32, 32], init: 'scratch', input: 'frames' },
  pretrain: { manetEpochs: 10, minetEpochs: 15, lr: 1e-3, batchSize: 16 },
  finetune: { epochs: 4, lr: 3e-4, n: 8, weights: { s: 0.1, sam: 0.2, t: 0.2, con: 0.1 }, tau: 0.1, conReduction: 'mean', conDenominator: 'eq7', grl: { schedule: 'dann', lambda: 1 } },
};

/** The generator as the calibration runs had it: its defaults then (micro intensity 0.35) under the quick preset's counts (5 subjects per source, 10 clips each, 32 macro subjects). */
const GENERATOR_THEN: Omit<SyntheticConfig, 'size' | 'frames' | 'channels'> = {
  seed: 1,
  gap: 0.5,
  micro: {
    sources: 3,
    subjectsPerSource: 5,
    clipsPerSubject: 10,
    classShares: [250 / 442, 109 / 442, 83 / 442],
    intensity: 0.35,
    intensityJitter: 0.3,
    noise: 3,
    flicker: 0.01,
    jitter: 0.004,
    placement: 0.03,
    onsetDelay: 0.3,
    rampDuration: 1,
    nuisance: 0.3,
  },
  macro: { subjects: 32, clipsPerSubject: 7, intensity: 1, intensityJitter: 0.2, noise: 2, flicker: 0, jitter: 0.006, placement: 0.04, onsetDelay: 0.15, rampDuration: 0.6, nuisance: 0.2 },
};

/** What each run changed, as docs/calibration.md records it. */
const RUNS: Record<string, { input: 'frames' | 'onset-diff'; clipsPerSubject: number; intensity: number; seeds: number }> = {
  'c01-frames': { input: 'frames', clipsPerSubject: 10, intensity: 0.35, seeds: 1 },
  'c02-onset-diff': { input: 'onset-diff', clipsPerSubject: 10, intensity: 0.35, seeds: 1 },
  'c03-diff-more-clips': { input: 'onset-diff', clipsPerSubject: 16, intensity: 0.35, seeds: 1 },
  'c04-diff-intensity': { input: 'onset-diff', clipsPerSubject: 10, intensity: 0.5, seeds: 1 },
  'c05-diff-more-clips-intensity': { input: 'onset-diff', clipsPerSubject: 16, intensity: 0.5, seeds: 3 },
};

function withoutOut(c: MimanetConfig): Omit<MimanetConfig, 'out'> {
  const { out: _out, ...rest } = c;
  return rest;
}

/** The generator options a config gives, completed with the generator's current defaults. */
function generatorOf(c: MimanetConfig): Omit<SyntheticConfig, 'size' | 'frames' | 'channels'> {
  if (c.data.kind !== 'synthetic') throw new Error('not synthetic data');
  const { size: _s, frames: _f, channels: _c, ...rest } = validateSyntheticConfig({ ...c.data.options, size: c.model.size, frames: c.model.frames, channels: c.model.channels });
  return rest;
}

describe('calibration configs', () => {
  it('every config in calibration/ is a recorded run, and every recorded run has its config', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')).sort();
    expect(files).toEqual(Object.keys(RUNS).sort());
    const record = readFileSync('docs/calibration.md', 'utf8');
    for (const id of files) expect(record, id).toMatch(new RegExp(`^\\| ${id.slice(0, 3)} \\|`, 'm'));
  });

  it.each(Object.entries(RUNS))('%s, as `mimanet run --config` reads it, resolves to the settings it was run with', async (id, run) => {
    const cfg = await configFromFlags({ config: join(DIR, `${id}.yaml`) });
    const { data: _d, ...rest } = withoutOut(cfg);
    const { data: _d0, ...then } = QUICK_THEN;
    expect(rest).toEqual({ ...then, seeds: run.seeds, model: { ...then.model, input: run.input } });
    expect(generatorOf(cfg)).toEqual({ ...GENERATOR_THEN, micro: { ...GENERATOR_THEN.micro, clipsPerSubject: run.clipsPerSubject, intensity: run.intensity } });
  });

  it('c01 is the old quick preset: raw frames, 10 clips per micro subject, micro intensity 0.35', async () => {
    const cfg = await configFromFlags({ config: join(DIR, 'c01-frames.yaml') });
    expect(cfg.model.input).toBe('frames');
    const g = generatorOf(cfg);
    expect([g.micro.clipsPerSubject, g.micro.intensity, g.micro.sources * g.micro.subjectsPerSource]).toEqual([10, 0.35, 15]);
  });

  it.each(Object.keys(RUNS))('%s pins every setting: over the paper preset it resolves the same, and it gives every generator option', async (id) => {
    const file = await readConfigFile(join(DIR, `${id}.yaml`));
    const overQuick = withoutOut(resolveConfig({ ...file, preset: 'quick' }));
    const overPaper = withoutOut(resolveConfig({ ...file, preset: 'paper' }));
    expect({ ...overPaper, preset: 'quick' }).toEqual(overQuick);
    const options = (file.data as { options: Record<string, Record<string, unknown> | unknown> }).options;
    const { size: _s, frames: _f, channels: _c, ...defaults } = validateSyntheticConfig({});
    for (const [key, value] of Object.entries(defaults)) {
      expect(options, `data.options.${key}`).toHaveProperty(key);
      if (typeof value === 'object' && !Array.isArray(value)) {
        for (const sub of Object.keys(value)) expect(options[key], `data.options.${key}.${sub}`).toHaveProperty(sub);
      }
    }
  });
});
