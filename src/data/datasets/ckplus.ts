/**
 * CK+ reader.
 *
 *   ROOT/cohn-kanade-images/S005/001/S005_001_00000001.png
 *   ROOT/Emotion/S005/001/S005_001_00000011_emotion.txt     (one number written as a float)
 *
 * Each sequence runs from a neutral first frame to the peak (last) frame: the
 * whole sequence is the clip, the last frame its apex. Sequences without an
 * emotion file are unlabelled and left out with an `excluded` line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CKPLUS_EMOTION_CODES } from './labels.js';
import { findDir, formatRanges, listDir, listNumberedFrames, subdirs, frameRange } from './files.js';
import type { Problem, RawClip, ReadResult } from './types.js';

const isSubjectsDir = (dir: string): boolean => subdirs(dir).some((s) => /^S\d+$/.test(s));

/** Parses the content of an `*_emotion.txt` file: `   3.0000000e+00` -> 3; null when it is not one integral code 0..7. */
export function parseCkEmotion(text: string): number | null {
  const t = text.trim();
  if (!/^[+-]?\d+(\.\d*)?(e[+-]?\d+)?$/i.test(t)) return null;
  const v = Number(t);
  return Number.isInteger(v) && v >= 0 && v <= 7 ? v : null;
}

export async function readCkPlus(root: string): Promise<ReadResult> {
  const dataset = 'ckplus' as const;
  const images = findDir(root, (dir, n) => n.toLowerCase() === 'cohn-kanade-images' && isSubjectsDir(dir), 3);
  if (!images) throw new Error(`ckplus: no cohn-kanade-images/ folder with S005-style subject folders under ${root}`);
  const emotion = findDir(root, (dir, n) => n.toLowerCase() === 'emotion' && isSubjectsDir(dir), 3);
  if (!emotion) throw new Error(`ckplus: no Emotion/ label folder with S005-style subject folders under ${root}`);
  const clips: RawClip[] = [];
  const problems: Problem[] = [];
  for (const subject of subdirs(images)) {
    for (const seq of subdirs(join(images, subject))) {
      const id = `${subject}_${seq}`;
      const dir = join(images, subject, seq);
      const labelDir = join(emotion, subject, seq);
      const labelFiles = listDir(labelDir).filter((n) => n.endsWith('_emotion.txt'));
      if (labelFiles.length === 0) {
        problems.push({ dataset, kind: 'excluded', clip: id, problem: 'unlabelled sequence (no *_emotion.txt)' });
        continue;
      }
      if (labelFiles.length > 1) {
        problems.push({ dataset, kind: 'error', clip: id, file: labelDir, problem: `${labelFiles.length} emotion files; expected one` });
        continue;
      }
      const labelFile = join(labelDir, labelFiles[0]!);
      let text: string;
      try {
        text = readFileSync(labelFile, 'utf8');
      } catch (e) {
        problems.push({ dataset, kind: 'error', clip: id, file: labelFile, problem: `cannot read (${(e as Error).message})` });
        continue;
      }
      const code = parseCkEmotion(text);
      if (code === null) {
        problems.push({ dataset, kind: 'error', clip: id, file: labelFile, problem: `emotion ${JSON.stringify(text.trim())} is not a code 0..7` });
        continue;
      }
      if (code === 0) {
        problems.push({ dataset, kind: 'excluded', clip: id, file: labelFile, problem: 'emotion code 0 (neutral) is not one of the 7 classes' });
        continue;
      }
      const { frames, duplicates } = listNumberedFrames(dir, ['.png', '.jpg', '.jpeg']);
      if (duplicates.length > 0 || frames.length === 0) {
        problems.push({ dataset, kind: 'error', clip: id, file: dir, problem: frames.length === 0 ? 'sequence folder has no frames' : `duplicate frame numbers ${formatRanges(duplicates)}` });
        continue;
      }
      const first = frames[0]!.number;
      const last = frames[frames.length - 1]!.number;
      const { missing } = frameRange(frames, first, last);
      if (missing.length > 0) {
        problems.push({ dataset, kind: 'error', clip: id, file: dir, problem: `frames ${formatRanges(missing)} are missing between ${first} and ${last}` });
        continue;
      }
      clips.push({ dataset, id, subject, label: CKPLUS_EMOTION_CODES[code]!, onset: first, apex: last, offset: last, framePaths: frames.map((f) => f.path) });
    }
  }
  // Label folders for sequences that have no images.
  for (const subject of subdirs(emotion)) {
    for (const seq of subdirs(join(emotion, subject))) {
      if (listDir(join(images, subject, seq)).length === 0 && listDir(join(emotion, subject, seq)).length > 0) {
        problems.push({ dataset, kind: 'error', clip: `${subject}_${seq}`, file: join(emotion, subject, seq), problem: `emotion label without images (${join(images, subject, seq)} missing or empty)` });
      }
    }
  }
  return { clips, problems };
}
