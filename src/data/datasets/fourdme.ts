/**
 * 4DME reader (the grey micro-expression clips).
 *
 *   ROOT/4DME_Labelling_Micro_release v1.xlsx     sub_ID, fold_name, Emotion, Onset, Apex, Offset, AUs, ...
 *   ROOT/gray_micro/<sub_ID>/<fold_name>/<frames>  frames named with their absolute frame number (the last integer)
 *
 * Emotions are positive, negative, surprise, repression and others; a row may
 * carry two joined by `+` (`Negative+Surprise`), which the label schemes leave
 * out. AUs are `+`-separated; `(k)` after an AU marks it as static (present
 * but not moving), see `split4dmeAus`. The clip id is `<sub_ID>_<fold_name>`.
 */
import { readAnnotatedClips, subjectClipFolder, twoLevelFolders } from './annotated.js';
import { type CellValue, findAnnotation, findDir } from './files.js';
import type { ReadResult } from './types.js';

export interface FourDmeReadOptions {
  /** Label spreadsheet. Default: the `4DME_Label*Micro*.xlsx` found under the root (the newest name when several). */
  annotation?: string;
}

/** The sub_ID cell as written (trimmed), or null when empty. */
export function fourDmeSubjectName(cell: CellValue): string | null {
  if (cell === null) return null;
  const s = String(cell).trim();
  return s === '' || /[/\\]/.test(s) ? null : s;
}

/** One AU of a 4DME AUs cell: `AU4(k)` -> { au: 'AU4', static: true }. */
export interface FourDmeAu {
  au: string;
  /** Marked `(k)`: the AU is held, not moving, during the clip. */
  static: boolean;
}

/** Splits a 4DME AUs cell (`L7+AU4(k)+12`) into its AUs, in order. */
export function split4dmeAus(text: string): FourDmeAu[] {
  return text
    .split('+')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t) => {
      const m = /^(.*?)\s*\(k\)$/i.exec(t);
      return m ? { au: m[1]!, static: true } : { au: t, static: false };
    });
}

export async function readFourDme(root: string, opts: FourDmeReadOptions = {}): Promise<ReadResult> {
  const dataset = '4dme' as const;
  const { file: annotation, notes } = findAnnotation(dataset, root, opts.annotation, /^4DME_Label.*Micro.*\.xlsx?$/i, '"4DME_Labelling_Micro_release v1.xlsx" (or another 4DME_Label*Micro*.xlsx)', 3);
  const frames = findDir(root, (_dir, name) => name.toLowerCase() === 'gray_micro', 3);
  if (!frames) throw new Error(`4dme: no frame folder gray_micro/<sub_ID>/<fold_name>/ under ${root}`);
  const res = await readAnnotatedClips({
    dataset,
    annotationFile: annotation,
    columns: {
      subject: { name: 'sub_ID', keys: ['subid'] },
      filename: { name: 'fold_name', keys: ['foldname'] },
      onset: { name: 'Onset', keys: ['onset'] },
      apex: { name: 'Apex', keys: ['apex'] },
      offset: { name: 'Offset', keys: ['offset'] },
      emotion: { name: 'Emotion', keys: ['emotion'] },
      aus: { name: 'AUs', keys: ['aus', 'au'] },
    },
    subjectName: fourDmeSubjectName,
    clipId: (subject, folder) => `${subject}_${folder}`,
    clipFolder: (subject, folder) => subjectClipFolder(frames, subject, folder),
    gaps: 'error',
    clipFolders: () => twoLevelFolders(frames),
  });
  return { clips: res.clips, problems: [...notes, ...res.problems] };
}
