import { describe, it, expect } from 'vitest';
import { resolveConfig, PRESETS, ConfigError } from '../src/config.js';
import { DEFAULT_SYNTHETIC_CONFIG } from '../src/data/synthetic/index.js';

describe('config', () => {
  it('fills defaults from the preset and keeps the paper weights of Eq. 8', () => {
    const c = resolveConfig({});
    expect(c.preset).toBe('quick');
    expect(c.finetune.weights).toEqual({ s: 0.1, sam: 0.2, t: 0.2, con: 0.1 });
    expect(c.variants).toHaveLength(6);
    expect(c.out).toBe('runs/quick');
    const p = resolveConfig({ preset: 'paper' });
    expect(p.model).toMatchObject({ size: 112, width: 64, frames: 16, sc: 3, K: 4, channels: 3 });
    expect(p.out).toBe('runs/paper');
  });

  it('merges partial sections over the preset, generator options included', () => {
    const c = resolveConfig({ finetune: { tau: 0.5 }, data: { kind: 'synthetic', options: { gap: 0.9 } } });
    expect(c.finetune.tau).toBe(0.5);
    expect(c.finetune.lr).toBe(PRESETS.quick.finetune.lr);
    expect(c.data.kind === 'synthetic' && c.data.options).toMatchObject({ gap: 0.9, micro: { clipsPerSubject: 16 } });
  });

  it('rejects bad values naming the field and quoting the value', () => {
    const bad: Array<[object, RegExp]> = [
      [{ seeds: 0 }, /"seeds" is 0/],
      [{ model: { channels: 2 } }, /"model.channels" is 2: expected 1 or 3/],
      [{ model: { sc: 4, K: 4, frames: 8 } }, /need 25 frames, but T=8/],
      [{ finetune: { conReduction: 'avg' } }, /"finetune.conReduction" is "avg"/],
      [{ finetune: { grl: { schedule: 'linear' } } }, /"finetune.grl.schedule" is "linear"/],
      [{ model: { init: 'imagenet:x.safetensors' } }, /"model.width" is 8: expected 64/],
      [{ variants: [['c', 'q']] }, /variants\[0\].*unknown loss "q"/],
      [{ pretrian: {} }, /unknown config field "pretrian"/],
      [{ data: { kind: 'prepared', micro: 'casme2' } }, /"data.macro" is ""/],
    ];
    for (const [partial, pattern] of bad) {
      expect(() => resolveConfig(partial as never)).toThrow(ConfigError);
      expect(() => resolveConfig(partial as never)).toThrow(pattern);
    }
  });

  it('validates the backend and the generator options in the one validator', () => {
    expect(resolveConfig({ backend: 'native' }).backend).toBe('native');
    const bad: Array<[object, RegExp]> = [
      [{ backend: 'gpu' }, /config field "backend": unknown backend 'gpu'; expected one of auto, tfjs-node-gpu, webgpu, tfjs-node, native, wasm, cpu/],
      [{ data: { kind: 'synthetic', options: { micro: { intensity: -1 } } } }, /config field "data.options.micro.intensity" is -1: expected a number in \(0, 2\]/],
      [{ data: { kind: 'synthetic', options: { micro: { intensty: 1 } } } }, /unknown config field "data.options.micro.intensty"/],
      [{ data: { kind: 'synthetic', options: { size: 64 } } }, /config field "data.options.size" is 64: expected no value here: it comes from model.size/],
      [{ data: { kind: 'synthetic', options: [] } }, /config field "data.options" is \[\]/],
    ];
    for (const [partial, pattern] of bad) expect(() => resolveConfig(partial as never)).toThrow(pattern);
  });

  it('the quick preset uses the synthetic generator\'s default counts', () => {
    const q = PRESETS.quick.data;
    expect(q.kind === 'synthetic' && q.options).toEqual({
      micro: { subjectsPerSource: DEFAULT_SYNTHETIC_CONFIG.micro.subjectsPerSource, clipsPerSubject: DEFAULT_SYNTHETIC_CONFIG.micro.clipsPerSubject, intensity: DEFAULT_SYNTHETIC_CONFIG.micro.intensity },
      macro: { subjects: DEFAULT_SYNTHETIC_CONFIG.macro.subjects },
    });
    // the calibrated embedded benchmark (docs/calibration.md, c05)
    expect(DEFAULT_SYNTHETIC_CONFIG.micro).toMatchObject({ subjectsPerSource: 5, clipsPerSubject: 16, intensity: 0.5 });
    expect(PRESETS.quick.model.input).toBe('onset-diff');
    expect(PRESETS.paper.model.input).toBe('frames');
    expect(DEFAULT_SYNTHETIC_CONFIG.macro.subjects).toBe(32);
  });

  it('reports every problem of a config at once, with a did-you-mean for a misspelt field', () => {
    const partial = { seeds: 0, pretrian: {}, model: { witdh: 8, channels: 2 }, finetune: { lr: -1, lamda: 1, conReduction: 'avg' }, data: { kind: 'synthetic', options: { micro: { intensty: 1 } } } };
    expect(() => resolveConfig(partial as never)).toThrow(
      new ConfigError(
        [
          '7 problems in the config:',
          '  unknown config field "pretrian" (did you mean "pretrain"?)',
          '  unknown config field "model.witdh" (did you mean "model.width"?)',
          '  unknown config field "finetune.lamda" (did you mean "finetune.grl.lambda"?)',
          '  config field "seeds" is 0: expected an integer in [1, 100]',
          '  config field "model.channels" is 2: expected 1 or 3',
          '  config field "finetune.lr" is -1: expected a number in (0, 10]',
          '  config field "finetune.conReduction" is "avg": expected "mean" or "sum"',
        ].join('\n'),
      ),
    );
    // the generator's options get their suggestion too (the geometry being right, they are checked)
    expect(() => resolveConfig({ data: { kind: 'synthetic', options: { micro: { intensty: 1 } } } } as never)).toThrow('unknown config field "data.options.micro.intensty" (did you mean "data.options.micro.intensity"?)');
    // a name far from every field gets no guess
    expect(() => resolveConfig({ zzzzzz: 1 } as never)).toThrow(/^unknown config field "zzzzzz"$/);
  });
});
