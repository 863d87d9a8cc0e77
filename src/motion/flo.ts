/**
 * Middlebury `.flo` files (Baker et al., "A Database and Evaluation Methodology for Optical Flow",
 * 2011): the flow format that OpenCV's readOpticalFlow and most flow tools read.
 *
 *   bytes 0-3   "PIEH" (the float 202021.25, little endian)
 *   bytes 4-11  width, height (int32, little endian)
 *   then        width x height pairs (u, v) of float32, row-major
 *
 * And the standard colour coding of a flow (the Middlebury colour wheel). Browser-safe: bytes in,
 * bytes out; src/cli/flow.ts writes the files.
 */
import type { FlowField } from './tvl1.js';

const MAGIC = 'PIEH';
const HEADER = 12;
/** Values at least this large mark an unknown flow in .flo files (Middlebury's convention). */
export const UNKNOWN_FLOW_THRESHOLD = 1e9;

/** The bytes of a .flo file. */
export function encodeFlo(flow: FlowField): Uint8Array {
  const { width: w, height: h, u, v } = flow;
  if (u.length !== w * h || v.length !== w * h) throw new Error(`flow of ${w}x${h} has ${u.length} and ${v.length} values in u and v, expected ${w * h}`);
  const bytes = new Uint8Array(HEADER + 8 * w * h);
  const view = new DataView(bytes.buffer);
  for (let k = 0; k < 4; k++) bytes[k] = MAGIC.charCodeAt(k);
  view.setInt32(4, w, true);
  view.setInt32(8, h, true);
  for (let i = 0; i < w * h; i++) {
    view.setFloat32(HEADER + 8 * i, u[i], true);
    view.setFloat32(HEADER + 8 * i + 4, v[i], true);
  }
  return bytes;
}

/** Reads the bytes of a .flo file; errors name `source` and what is wrong. */
export function decodeFlo(bytes: Uint8Array, source = '.flo file'): FlowField {
  if (bytes.length < HEADER) throw new Error(`${source}: ${bytes.length} bytes, too short for a .flo header (12 bytes)`);
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== MAGIC) throw new Error(`${source}: starts with ${JSON.stringify(magic)}, expected "PIEH" (not a Middlebury .flo file)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = view.getInt32(4, true);
  const h = view.getInt32(8, true);
  if (w < 1 || h < 1 || w > 1 << 16 || h > 1 << 16) throw new Error(`${source}: size ${w}x${h} in the header, expected 1 to 65536 on each side`);
  const want = HEADER + 8 * w * h;
  if (bytes.length !== want) throw new Error(`${source}: ${bytes.length} bytes, expected ${want} for ${w}x${h}`);
  const u = new Float32Array(w * h);
  const v = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) {
    u[i] = view.getFloat32(HEADER + 8 * i, true);
    v[i] = view.getFloat32(HEADER + 8 * i + 4, true);
  }
  return { width: w, height: h, u, v };
}

/**
 * The Middlebury colour wheel: 55 hues from red through yellow, green, cyan, blue and magenta
 * (15, 6, 4, 11, 13 and 6 steps), chosen by Baker et al. so that neighbouring directions are told apart.
 */
function colourWheel(): Array<[number, number, number]> {
  const steps: Array<[number, (t: number) => [number, number, number]]> = [
    [15, (t) => [255, Math.floor((255 * t) / 15), 0]],
    [6, (t) => [255 - Math.floor((255 * t) / 6), 255, 0]],
    [4, (t) => [0, 255, Math.floor((255 * t) / 4)]],
    [11, (t) => [0, 255 - Math.floor((255 * t) / 11), 255]],
    [13, (t) => [Math.floor((255 * t) / 13), 0, 255]],
    [6, (t) => [255, 0, 255 - Math.floor((255 * t) / 6)]],
  ];
  const wheel: Array<[number, number, number]> = [];
  for (const [n, f] of steps) for (let t = 0; t < n; t++) wheel.push(f(t));
  return wheel;
}

/**
 * RGB picture of a flow in the Middlebury colour coding: hue = direction, saturation = length
 * relative to `maxMagnitude` (default: the largest length in the field), white = no motion.
 * Returns width x height x 3 bytes.
 */
export function flowToColour(flow: FlowField, maxMagnitude?: number): Uint8Array {
  const { width: w, height: h, u, v } = flow;
  const wheel = colourWheel();
  const ncols = wheel.length;
  let maxRad = maxMagnitude ?? 0;
  if (maxMagnitude === undefined) {
    for (let i = 0; i < w * h; i++) {
      if (Math.abs(u[i]) >= UNKNOWN_FLOW_THRESHOLD || Math.abs(v[i]) >= UNKNOWN_FLOW_THRESHOLD) continue;
      maxRad = Math.max(maxRad, Math.hypot(u[i], v[i]));
    }
  }
  if (!(maxRad > 0)) maxRad = 1;
  const out = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    if (!Number.isFinite(u[i]) || !Number.isFinite(v[i]) || Math.abs(u[i]) >= UNKNOWN_FLOW_THRESHOLD || Math.abs(v[i]) >= UNKNOWN_FLOW_THRESHOLD) continue; // unknown: black
    const fu = u[i] / maxRad;
    const fv = v[i] / maxRad;
    const rad = Math.hypot(fu, fv);
    const a = Math.atan2(-fv, -fu) / Math.PI;
    const fk = ((a + 1) / 2) * (ncols - 1);
    const k0 = Math.floor(fk);
    const k1 = (k0 + 1) % ncols;
    const f = fk - k0;
    for (let c = 0; c < 3; c++) {
      let col = ((1 - f) * wheel[k0][c] + f * wheel[k1][c]) / 255;
      col = rad <= 1 ? 1 - rad * (1 - col) : col * 0.75; // beyond the range: darker
      out[3 * i + c] = Math.floor(255 * col);
    }
  }
  return out;
}
