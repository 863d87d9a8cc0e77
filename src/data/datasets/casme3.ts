/**
 * CAS(ME)^3 part A reader. Two distributions exist; the reader tells them
 * apart by their folders:
 *
 *   full   ROOT/part_A/spNO.1/a/color/123.jpg                  whole recordings (depth/ beside color/)
 *   clips  ROOT/Part_A_ME_clip/frame/spNO.1_a_123/123.jpg      one folder per micro-expression (depth/ beside frame/)
 *   labels ROOT/cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx       Subject, Filename, Onset, Apex, Offset, AU, Objective class, emotion
 *
 * Frame files are named by frame number, the number the label file uses.
 * A Filename (a recording) holds several micro-expressions, so the clip id
 * carries the onset: `spNO.1_a_123`, the clip folder's name in the clips
 * distribution. The recordings drop frames: a number missing between onset
 * and apex repeats the frame before it (a note); a missing onset or apex
 * frame is an error. Only the colour frames are read; depth is out of scope.
 */
import { join } from 'node:path';
import { type AnnotatedLayout, readAnnotatedClips, subjectClipFolder } from './annotated.js';
import { type CellValue, findAnnotation, findDir, isDir, subdirs } from './files.js';
import type { ReadResult } from './types.js';

export interface Casme3ReadOptions {
  /** Which distribution to read: `full` recordings, cut `clips`, or `auto` (default: full when present, else clips). */
  frames?: 'full' | 'clips' | 'auto';
  /** Label spreadsheet. Default: the newest `cas(me)3_part_A_ME_label*.xlsx` found under the root. */
  annotation?: string;
}

const SUBJECT = /^spNO\.\d+$/i;
const CLIP_FOLDER = /^spNO\.\d+_.+_\d+$/i;

/** `spNO.1` (also from `1` or `spno.1`), or null. */
export function casme3SubjectName(cell: CellValue): string | null {
  if (cell === null) return null;
  const m = /^(?:spNO\.)?0*(\d+)$/i.exec(String(cell).trim());
  return m ? `spNO.${m[1]}` : null;
}

/** Clip id: subject, recording and onset, as the clips distribution names its folders. */
export function casme3ClipId(subject: string, filename: string, onset: number | null): string {
  return onset === null ? `${subject}_${filename}` : `${subject}_${filename}_${onset}`;
}

/** The folder of whole recordings: it holds `spNO.N/<Filename>/color/`. */
function findFullDir(root: string): string | null {
  return findDir(root, (dir) => subdirs(dir).some((s) => SUBJECT.test(s) && subdirs(join(dir, s)).some((f) => isDir(join(dir, s, f, 'color')))), 4);
}

/** The `frame/` folder of the cut clips: it holds `spNO.N_<Filename>_<Onset>/`. */
function findClipsDir(root: string): string | null {
  return findDir(root, (dir, name) => name.toLowerCase() === 'frame' && subdirs(dir).some((s) => CLIP_FOLDER.test(s)), 4);
}

export async function readCasme3(root: string, opts: Casme3ReadOptions = {}): Promise<ReadResult> {
  const dataset = 'casme3' as const;
  const { file: annotation, notes } = findAnnotation(dataset, root, opts.annotation, /^cas\(me\)3_part_A_ME_label.*\.xlsx?$/i, 'cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx', 3);
  const want = opts.frames ?? 'auto';
  const full = want === 'clips' ? null : findFullDir(root);
  const clips = want === 'full' || (want === 'auto' && full) ? null : findClipsDir(root);
  if (!full && !clips) {
    const what = { full: 'part_A/spNO.N/<Filename>/color/', clips: 'Part_A_ME_clip/frame/spNO.N_<Filename>_<Onset>/', auto: 'part_A/spNO.N/<Filename>/color/ or Part_A_ME_clip/frame/spNO.N_<Filename>_<Onset>/' }[want];
    throw new Error(`casme3: no frame folders ${what} under ${root}`);
  }
  if (full && want === 'auto') {
    const other = findClipsDir(root);
    if (other) notes.push({ dataset, kind: 'note', file: other, problem: `cut clips not used; reading the full recordings in ${full} (--casme3-frames clips reads these)` });
  }

  const columns = {
    subject: { name: 'Subject', keys: ['subject'] },
    filename: { name: 'Filename', keys: ['filename'] },
    onset: { name: 'Onset', keys: ['onset', 'onsetframe'] },
    apex: { name: 'Apex', keys: ['apex', 'apexframe'] },
    offset: { name: 'Offset', keys: ['offset', 'offsetframe'] },
    emotion: { name: 'emotion', keys: ['emotion'] },
    aus: { name: 'AU', keys: ['au', 'aus'] },
  };
  let clipFolder: AnnotatedLayout['clipFolder'];
  let clipFolders: AnnotatedLayout['clipFolders'];
  if (full) {
    clipFolder = (subject, filename) => {
      const { dir, expected } = subjectClipFolder(full, subject, filename);
      const color = join(dir ?? expected, 'color');
      return { dir: dir && isDir(color) ? color : null, expected: color };
    };
  } else {
    const dir = clips!;
    // a clip folder may keep its frames in color/ as the recordings do
    const framesOf = (p: string): string => (isDir(join(p, 'color')) ? join(p, 'color') : p);
    const byName = new Map(subdirs(dir).map((n) => [n.toLowerCase(), join(dir, n)]));
    clipFolder = (subject, filename, onset) => {
      const name = casme3ClipId(subject, filename, onset);
      const hit = byName.get(name.toLowerCase());
      return { dir: hit ? framesOf(hit) : null, expected: join(dir, name) };
    };
    clipFolders = () => [...byName.values()].map(framesOf);
  }
  const res = await readAnnotatedClips({ dataset, annotationFile: annotation, columns, subjectName: casme3SubjectName, clipId: casme3ClipId, clipFolder, gaps: 'hold', clipFolders });
  return { clips: res.clips, problems: [...notes, ...res.problems] };
}
