/**
 * CASME II reader.
 *
 *   ROOT/CASME2-coding-20140508.xlsx (or -20190701.xlsx)
 *   ROOT/CASME2_RAW_selected/sub01/EP02_01f/img46.jpg        (raw frames)
 *   ROOT/Cropped/sub01/EP02_01f/reg_img46.jpg                 (frames cropped by the authors)
 *
 * Both folders may sit one or two wrapping folders deeper. Frame numbers in
 * file names are absolute and match the annotation. A missing apex (`/` or
 * empty) falls back to the middle of onset..offset, reported as a note.
 */
import { CASME2_SAMM_COLUMNS, readAnnotatedClips, subjectClipFolder, twoLevelFolders } from './annotated.js';
import { type CellValue, findAnnotation, findDir, subdirs } from './files.js';
import type { ReadResult } from './types.js';

export interface Casme2ReadOptions {
  /** Which frames to read: the raw selection or the authors' cropped frames. Default `auto`: raw when present, else cropped. */
  frames?: 'raw' | 'cropped' | 'auto';
  /** Annotation spreadsheet. Default: the newest `CASME2-coding-*.xlsx` found under the root. */
  annotation?: string;
}

export const CASME2_FRAME_FOLDERS = { raw: 'CASME2_RAW_selected', cropped: 'Cropped' } as const;

const hasSubjectFolders = (dir: string): boolean => subdirs(dir).some((s) => /^sub\d+$/i.test(s));

export function casme2SubjectName(cell: CellValue): string | null {
  if (cell === null) return null;
  const m = /^(?:sub)?0*(\d+)$/i.exec(String(cell).trim());
  if (!m || !Number.isFinite(Number(m[1]))) return null;
  return `sub${m[1]!.padStart(2, '0')}`;
}

export async function readCasme2(root: string, opts: Casme2ReadOptions = {}): Promise<ReadResult> {
  const { file: annotation, notes } = findAnnotation('casme2', root, opts.annotation, /^CASME2[-_ ]coding.*\.xlsx$/i, 'CASME2-coding-*.xlsx');
  const want = opts.frames ?? 'auto';
  const find = (name: string): string | null => findDir(root, (dir, n) => n.toLowerCase() === name.toLowerCase() && hasSubjectFolders(dir), 3);
  let framesDir: string | null = null;
  if (want === 'raw' || want === 'auto') framesDir = find(CASME2_FRAME_FOLDERS.raw);
  if (!framesDir && (want === 'cropped' || want === 'auto')) framesDir = find(CASME2_FRAME_FOLDERS.cropped);
  if (!framesDir) {
    const names = want === 'auto' ? `${CASME2_FRAME_FOLDERS.raw} or ${CASME2_FRAME_FOLDERS.cropped}` : CASME2_FRAME_FOLDERS[want];
    throw new Error(`casme2: no frame folder ${names} with sub01.. subject folders under ${root}`);
  }
  const frames = framesDir;
  const res = await readAnnotatedClips({
    dataset: 'casme2',
    annotationFile: annotation,
    columns: CASME2_SAMM_COLUMNS,
    subjectName: casme2SubjectName,
    clipId: (subject, folder) => `${subject}_${folder}`,
    clipFolder: (subject, folder) => subjectClipFolder(frames, subject, folder),
    gaps: 'error',
    clipFolders: () => twoLevelFolders(frames),
  });
  return { clips: res.clips, problems: [...notes, ...res.problems] };
}
