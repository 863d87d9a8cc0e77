/**
 * Builders for tiny dataset trees in temporary folders: real image files
 * (sharp, bmp-js), annotation spreadsheets in the datasets' column layouts
 * (exceljs), and face frames cut from the photographs that ship inside
 * @vladmandic/face-api.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import bmp from 'bmp-js';
import ExcelJS from 'exceljs';
import sharp from 'sharp';

import { tempDir, removeTempDirs } from '../helpers.js';

/** A new temporary folder, removed after the test file (see `tempDir` in ../helpers.ts). */
export const tmpTree = tempDir;
/** Removes every folder `tmpTree` made in this test file. */
export const removeTrees = removeTempDirs;

/** The model geometry of the end-to-end runs on real-dataset trees; `data prepare` is given the same, so `run` finds its cache. */
export const E2E_GEOMETRY = { frames: 4, size: 32, channels: 1 } as const;

/** A run config small enough for the end-to-end tests on real-dataset trees (ResNet18 of width 2, two rows). */
export const E2E_TINY_CONFIG = {
  preset: 'quick',
  variants: [['c'], ['c', 's', 'sam', 't', 'con']],
  backend: 'wasm',
  model: { size: E2E_GEOMETRY.size, channels: E2E_GEOMETRY.channels, frames: E2E_GEOMETRY.frames, width: 2, sc: 2, K: 2, headWidths: [4, 4, 4] },
  pretrain: { manetEpochs: 1, minetEpochs: 1, batchSize: 8 },
  finetune: { epochs: 1, n: 4 },
  embeddings: false,
  foldCheckpoints: 'none',
};

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
  await writeWorkbook(file, { Sheet1: rows });
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

const faceFrames = new Map<string, Promise<Buffer>>();

/** `faceFrame`, decoded once per (side, shift): trees of many clips reuse the same few frames. */
export function cachedFaceFrame(side: number, shift: number): Promise<Buffer> {
  const key = `${side}:${shift}`;
  let f = faceFrames.get(key);
  if (!f) faceFrames.set(key, (f = faceFrame(side, shift)));
  return f;
}

/** Frame file format of a generated clip: JPEG, PNG, grey JPEG (SAMM) or 24-bit BMP (SMIC). */
export type FrameFormat = 'jpg' | 'png' | 'grey-jpg' | 'bmp';

/**
 * Writes one clip of face frames, `dir/name(n)` for each frame number, the
 * face moving by 3 source pixels per frame; `blank` writes faceless frames.
 */
