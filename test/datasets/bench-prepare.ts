/**
 * Preprocessing speed on a generated CASME II-like tree: 640x480 JPEG frames
 * with a face, one detection per clip. Run: `npx tsx test/datasets/bench-prepare.ts [clips] [frames-per-clip] [ssd|tiny]`.
 * Prints source frames per second for the per-frame work alone
 * (decode + align + crop + resize) and for whole clips including detection.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { createFaceDetector } from '../../src/data/preprocess/face.js';
import { alignFrame, findAlignment } from '../../src/data/preprocess/pipeline.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { CASME2_HEADER, faceFrame, tmpTree, writeXlsx } from './fixtures.js';

const clips = Number(process.argv[2] ?? 6);
const perClip = Number(process.argv[3] ?? 32);
const T = 16;
const model = (process.argv[4] ?? 'ssd') as 'ssd' | 'tiny';

const root = tmpTree('bench');
const rows: (string | number | null)[][] = [CASME2_HEADER];
for (let c = 0; c < clips; c++) {
  const dir = join(root, 'CASME2_RAW_selected', `sub${String(c + 1).padStart(2, '0')}`, 'EP01_01');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < perClip; i++) {
    const face = await faceFrame(240, (i % 8) * 2);
    await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 80, b: 70 } } })
      .composite([{ input: face, raw: { width: 240, height: 240, channels: 3 }, left: 200, top: 100 }])
      .jpeg({ quality: 90 })
      .toFile(join(dir, `img${i + 1}.jpg`));
  }
  rows.push([c + 1, 'EP01_01', null, 1, perClip, perClip, null, '12', 'happiness']);
}
await writeXlsx(join(root, 'CASME2-coding-20140508.xlsx'), rows);

const detector = await createFaceDetector({ model });
const first = join(root, 'CASME2_RAW_selected', 'sub01', 'EP01_01', 'img1.jpg');
const found = (await findAlignment({ file: first }, detector, { size: 112 }))!;
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const t0 = performance.now();
const c0 = cpu();
let n = 0;
const files = Array.from({ length: perClip }, (_, i) => join(root, 'CASME2_RAW_selected', 'sub01', 'EP01_01', `img${i + 1}.jpg`));
for (let rep = 0; rep < 3; rep++) {
  for (let i = 0; i < files.length; i += 4) {
    const batch = files.slice(i, i + 4);
    await Promise.all(batch.map((f) => alignFrame({ file: f }, found.alignment, 3)));
    n += batch.length;
  }
}
const alignRate = n / ((performance.now() - t0) / 1000);
const alignCpu = (cpu() - c0) / n;
console.log(
  `decode + align + crop + resize (640x480 JPEG -> 112x112x3): ${alignRate.toFixed(0)} frames/s wall, ` +
    `${(alignCpu * 1000).toFixed(1)} ms CPU per frame (${(2 / alignCpu).toFixed(0)} frames/s on 2 free cores)`,
);
const { decodeRgb } = await import('../../src/data/preprocess/decode.js');
const { image } = await decodeRgb({ file: first }, 640);
const td = performance.now();
const cd = cpu();
for (let i = 0; i < 5; i++) await detector.detect(image);
const detWall = (performance.now() - td) / 5000;
const detCpu = (cpu() - cd) / 5;
console.log(`${model} detection + 68 landmarks: ${(detWall * 1000).toFixed(0)} ms wall, ${(detCpu * 1000).toFixed(0)} ms CPU per clip`);
const perClipCpu = detCpu + perClip * alignCpu;
console.log(`estimate on 2 free cores, detection on one thread overlapping decoding: ${(perClip / Math.max(detCpu, perClipCpu / 2)).toFixed(0)} source frames/s`);
const cp = cpu();

const res = await prepareDataset({ dataset: 'casme2', root, cacheDir: join(root, 'cache'), frames: T, size: 112, channels: 3, detector });
console.log(
  `prepare ${res.written} clips of ${perClip} frames to T=${T}: ${res.seconds.toFixed(2)} s, ` +
    `${(res.framesProcessed / res.seconds).toFixed(0)} source frames/s decoded and aligned, ` +
    `${((res.written * T) / res.seconds).toFixed(0)} output frames/s, ${(res.seconds / res.written).toFixed(2)} s per clip (one ${model} detection each); ` +
    `${(cpu() - cp).toFixed(1)} CPU s`,
);
