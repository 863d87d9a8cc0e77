import { describe, it, expect } from 'vitest';
import { macroToMicroMap, getLabelScheme, NATIVE_LABELS } from '../../src/data/datasets/labels.js';
import { prepareOptionsFor, roleCheck } from '../../src/data/prepared-pair.js';
import { resolveConfig, type PreparedDataConfig } from '../../src/config.js';

describe('all-class label schemes for L_con', () => {
  it('pair the basic emotions of CASME II (7 classes) and SAMM (8 classes) with CK+ classes of the same name', () => {
    const ck = NATIVE_LABELS.ckplus; // anger, contempt, disgust, fear, happiness, sadness, surprise
    const casme = getLabelScheme('casme2', 'casme2-7').labels; // happiness, surprise, disgust, repression, fear, sadness, others
    expect(macroToMicroMap(casme, ck, 'casme2-7')).toEqual([-1, -1, 2, 4, 0, 5, 1]);
    const samm = getLabelScheme('samm', 'samm-8').labels; // anger, contempt, disgust, fear, happiness, sadness, surprise, other
    expect(macroToMicroMap(samm, ck, 'samm-8')).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('a run config names the scheme of the micro dataset only, and it reaches the cache folder name', () => {
    const cfg = resolveConfig({ data: { kind: 'prepared', micro: 'casme2', macro: 'ckplus', roots: { casme2: '/d/c', ckplus: '/d/k' }, scheme: 'casme2-7' } });
    const d = cfg.data as PreparedDataConfig;
    const micro = prepareOptionsFor(d, 'casme2', cfg.model);
    const macro = prepareOptionsFor(d, 'ckplus', cfg.model);
    expect(micro.scheme).toBe('casme2-7');
    expect(micro.cacheDir).toMatch(/casme2-casme2-7-t8-s32-c1$/);
    expect(macro.scheme).toBeUndefined();
    expect(macro.cacheDir).toMatch(/ckplus-ckplus-7-t8-s32-c1$/);
    expect(() => prepareOptionsFor({ ...d, scheme: 'samm-8' }, 'casme2', cfg.model)).toThrow(/label scheme "samm-8" is for samm, not casme2/);
  });
});

describe('a micro list in the config', () => {
  it('is stored joined by commas, read as a composite, and its roots named one by one', () => {
    const cfg = resolveConfig({ data: { kind: 'prepared', micro: ['smic', 'casme3'] as unknown as string, macro: 'ckplus', roots: { casme3: '/d/c3', ckplus: '/d/k' } } });
    const d = cfg.data as PreparedDataConfig;
    expect(d.micro).toBe('smic,casme3');
    const name = roleCheck(d.micro, 'micro');
    expect(name).toBe('smic+casme3');
    expect(() => prepareOptionsFor(d, name, cfg.model)).toThrow('smic+casme3 is made of smic and casme3; no folder for smic: give it with --root smic=DIR or data.roots.smic in the config');
    const opts = prepareOptionsFor({ ...d, roots: { ...d.roots, smic: '/d/s' } }, name, cfg.model);
    expect([opts.roots, opts.scheme, opts.cacheDir.endsWith('smic+casme3-megc-3-t8-s32-c1')]).toEqual([{ smic: '/d/s', casme3: '/d/c3' }, undefined, true]);
    expect(() => resolveConfig({ data: { kind: 'prepared', micro: [] as unknown as string, macro: 'ckplus', roots: {} } })).toThrow('config field "data.micro" is []: expected a list of micro dataset names, e.g. [smic, casme2, samm, casme3]');
    expect(() => roleCheck('smic,mmi', 'micro')).toThrow('--micro (data.micro): dataset list "smic,mmi": mmi is a macro dataset');
  });
});
