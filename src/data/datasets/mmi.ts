/**
 * MMI reader. The layout is assumed from public code that reads MMI (no copy
 * was available to check it):
 *
 *   ROOT/Sessions/<session>/S001-002.avi            the sequence (or image frames S001-002-*.jpg|png|bmp instead)
 *   ROOT/Sessions/<session>/S001-002.xml            metadata: <Metatag Name="Emotion" Value="4"/> among others
 *   ROOT/Sessions/<session>/S001-002-oao_aucs.xml   AU markers: <ActionUnit Number="12"> <Marker Frame=".."/> ...
 *   ROOT/Sessions/<session>/session.xml
 *
 * The Emotion metatag holds a code 1..6 (taken to be anger, disgust, fear,
 * happiness, sadness, surprise, in that order: an assumption) or an emotion
 * name. Sessions without it carry AU coding only and are left out
 * (`excluded`). Sequences go neutral -> peak -> neutral; without a reliable
 * apex annotation the apex is the middle frame (index floor((n - 1) / 2)), so
 * the clip runs from the first frame to the middle one. The subject is the
 * `S001` prefix of the media name. AUs listed in the oao_aucs file become the
 * clip's `aus` (`1+2+12`).
 */
import { readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { NATIVE_LABELS, normalizeLabel } from './labels.js';
import { IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, findDir, formatRanges, listDir, listNumberedFrames, subdirs } from './files.js';
import { type Problem, type RawClip, type ReadResult, videoFrameRef } from './types.js';
import { probeVideo } from '../preprocess/video.js';

/** MMI Emotion metatag codes (assumed order). */
export const MMI_EMOTION_CODES: Readonly<Record<number, string>> = {
  1: 'anger',
  2: 'disgust',
  3: 'fear',
  4: 'happiness',
  5: 'sadness',
  6: 'surprise',
};

/** Frame index used as the apex of an `n`-frame MMI sequence. */
export function mmiApexIndex(n: number): number {
  return Math.floor((n - 1) / 2);
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*("([^"]*)"|'([^']*)')/g)) out[m[1]!.toLowerCase()] = m[3] ?? m[4] ?? '';
  return out;
}

/** Metatags of an MMI metadata file, by lower-case name. */
export function parseMmiMetatags(xml: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const m of xml.matchAll(/<Metatag\b[^>]*>/gi)) {
    const a = attributes(m[0]);
    if (a.name !== undefined) tags.set(a.name.toLowerCase(), (a.value ?? '').trim());
  }
  return tags;
}

/** The native label for an Emotion metatag value, or null. */
export function mmiEmotionLabel(value: string): string | null {
  const v = value.trim();
  if (/^\d+$/.test(v)) return MMI_EMOTION_CODES[Number(v)] ?? null;
  const l = normalizeLabel(v);
  return NATIVE_LABELS.mmi.includes(l) ? l : null;
}

/** AU numbers of an oao_aucs file joined with `+`, in file order. */
export function parseMmiAus(xml: string): string {
  const aus: string[] = [];
  for (const m of xml.matchAll(/<ActionUnit\b[^>]*>/gi)) {
    const n = attributes(m[0]).number;
    if (n !== undefined && !aus.includes(n)) aus.push(n);
  }
  return aus.join('+');
}

