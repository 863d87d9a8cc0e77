/**
 * SMIC-HS reader.
 *
 *   ROOT/HS/s1/micro/negative/s1_ne_01/image012345.bmp
 *
 * Labels come from the class folder (negative, positive, surprise). SMIC has
 * no apex annotation: the apex is taken to be the middle frame of the clip
 * (index floor((n - 1) / 2) in frame-number order), so a clip runs from its
 * first frame to that middle frame. Subject `s1` becomes `s01`, and the clip
 * `s1_ne_01` of subject `s1` gets the id `s01_s01_ne_01`.
 */
import { join } from 'node:path';
import { NATIVE_LABELS } from './labels.js';
import { findDir, formatRanges, listNumberedFrames, subdirs, frameRange } from './files.js';
import type { Problem, RawClip, ReadResult } from './types.js';

/** Frame index used as the apex of an `n`-frame SMIC clip. */
export function smicApexIndex(n: number): number {
  return Math.floor((n - 1) / 2);
}

export function smicSubjectName(folder: string): string | null {
  const m = /^s0*(\d+)$/i.exec(folder);
  return m ? `s${m[1]!.padStart(2, '0')}` : null;
}

const isSubjectsDir = (dir: string): boolean => subdirs(dir).some((s) => /^s\d+$/i.test(s) && subdirs(join(dir, s)).some((c) => c.toLowerCase() === 'micro'));

export async function readSmic(root: string): Promise<ReadResult> {
  const hs = findDir(root, (dir, name) => name.toUpperCase() === 'HS' && isSubjectsDir(dir), 3) ?? findDir(root, isSubjectsDir, 3);
  if (!hs) throw new Error(`smic: no SMIC-HS folder (HS/s1/micro/...) under ${root}`);
  const clips: RawClip[] = [];
  const problems: Problem[] = [];
  const dataset = 'smic' as const;
  for (const s of subdirs(hs)) {
    const subject = smicSubjectName(s);
    if (!subject) {
      problems.push({ dataset, kind: 'excluded', file: join(hs, s), problem: 'not a subject folder (s1, s2, ...)' });
      continue;
    }
    const microDir = subdirs(join(hs, s)).find((c) => c.toLowerCase() === 'micro');
    if (!microDir) {
      problems.push({ dataset, kind: 'error', file: join(hs, s), problem: `subject ${subject} has no micro/ folder` });
      continue;
    }
    for (const cls of subdirs(join(hs, s, microDir))) {
      const classDir = join(hs, s, microDir, cls);
      const label = cls.toLowerCase();
      if (!NATIVE_LABELS.smic.includes(label)) {
        problems.push({ dataset, kind: 'error', file: classDir, problem: `unknown label folder ${JSON.stringify(cls)}; SMIC has ${NATIVE_LABELS.smic.join(', ')}` });
        continue;
      }
      for (const folder of subdirs(classDir)) {
        const id = `${subject}_${folder.replace(/^s0*(\d+)(?=_)/i, (_m, d: string) => `s${d.padStart(2, '0')}`)}`;
        const dir = join(classDir, folder);
        const { frames, unnumbered, duplicates } = listNumberedFrames(dir, ['.bmp', '.jpg', '.jpeg', '.png']);
        if (unnumbered.length > 0) {
          problems.push({ dataset, kind: 'note', clip: id, file: dir, problem: `${unnumbered.length} image file(s) without a frame number in the name ignored` });
        }
        if (duplicates.length > 0) {
          problems.push({ dataset, kind: 'error', clip: id, file: dir, problem: `two files carry the same frame number (${formatRanges(duplicates)})` });
          continue;
        }
        if (frames.length === 0) {
          problems.push({ dataset, kind: 'error', clip: id, file: dir, problem: 'clip folder has no frames' });
          continue;
        }
        const first = frames[0]!.number;
        const last = frames[frames.length - 1]!.number;
        const { missing } = frameRange(frames, first, last);
        if (missing.length > 0) {
          problems.push({ dataset, kind: 'error', clip: id, file: dir, problem: `frames ${formatRanges(missing)} are missing between ${first} and ${last}` });
          continue;
        }
        const apexIndex = smicApexIndex(frames.length);
        clips.push({
          dataset,
          id,
          subject,
          label,
          onset: first,
          apex: frames[apexIndex]!.number,
          offset: last,
          framePaths: frames.slice(0, apexIndex + 1).map((f) => f.path),
        });
      }
    }
  }
  return { clips, problems };
}
