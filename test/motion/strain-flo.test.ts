import { describe, expect, it } from 'vitest';
import { opticalStrain } from '../../src/motion/strain.js';
import { decodeFlo, encodeFlo, flowToColour } from '../../src/motion/flo.js';
import type { FlowField } from '../../src/motion/tvl1.js';

function field(w: number, h: number, fu: (x: number, y: number) => number, fv: (x: number, y: number) => number): FlowField {
  const u = new Float32Array(w * h);
  const v = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { u[y * w + x] = fu(x, y); v[y * w + x] = fv(x, y); }
  return { width: w, height: h, u, v };
}

describe('optical strain', () => {
  it('of a linear flow u = ax + by, v = cx + dy is sqrt(a² + d² + (b + c)²/2) everywhere, in both variants', () => {
    const [a, b, c, d] = [0.02, -0.01, 0.03, -0.015];
    const f = field(9, 7, (x, y) => a * x + b * y, (x, y) => c * x + d * y);
    const want = Math.sqrt(a * a + d * d + 0.5 * (b + c) ** 2);
    for (const variant of ['central', 'forward'] as const) {
      for (const s of opticalStrain(f, variant)) expect(s).toBeCloseTo(want, 6);
    }
  });

  it('is zero for a rotation and a translation, sqrt(2) (s - 1) for a zoom by s', () => {
    const t = 0.01;
    for (const s of opticalStrain(field(8, 8, (x, y) => -t * y + 3, (x) => t * x - 1))) expect(s).toBeCloseTo(0, 6);
    for (const s of opticalStrain(field(8, 8, (x) => 0.04 * (x - 4), (_x, y) => 0.04 * (y - 4)))) expect(s).toBeCloseTo(Math.SQRT2 * 0.04, 6);
  });

  it('central and forward differences part on a curved flow: u = x²/100 gives ux = x/50 and (2x + 1)/100', () => {
    const f = field(10, 4, (x) => (x * x) / 100, () => 0);
    const central = opticalStrain(f, 'central');
    const forward = opticalStrain(f, 'forward');
    expect(central[1 * 10 + 4]).toBeCloseTo(4 / 50, 6);
    expect(forward[1 * 10 + 4]).toBeCloseTo(9 / 100, 6);
    // borders: central one-sided (x = 0: u(1) - u(0)); forward copies the neighbour's strain (x = 9 from x = 8)
    expect(central[1 * 10 + 0]).toBeCloseTo(1 / 100, 6);
    expect(forward[1 * 10 + 9]).toBeCloseTo(forward[1 * 10 + 8], 7);
    expect(forward[3 * 10 + 4]).toBeCloseTo(forward[2 * 10 + 4], 7);
  });

  it('refuses an unknown variant', () => {
    expect(() => opticalStrain(field(3, 3, () => 0, () => 0), 'sobel' as never)).toThrow('variant is "sobel", expected "central" or "forward"');
  });
});

describe('Middlebury .flo and the colour wheel', () => {
  it('writes the header PIEH, width, height, then (u, v) pairs row-major, and reads it back', () => {
    const f = field(3, 2, (x, y) => x + 10 * y, (x, y) => -x - 0.5 * y);
    const bytes = encodeFlo(f);
    expect(bytes.length).toBe(12 + 3 * 2 * 8);
    expect(String.fromCharCode(...bytes.slice(0, 4))).toBe('PIEH');
    const view = new DataView(bytes.buffer);
    expect(view.getFloat32(0, true)).toBe(202021.25);
    expect([view.getInt32(4, true), view.getInt32(8, true)]).toEqual([3, 2]);
    // pixel (x = 2, y = 1): u = 12, v = -2.5, at offset 12 + 8 * 5
    expect([view.getFloat32(12 + 40, true), view.getFloat32(12 + 44, true)]).toEqual([12, -2.5]);
    const back = decodeFlo(bytes);
    expect(back.width).toBe(3);
    expect(Array.from(back.u)).toEqual(Array.from(f.u));
    expect(Array.from(back.v)).toEqual(Array.from(f.v));
  });

  it('refuses a damaged file, naming it and what is wrong', () => {
    const bytes = encodeFlo(field(2, 2, () => 1, () => 2));
    expect(() => decodeFlo(bytes.slice(0, 20), 'a.flo')).toThrow('a.flo: 20 bytes, expected 44 for 2x2');
    const bad = bytes.slice();
    bad[0] = 'X'.charCodeAt(0);
    expect(() => decodeFlo(bad, 'b.flo')).toThrow('b.flo: starts with "XIEH", expected "PIEH"');
  });

  it('colours no motion white and full motion with the wheel: up is blue-violet, left light blue, opposite directions differ', () => {
    const f = field(4, 1, (x) => [0, 0, -1, 1][x], (x) => [0, -1, 0, 0][x]);
    const rgb = flowToColour(f, 1);
    expect(Array.from(rgb.slice(0, 3))).toEqual([255, 255, 255]);
    // up (v = -1): angle 0.5 -> between wheel entries 40 and 41 of 55, (78, 0, 255) and (98, 0, 255)
    const up = Array.from(rgb.slice(3, 6));
    expect(Math.abs(up[0] - 88)).toBeLessThanOrEqual(1);
    expect(up.slice(1)).toEqual([0, 255]);
    // left (u = -1): angle 0 -> entry 27 exactly, the third of the cyan-to-blue stretch: (0, 255 - floor(2 * 255 / 11), 255)
    const left = Array.from(rgb.slice(6, 9));
    expect(left).toEqual([0, 209, 255]);
    expect(Array.from(rgb.slice(9, 12))).not.toEqual(left);
  });
});
