/**
 * Frame decoding: JPEG, PNG, TIFF and WebP through sharp; BMP (which sharp's
 * prebuilt libvips does not read) through the pure-JS bmp-js; video frames
 * through ffmpeg (./video.ts). Every frame becomes a sharp input, so the rest
 * of the pipeline is one sharp chain whatever the source.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import bmp from 'bmp-js';
import sharp from 'sharp';
import { parseVideoFrameRef } from '../datasets/types.js';
import { decodeVideoFrames, probeVideo } from './video.js';

/** Interleaved 8-bit pixels, rows top to bottom. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** What sharp is given for one frame: a file path, or raw pixels. */
export type FrameInput = { file: string } | { raw: RawImage; source: string };

export function frameSource(f: FrameInput): string {
  return 'file' in f ? f.file : f.source;
}

export function toSharp(f: FrameInput): sharp.Sharp {
  if ('file' in f) return sharp(f.file, { failOn: 'error' });
  const { data, width, height, channels } = f.raw;
  return sharp(data, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } });
}

/**
 * Uncompressed 24- and 32-bit BMP (what SMIC ships) read directly: about 10x
 * faster than bmp-js, which handles every other variant. Returns null for
 * variants it does not handle.
 */
function decodePlainBmp(buf: Buffer, file: string): RawImage | null {
  if (buf.length < 54) return null;
  const offset = buf.readUInt32LE(10);
  const headerSize = buf.readUInt32LE(14);
  if (headerSize < 40) return null;
  const width = buf.readInt32LE(18);
  const rawHeight = buf.readInt32LE(22);
  const bpp = buf.readUInt16LE(28);
  const compression = buf.readUInt32LE(30);
  if (compression !== 0 || (bpp !== 24 && bpp !== 32) || width <= 0 || rawHeight === 0) return null;
  const height = Math.abs(rawHeight);
  const bottomUp = rawHeight > 0;
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (buf.length < offset + stride * height) throw new Error(`${file}: corrupt BMP (truncated: ${buf.length} bytes, ${width}x${height} at ${bpp} bits needs ${offset + stride * height})`);
  const step = bpp / 8;
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    let src = offset + (bottomUp ? height - 1 - y : y) * stride;
    let dst = y * width * 3;
    for (let x = 0; x < width; x++, src += step, dst += 3) {
      rgb[dst] = buf[src + 2]!;
      rgb[dst + 1] = buf[src + 1]!;
      rgb[dst + 2] = buf[src]!;
    }
  }
  return { data: rgb, width, height, channels: 3 };
}

/** Decodes a BMP file to RGB. Throws naming the file when it is not a readable BMP. */
export function decodeBmpFile(file: string): RawImage {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message})`);
  }
  if (buf.length < 54 || buf.toString('latin1', 0, 2) !== 'BM') throw new Error(`${file}: not a BMP file`);
  const plain = decodePlainBmp(buf, file);
  if (plain) return plain;
  let img: { data: Buffer; width: number; height: number };
  try {
    img = bmp.decode(buf);
  } catch (e) {
    throw new Error(`${file}: corrupt BMP (${(e as Error).message})`);
  }
  const { width, height } = img;
  if (!(width > 0 && height > 0) || img.data.length < width * height * 4) throw new Error(`${file}: corrupt BMP (${width}x${height}, ${img.data.length} bytes of pixels)`);
  const rgb = new Uint8Array(width * height * 3);
  // bmp-js yields A,B,G,R per pixel.
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    rgb[j] = img.data[i + 3]!;
    rgb[j + 1] = img.data[i + 2]!;
    rgb[j + 2] = img.data[i + 1]!;
  }
  return { data: rgb, width, height, channels: 3 };
}

/**
 * Sharp inputs for frame references (image paths or `VIDEO#frame=N`). Video
 * frames of one call are decoded with one ffmpeg run per video.
 */
export async function loadFrameInputs(refs: readonly string[]): Promise<FrameInput[]> {
  const out: (FrameInput | undefined)[] = new Array(refs.length);
  const videos = new Map<string, { index: number; slot: number }[]>();
  refs.forEach((ref, slot) => {
    const v = parseVideoFrameRef(ref);
    if (v) {
      const list = videos.get(v.video) ?? [];
      list.push({ index: v.index, slot });
      videos.set(v.video, list);
    } else if (extname(ref).toLowerCase() === '.bmp') {
      out[slot] = { raw: decodeBmpFile(ref), source: ref };
    } else {
      out[slot] = { file: ref };
    }
  });
  for (const [video, wanted] of videos) {
    const info = await probeVideo(video);
    const first = Math.min(...wanted.map((w) => w.index));
    const last = Math.max(...wanted.map((w) => w.index));
    const { width, height, frames } = await decodeVideoFrames(video, first, last, info);
    for (const w of wanted) out[w.slot] = { raw: { data: frames[w.index - first]!, width, height, channels: 3 }, source: `${video}#frame=${w.index}` };
  }
  return out as FrameInput[];
}

/** Decodes a frame to RGB, shrunk (never enlarged) so its longer side is at most `maxSide`; `scale` = output px per source px. */
export async function decodeRgb(f: FrameInput, maxSide = Infinity): Promise<{ image: RawImage; scale: number; sourceWidth: number; sourceHeight: number }> {
  const meta = 'file' in f ? await toSharp(f).metadata() : { width: f.raw.width, height: f.raw.height };
  const sw = meta.width ?? 0;
  const sh = meta.height ?? 0;
  if (!(sw > 0 && sh > 0)) throw new Error(`${frameSource(f)}: image has no size`);
  let chain = toSharp(f);
  if (Math.max(sw, sh) > maxSide) chain = chain.resize({ width: sw >= sh ? maxSide : undefined, height: sh > sw ? maxSide : undefined, fit: 'inside' });
  const { data, info } = await chain.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${frameSource(f)}: decoded to ${info.channels} channels, expected 3`);
  return { image: { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 }, scale: info.width / sw, sourceWidth: sw, sourceHeight: sh };
}
