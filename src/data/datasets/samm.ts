/**
 * SAMM reader.
 *
 *   ROOT/SAMM_Micro_FACS_Codes_v2.xlsx    (about 13 preamble rows, then the header row)
 *   ROOT/SAMM/006/006_1_2/006_05562.jpg   (subject, clip, frames named by absolute frame number)
 *
 * The header row is found by its cells, not by position. The frame number is
 * the integer at the end of each file name (an assumption: see docs/datasets.md).
 */
import { CASME2_SAMM_COLUMNS, readAnnotatedClips, subjectClipFolder, twoLevelFolders } from './annotated.js';
import { type CellValue, findAnnotation, findDir, subdirs } from './files.js';
import type { ReadResult } from './types.js';

export interface SammReadOptions {
  /** Annotation spreadsheet. Default: the `SAMM*.xlsx` found under the root (the highest version when several). */
  annotation?: string;
}

export function sammSubjectName(cell: CellValue): string | null {
  if (cell === null) return null;
  const m = /^0*(\d+)$/.exec(String(cell).trim());
  return m ? m[1]!.padStart(3, '0') : null;
}

export async function readSamm(root: string, opts: SammReadOptions = {}): Promise<ReadResult> {
  const { file: annotation, notes } = findAnnotation('samm', root, opts.annotation, /^SAMM.*\.xlsx$/i, 'SAMM*.xlsx (e.g. SAMM_Micro_FACS_Codes_v2.xlsx)');
  const framesDir = findDir(root, (dir) => subdirs(dir).some((s) => /^\d{3}$/.test(s) && subdirs(`${dir}/${s}`).length > 0), 3);
  if (!framesDir) throw new Error(`samm: no frame folder with subject folders 006, 007, ... under ${root}`);
  const frames = framesDir;
  const res = await readAnnotatedClips({
    dataset: 'samm',
    annotationFile: annotation,
    columns: CASME2_SAMM_COLUMNS,
    subjectName: sammSubjectName,
    clipId: (subject, folder) => `${subject}_${folder}`,
    clipFolder: (subject, folder) => subjectClipFolder(frames, subject, folder),
    gaps: 'error',
    clipFolders: () => twoLevelFolders(frames),
  });
  return { clips: res.clips, problems: [...notes, ...res.problems] };
}
