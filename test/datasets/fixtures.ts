/**
 * Builders for tiny dataset trees in temporary folders: real image files
 * (sharp, bmp-js), annotation spreadsheets in the datasets' column layouts
 * (exceljs), and face frames cut from the photographs that ship inside
 * @vladmandic/face-api.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import bmp from 'bmp-js';
import ExcelJS from 'exceljs';
import sharp from 'sharp';

const trees: string[] = [];

/** A new temporary folder, removed by `removeTrees`. */
export function tmpTree(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mimanet-${prefix}-`));
  trees.push(dir);
  return dir;
}

/** Removes every folder `tmpTree` made in this test file. */
export function removeTrees(): void {
  for (const d of trees.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A deterministic w x h RGB test pattern whose values depend on `seed`. */
export function pattern(w: number, h: number, seed: number): Buffer {
  const buf = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      buf[i] = (x * 16 + seed * 7) & 255;
      buf[i + 1] = (y * 16 + seed * 13) & 255;
      buf[i + 2] = (x * y + seed) & 255;
    }
  }
  return buf;
}

export async function writeImage(file: string, rgb: Buffer, w: number, h: number): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const img = sharp(rgb, { raw: { width: w, height: h, channels: 3 } });
  if (file.endsWith('.png')) await img.png().toFile(file);
  else await img.jpeg({ quality: 95 }).toFile(file);
}

export function writeBmp(file: string, rgb: Buffer, w: number, h: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const abgr = Buffer.alloc(w * h * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    abgr[j] = 255;
    abgr[j + 1] = rgb[i + 2]!;
    abgr[j + 2] = rgb[i + 1]!;
    abgr[j + 3] = rgb[i]!;
  }
  writeFileSync(file, bmp.encode({ data: abgr, width: w, height: h }).data);
}

export async function writeXlsx(file: string, rows: (string | number | null)[][]): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Sheet1');
  rows.forEach((r, i) => {
    const row = ws.getRow(i + 1);
    r.forEach((v, j) => {
      if (v !== null) row.getCell(j + 1).value = v;
    });
    row.commit();
  });
  await wb.xlsx.writeFile(file);
}

export function writeText(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

export const CASME2_HEADER = ['Subject', 'Filename', null, 'OnsetFrame', 'ApexFrame', 'OffsetFrame', null, 'Action Units', 'Estimated Emotion'];
export const SAMM_HEADER = ['Subject', 'Filename', 'Inducement Code', 'Onset Frame', 'Apex Frame', 'Offset Frame', 'Duration', 'Micro', 'Action Units', 'Estimated Emotion', 'Objective Classes', 'Notes'];
/** SAMM's spreadsheet opens with a title block before the header row. */
export const SAMM_PREAMBLE: (string | null)[][] = [
  ['SAMM Micro-Movement Dataset'],
  ['FACS coding of the micro-movements'],
  [],
  ['Coder notes'],
  ['Frames are numbered from the start of each recording'],
  [], [], [], [], [], [], [],
  ['Key: Onset, Apex and Offset are frame numbers'],
];

const require = createRequire(import.meta.url);
export const FACE_API_DEMO = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');

/**
 * A face photograph (the right-most, tilted face of face-api's demo
 * sample1.jpg), cropped and shrunk to `side` x `side`, with the crop moved by
 * `shift` source pixels so consecutive frames differ like a moving head.
 */
export async function faceFrame(side = 160, shift = 0): Promise<Buffer> {
  return sharp(join(FACE_API_DEMO, 'sample1.jpg'))
    .extract({ left: 1350 + shift, top: 100 + shift, width: 400, height: 400 })
    .resize(side, side)
    .removeAlpha()
    .raw()
    .toBuffer();
}

/** A frame with no face: a smooth gradient. */
export function blankFrame(side = 160): Buffer {
  const buf = Buffer.alloc(side * side * 3);
  for (let i = 0; i < side * side; i++) buf.fill(Math.floor((i % side) / side * 200) + 20, i * 3, i * 3 + 3);
  return buf;
}