export async function writeFaceClip(dir: string, name: (n: number) => string, numbers: readonly number[], format: FrameFormat, side = 160, blank = false): Promise<void> {
  for (const [i, n] of numbers.entries()) {
    const rgb = blank ? blankFrame(side) : await cachedFaceFrame(side, (i % 8) * 3);
    const file = join(dir, name(n));
    if (format === 'bmp') writeBmp(file, rgb, side, side);
    else if (format === 'grey-jpg') {
      mkdirSync(dirname(file), { recursive: true });
      await sharp(rgb, { raw: { width: side, height: side, channels: 3 } }).greyscale().jpeg({ quality: 95 }).toFile(file);
    } else await writeImage(file, rgb, side, side);
  }
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** What a generated clip folder holds: face frames (default), faceless frames, or no folder at all. */
export type ClipFrames = 'face' | 'blank' | 'missing';

/** One CASME II annotation row; frames onset..offset are written unless `frames` is 'missing'. */
export interface Casme2Row {
  subject: number;
  folder: string;
  onset: number;
  /** A frame number, or '/' as in the rows whose apex is missing. */
  apex: number | '/';
  offset: number;
  emotion: string;
  aus?: string;
  frames?: ClipFrames;
}

/** ROOT/CASME2-coding-20140508.xlsx and ROOT/CASME2_RAW_selected/subNN/FOLDER/imgN.jpg. */
export async function casme2Tree(prefix: string, rows: readonly Casme2Row[], side = 160): Promise<string> {
  const root = tmpTree(prefix);
  for (const r of rows) {
    if (r.frames === 'missing') continue;
    const dir = join(root, 'CASME2_RAW_selected', `sub${String(r.subject).padStart(2, '0')}`, r.folder);
    await writeFaceClip(dir, (n) => `img${n}.jpg`, range(r.onset, r.offset), 'jpg', side, r.frames === 'blank');
  }
  await writeXlsx(join(root, 'CASME2-coding-20140508.xlsx'), [
    CASME2_HEADER,
    ...rows.map((r) => [r.subject, r.folder, null, r.onset, r.apex, r.offset, null, r.aus ?? '12', r.emotion]),
  ]);
  return root;
}

/** One SAMM annotation row; grey JPEG frames SSS_NNNNN.jpg onset..offset. */
export interface SammRow {
  subject: number;
  /** Clip folder, e.g. `006_1_2`. */
  clip: string;
  onset: number;
  apex: number;
  offset: number;
  emotion: string;
  frames?: ClipFrames;
}

/** ROOT/SAMM_Micro_FACS_Codes_v2.xlsx (preamble, header, rows) and ROOT/SAMM/SSS/CLIP/SSS_NNNNN.jpg. */
export async function sammTree(prefix: string, rows: readonly SammRow[], side = 160): Promise<string> {
  const root = tmpTree(prefix);
  for (const r of rows) {
    if (r.frames === 'missing') continue;
    const s = String(r.subject).padStart(3, '0');
    await writeFaceClip(join(root, 'SAMM', s, r.clip), (n) => `${s}_${String(n).padStart(5, '0')}.jpg`, range(r.onset, r.offset), 'grey-jpg', side, r.frames === 'blank');
  }
  await writeXlsx(join(root, 'SAMM_Micro_FACS_Codes_v2.xlsx'), [
    ...SAMM_PREAMBLE,
    SAMM_HEADER,
    ...rows.map((r) => [r.subject, r.clip, 1, r.onset, r.apex, r.offset, r.offset - r.onset + 1, 'Micro', '4', r.emotion, 1, '']),
  ]);
  return root;
}

/** One SMIC-HS clip: HS/sN/micro/LABEL/sN_XX_II/imageNNNNNN.bmp, `frames` frames numbered from `first`. */
export interface SmicClip {
  subject: number;
  label: 'negative' | 'positive' | 'surprise';
  index: number;
  frames: number;
  first?: number;
}

const SMIC_ABBREVIATION = { negative: 'ne', positive: 'po', surprise: 'sur' } as const;

export async function smicTree(prefix: string, clips: readonly SmicClip[], side = 160): Promise<string> {
  const root = tmpTree(prefix);
  for (const c of clips) {
    const s = `s${c.subject}`;
    const folder = `${s}_${SMIC_ABBREVIATION[c.label]}_${String(c.index).padStart(2, '0')}`;
    const first = c.first ?? 1000;
    await writeFaceClip(join(root, 'HS', s, 'micro', c.label, folder), (n) => `image${String(n).padStart(6, '0')}.bmp`, range(first, first + c.frames - 1), 'bmp', side);
  }
  return root;
}

/** One CK+ sequence; `emotion` is the code written into the emotion file (none: unlabelled). */
export interface CkSequence {
  subject: number;
  seq: number;
  frames: number;
  emotion?: number;
}

/** ROOT/cohn-kanade-images/SNNN/SSS/SNNN_SSS_0000000K.png and ROOT/Emotion/SNNN/SSS/SNNN_SSS_0000000L_emotion.txt. */
export async function ckplusTree(prefix: string, seqs: readonly CkSequence[], side = 160): Promise<string> {
  const root = tmpTree(prefix);
  for (const q of seqs) {
    const s = `S${String(q.subject).padStart(3, '0')}`;
    const n = String(q.seq).padStart(3, '0');
    const frame = (k: number): string => `${s}_${n}_${String(k).padStart(8, '0')}`;
    await writeFaceClip(join(root, 'cohn-kanade-images', s, n), (k) => `${frame(k)}.png`, range(1, q.frames), 'png', side);
    if (q.emotion !== undefined) writeText(join(root, 'Emotion', s, n, `${frame(q.frames)}_emotion.txt`), `   ${q.emotion}.0000000e+00\n`);
    else mkdirSync(join(root, 'Emotion', s, n), { recursive: true }); // CK+ keeps empty label folders for unlabelled sequences
  }
  return root;
}

// ---------------------------------------------------------------------------
// CAS(ME)^3 part A, 4DME, and the long videos of CAS(ME)^2 and SAMM Long Videos

/** CAS(ME)^3's label file columns. */
export const CASME3_HEADER = ['Subject', 'Filename', 'Onset', 'Apex', 'Offset', 'AU', 'Objective class', 'emotion'];

/** One CAS(ME)^3 label row; frames onset..offset are written except `drop` (frame drops) and all of them when `frames` is 'missing'. */
export interface Casme3Row {
  subject: string;
  filename: string;
  onset: number;
  apex: number;
  offset: number;
  emotion: string;
  drop?: readonly number[];
  frames?: ClipFrames;
}

/**
 * ROOT/cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx and the frames, either as the
 * full recordings (`part_A/<Subject>/<Filename>/color/<n>.jpg`, depth/ beside)
 * or as the cut clips (`Part_A_ME_clip/frame/<Subject>_<Filename>_<Onset>/<n>.jpg`,
 * depth/ beside frame/). Depth maps are small PNGs the reader must ignore.
 */
export async function casme3Tree(prefix: string, rows: readonly Casme3Row[], layout: 'full' | 'clips', side = 160, root = tmpTree(prefix)): Promise<string> {
  const written = new Set<string>();
  for (const r of rows) {
    if (r.frames === 'missing') continue;
    const numbers = range(r.onset, Math.max(r.offset, r.apex)).filter((n) => !r.drop?.includes(n));
    const clipDir = layout === 'full' ? join(root, 'part_A', r.subject, r.filename) : join(root, 'Part_A_ME_clip');
    const colour = layout === 'full' ? join(clipDir, 'color') : join(clipDir, 'frame', `${r.subject}_${r.filename}_${r.onset}`);
    const depth = layout === 'full' ? join(clipDir, 'depth') : join(clipDir, 'depth', `${r.subject}_${r.filename}_${r.onset}`);
    const fresh = numbers.filter((n) => !written.has(join(colour, `${n}.jpg`)));
    await writeFaceClip(colour, (n) => `${n}.jpg`, fresh, 'jpg', side, r.frames === 'blank');
    for (const n of fresh) {
      written.add(join(colour, `${n}.jpg`));
      await writeImage(join(depth, `${n}.png`), pattern(4, 4, n), 4, 4);
    }
  }
  await writeXlsx(join(root, 'annotation', 'cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx'), [
    CASME3_HEADER,
    ...rows.map((r) => [r.subject, r.filename, r.onset, r.apex, r.offset, '4,L10', 'Objective class 1', r.emotion]),
  ]);
  return root;
}

/** 4DME's label file columns (the release has more after AUs). */
export const FOURDME_HEADER = ['sub_ID', 'fold_name', 'Emotion', 'Onset', 'Apex', 'Offset', 'AUs', 'fold', 'eye blink', 'Positive', 'Negative', 'Surprise', 'Repression', 'Others'];

/** One 4DME label row; grey frames `frame<n>.jpg` onset..offset. */
export interface FourDmeRow {
  subject: string;
  fold: string;
  onset: number;
  apex: number;
  offset: number;
  emotion: string;
  aus?: string;
  frames?: ClipFrames;
}

/** ROOT/4DME_Labelling_Micro_release v1.xlsx and ROOT/gray_micro/<sub_ID>/<fold_name>/frame<n>.jpg. */
export async function fourDmeTree(prefix: string, rows: readonly FourDmeRow[], side = 160): Promise<string> {
  const root = tmpTree(prefix);
  for (const r of rows) {
    if (r.frames === 'missing') continue;
    await writeFaceClip(join(root, 'gray_micro', r.subject, r.fold), (n) => `frame${n}.jpg`, range(r.onset, r.offset), 'grey-jpg', side, r.frames === 'blank');
  }
  await writeXlsx(join(root, '4DME_Labelling_Micro_release v1.xlsx'), [
    FOURDME_HEADER,
    ...rows.map((r) => [r.subject, r.fold, r.emotion, r.onset, r.apex, r.offset, r.aus ?? 'AU4(k)+L7', 1, 0, 0, 0, 0, 0, 0]),
  ]);
  return root;
}

/** Writes `w`x`w` pattern frames `name(n)` for each number: enough for readers, which list frames but do not decode them. */
export async function patternFrames(dir: string, name: (n: number) => string, numbers: readonly number[], w = 8): Promise<void> {
  for (const n of numbers) await writeImage(join(dir, name(n)), pattern(w, w, n), w, w);
}

/** Writes a workbook of one or more sheets, each a list of rows (null: an empty cell). */
export async function writeWorkbook(file: string, sheets: Record<string, (string | number | null)[][]>): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const wb = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(sheets)) {
    const ws = wb.addWorksheet(name);
    rows.forEach((r, i) => {
      const row = ws.getRow(i + 1);
      r.forEach((v, j) => {
        if (v !== null) row.getCell(j + 1).value = v;
      });
      row.commit();
    });
  }
  await wb.xlsx.writeFile(file);
}