export async function readMmi(root: string): Promise<ReadResult> {
  const dataset = 'mmi' as const;
  const isSessionsDir = (dir: string): boolean => subdirs(dir).some((s) => listDir(join(dir, s)).some((f) => f.toLowerCase() === 'session.xml' || /\.xml$/i.test(f)));
  const sessions = findDir(root, (dir, n) => n.toLowerCase() === 'sessions' && isSessionsDir(dir), 3) ?? findDir(root, isSessionsDir, 2);
  if (!sessions) throw new Error(`mmi: no Sessions/ folder with session folders holding .xml metadata under ${root}`);
  const clips: RawClip[] = [];
  const problems: Problem[] = [];
  const ids = new Set<string>();

  for (const session of subdirs(sessions)) {
    const dir = join(sessions, session);
    const files = listDir(dir);
    const meta = files.filter((f) => /\.xml$/i.test(f) && f.toLowerCase() !== 'session.xml' && !/-oao_aucs\.xml$/i.test(f));
    if (meta.length === 0) {
      problems.push({ dataset, kind: 'error', file: dir, problem: 'no metadata .xml file (S001-002.xml) in the session folder' });
      continue;
    }
    const metaFile = join(dir, meta[0]!);
    const base = basename(meta[0]!, extname(meta[0]!));
    let tags: Map<string, string>;
    try {
      tags = parseMmiMetatags(readFileSync(metaFile, 'utf8'));
    } catch (e) {
      problems.push({ dataset, kind: 'error', file: metaFile, problem: `cannot read (${(e as Error).message})` });
      continue;
    }
    const emotion = tags.get('emotion');
    if (emotion === undefined || emotion === '' || emotion === '0') {
      problems.push({ dataset, kind: 'excluded', clip: base, file: metaFile, problem: 'no Emotion metatag (AU-only session)' });
      continue;
    }
    const label = mmiEmotionLabel(emotion);
    if (!label) {
      problems.push({ dataset, kind: 'error', clip: base, file: metaFile, problem: `unknown Emotion value ${JSON.stringify(emotion)}; expected 1..6 or one of ${NATIVE_LABELS.mmi.join(', ')}` });
      continue;
    }
    const subjectMatch = /^S(\d+)/i.exec(base);
    const subject = subjectMatch ? `S${subjectMatch[1]!.padStart(3, '0')}` : `session${session}`;
    if (!subjectMatch) problems.push({ dataset, kind: 'note', clip: base, file: metaFile, problem: `media name has no S001-style subject prefix; subject set to ${subject}` });
    if (ids.has(base)) {
      problems.push({ dataset, kind: 'error', clip: base, file: dir, problem: 'another session already has a sequence of this name; this one is ignored' });
      continue;
    }
    ids.add(base);

    const aucsName = files.find((f) => /-oao_aucs\.xml$/i.test(f));
    let aus: string | undefined;
    if (aucsName) {
      try {
        aus = parseMmiAus(readFileSync(join(dir, aucsName), 'utf8')) || undefined;
      } catch (e) {
        problems.push({ dataset, kind: 'note', clip: base, file: join(dir, aucsName), problem: `AU file unreadable (${(e as Error).message}); no AUs recorded` });
      }
    }

    const video = files.find((f) => VIDEO_EXTENSIONS.includes(extname(f).toLowerCase()));
    let framePaths: string[];
    let n: number;
    if (video) {
      const path = join(dir, video);
      try {
        n = (await probeVideo(path)).frames;
      } catch (e) {
        problems.push({ dataset, kind: 'error', clip: base, file: path, problem: (e as Error).message });
        continue;
      }
      if (n === 0) {
        problems.push({ dataset, kind: 'error', clip: base, file: path, problem: 'video has no frames' });
        continue;
      }
      framePaths = Array.from({ length: mmiApexIndex(n) + 1 }, (_, i) => videoFrameRef(path, i));
    } else {
      const { frames, duplicates } = listNumberedFrames(dir, IMAGE_EXTENSIONS);
      if (frames.length === 0) {
        problems.push({ dataset, kind: 'error', clip: base, file: dir, problem: 'neither a video nor numbered image frames in the session folder' });
        continue;
      }
      if (duplicates.length > 0) {
        problems.push({ dataset, kind: 'error', clip: base, file: dir, problem: `duplicate frame numbers ${formatRanges(duplicates)}` });
        continue;
      }
      n = frames.length;
      framePaths = frames.slice(0, mmiApexIndex(n) + 1).map((f) => f.path);
    }
    clips.push({ dataset, id: base, subject, label, onset: 0, apex: mmiApexIndex(n), offset: n - 1, framePaths, ...(aus ? { aus } : {}) });
  }
  return { clips, problems };
}
