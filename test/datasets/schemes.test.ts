import { describe, it, expect } from 'vitest';
import { macroToMicroMap, getLabelScheme, NATIVE_LABELS } from '../../src/data/datasets/labels.js';
import { prepareOptionsFor } from '../../src/data/prepared-pair.js';
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