/** A CAS(ME)^2 long video: subject folder `sNN`, video `NN_<code><name>` with frames img1.jpg..img<frames>.jpg. */
export interface Casme2LvVideo {
  subject: number;
  code: string;
  name: string;
  frames: number;
  /** Frame numbers with no file. */
  drop?: readonly number[];
}

/**
 * ROOT/code_final.xlsx (sheet 1 without a header row: participant, video,
 * onset, apex, offset, AUs, emotion, type, self-report; sheet 2: index,
 * subject folder, participant; sheet 3: video code, video name) and
 * ROOT/rawpic/sNN/NN_<code><name>/imgN.jpg. `participants` maps the
 * participant numbers the rows use to subject numbers.
 */
export async function casme2LvTree(prefix: string, videos: readonly Casme2LvVideo[], rows: (string | number | null)[][], participants: Record<number, number>): Promise<string> {
  const root = tmpTree(prefix);
  for (const v of videos) {
    const s = String(v.subject).padStart(2, '0');
    const numbers = range(1, v.frames).filter((n) => !v.drop?.includes(n));
    await patternFrames(join(root, 'rawpic', `s${s}`, `${s}_${v.code}${v.name}`), (n) => `img${n}.jpg`, numbers);
  }
  const names = [...new Map(videos.map((v) => [v.code, v.name])).entries()];
  await writeWorkbook(join(root, 'code_final.xlsx'), {
    code_final: rows,
    naming_subject: Object.entries(participants).map(([p, s], i) => [i + 1, `s${String(s).padStart(2, '0')}`, Number(p)]),
    naming_video: names.map(([code, name]) => [code, name]),
  });
  return root;
}

/** SAMM Long Videos' header row, after its title rows. */
export const SAMM_LV_HEADER = ['Subject', 'Filename', 'Inducement Code', 'Onset', 'Apex', 'Offset', 'Duration', 'Type', 'Action Units', 'Notes'];

/** ROOT/SAMM_LongVideos_V2_Release.xlsx (title rows, header, rows) and ROOT/SAMM_longvideos/<video>/<video>_NNNN.jpg, frames 1..n. */
export async function sammLvTree(prefix: string, videos: Record<string, number>, rows: (string | number | null)[][]): Promise<string> {
  const root = tmpTree(prefix);
  for (const [v, n] of Object.entries(videos)) await patternFrames(join(root, 'SAMM_longvideos', v), (k) => `${v}_${String(k).padStart(4, '0')}.jpg`, range(1, n));
  await writeXlsx(join(root, 'SAMM_LongVideos_V2_Release.xlsx'), [
    ['SAMM Long Videos'],
    ['Micro- and macro-movements in the long videos'],
    [],
    ['Onset, Apex and Offset are frame numbers'],
    [], [], [], [], [],
    SAMM_LV_HEADER,
    ...rows,
  ]);
  return root;
}
