/**
 * `mimanet data synthetic`: writes clips of the embedded dataset as PNG frame
 * folders, to look at or to feed `mimanet predict`; with --long-videos, long
 * videos with their ground-truth expression intervals, to spot in. A clip's
 * name is its folder's name everywhere: in labels.csv, in its clip.json and in
 * what `predict --clips` prints.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import sharp from 'sharp';
import { resolveConfig, PRESETS, type Preset } from '../config.js';
import { loadExperimentData } from '../data/load.js';
import type { ClipSet } from '../data/types.js';
import { writeFileAtomic } from '../util/fs.js';
import { CLIP_META_FILE } from '../predict/index.js';
import { type LongVideoConfigInput, type LongVideoDistractor, type LongVideoExpression, type LongVideoSet, generateLongVideos } from '../data/synthetic/long-video.js';
import { formatSpotCsv } from '../motion/spot-csv.js';

export interface ExportOptions {
  out: string;
  /** Most clips written per set (micro, macro). */
  count: number;
  /** Which sets to write. */
  sets: Array<'micro' | 'macro'>;
}

/** The folder name of a clip: its id with `/` as `__` (as in the clip cache). */
export function exportName(id: string): string {
  return id.replace(/\//g, '__');
}

/**
 * The clips of a set in the order they are exported: the first clip of every
 * subject, then the second, ...; subjects taken from each source in turn. So
 * the first N clips come from as many subjects and sources as there are.
 */
export function exportOrder(set: ClipSet): ClipSet['clips'] {
  const bySubject = new Map<string, ClipSet['clips']>();
  for (const c of set.clips) bySubject.set(c.subject, [...(bySubject.get(c.subject) ?? []), c]);
  const bySource = new Map<string, string[]>();
  for (const [subject, clips] of bySubject) bySource.set(clips[0].source, [...(bySource.get(clips[0].source) ?? []), subject]);
  const sources = [...bySource.values()];
  const subjects: string[] = [];
  for (let k = 0; subjects.length < bySubject.size; k++) for (const list of sources) if (k < list.length) subjects.push(list[k]);
  const out: ClipSet['clips'] = [];
  for (let k = 0; out.length < set.clips.length; k++) for (const s of subjects) if (k < bySubject.get(s)!.length) out.push(bySubject.get(s)![k]);
  return out;
}

/** Writes `count` clips of each set as `OUT/<set>/<clip>/NN.png` plus `OUT/<set>/labels.csv`; returns the clip folders. */
export async function exportClips(sets: Record<'micro' | 'macro', ClipSet>, opts: ExportOptions): Promise<string[]> {
  const written: string[] = [];
  for (const name of opts.sets) {
    const set = sets[name];
    const { frames: T, height: H, width: W, channels: C } = set;
    const rows = ['clip,subject,source,label'];
    for (const clip of exportOrder(set).slice(0, opts.count)) {
      const dir = join(opts.out, name, exportName(clip.id));
      mkdirSync(dir, { recursive: true });
      for (let t = 0; t < T; t++) {
        const px = clip.frames.subarray(t * H * W * C, (t + 1) * H * W * C);
        const img = sharp(Buffer.from(px), { raw: { width: W, height: H, channels: C as 1 | 3 } });
        const png = await (C === 1 ? img.toColourspace('b-w') : img).png().toBuffer();
        writeFileAtomic(join(dir, `${String(t).padStart(2, '0')}.png`), png);
      }
      // the frames run onset to apex: predict reads this instead of guessing the middle frame as apex
      writeFileAtomic(join(dir, CLIP_META_FILE), JSON.stringify({ clip: exportName(clip.id), onset: 0, apex: T - 1, label: set.labels[clip.label], subject: clip.subject, source: clip.source }) + '\n');
      rows.push([exportName(clip.id), clip.subject, clip.source, set.labels[clip.label]].join(','));
      written.push(dir);
    }
    writeFileAtomic(join(opts.out, name, 'labels.csv'), rows.join('\n') + '\n');
  }
  return written;
}

async function writeFrame(path: string, px: Uint8Array, size: number, channels: number): Promise<void> {
  const img = sharp(Buffer.from(px), { raw: { width: size, height: size, channels: channels as 1 | 3 } });
  writeFileAtomic(path, await (channels === 1 ? img.toColourspace('b-w') : img).png().toBuffer());
}

/** What `video.json` beside a long video's frames holds. */
export interface LongVideoMeta {
  id: string;
  fps: number;
  frames: number;
  size: number;
  channels: number;
  expressions: LongVideoExpression[];
  distractors: LongVideoDistractor[];
}

/** Name of the JSON file beside a long video's frames (frame rate, ground truth). */
export const LONG_VIDEO_META_FILE = 'video.json';

/**
 * Writes each video as `OUT/<id>/NNNN.png` (frame 0 first) with `video.json`,
 * and `OUT/truth.csv` (video,onset,offset,kind,apex,emotion: what `spot score
 * --truth` reads), `OUT/distractors.csv` and `OUT/config.json`. Returns the video folders.
 */
export async function exportLongVideos(set: LongVideoSet, out: string): Promise<string[]> {
  const dirs: string[] = [];
  const truth: Array<LongVideoExpression & { video: string }> = [];
  const distractors: Array<LongVideoDistractor & { video: string }> = [];
  for (const v of set.videos) {
    const dir = join(out, v.id);
    const width = Math.max(4, String(v.frames - 1).length);
    const n = v.size * v.size * v.channels;
    for (let t = 0; t < v.frames; t++) await writeFrame(join(dir, `${String(t).padStart(width, '0')}.png`), v.pixels.subarray(t * n, (t + 1) * n), v.size, v.channels);
    const meta: LongVideoMeta = { id: v.id, fps: v.fps, frames: v.frames, size: v.size, channels: v.channels, expressions: v.expressions, distractors: v.distractors };
    writeFileAtomic(join(dir, LONG_VIDEO_META_FILE), JSON.stringify(meta, null, 2) + '\n');
    for (const x of v.expressions) truth.push({ video: v.id, ...x });
    for (const x of v.distractors) distractors.push({ video: v.id, ...x });
    dirs.push(dir);
  }
  writeFileAtomic(join(out, 'truth.csv'), formatSpotCsv(truth, ['apex', 'emotion']));
  writeFileAtomic(join(out, 'distractors.csv'), formatSpotCsv(distractors, ['apex']));
  writeFileAtomic(join(out, 'config.json'), JSON.stringify(set.config, null, 2) + '\n');
  return dirs;
}

function numberFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`option --${name}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

interface SyntheticFlags {
  out: string;
  preset: string;
  count: string;
  set: string;
  longVideos?: string;
  seconds?: string;
  fps?: string;
  size?: string;
  seed?: string;
}

export function registerSyntheticCommand(data: Command): void {
  data
    .command('synthetic')
    .description('write clips of the embedded synthetic dataset as PNG frame folders (onset first, apex last) with a labels.csv')
    .requiredOption('--out <dir>', 'folder to write into')
    .option('--preset <name>', 'geometry (size, T, channels) and generator options of a run preset: quick or paper', 'quick')
    .option('--count <n>', 'clips per set', '10')
    .option('--set <which>', 'micro, macro or both', 'both')
    .option('--long-videos <n>', 'instead of clips, write n long videos (PNG frames, video.json) and their ground truth (truth.csv, the format of `spot score`) under OUT')
    .option('--seconds <s>', 'long videos: length in seconds (default 30)')
    .option('--fps <n>', 'long videos: frame rate (default 30)')
    .option('--size <px>', 'long videos: frame height and width (default 64)')
    .option('--seed <n>', 'long videos: generator seed (default 1)')
    .action(async (f: SyntheticFlags) => {
      if (f.longVideos !== undefined) {
        const videos = numberFlag('long-videos', f.longVideos);
        const input: LongVideoConfigInput = { videos, seconds: numberFlag('seconds', f.seconds), fps: numberFlag('fps', f.fps), size: numberFlag('size', f.size), seed: numberFlag('seed', f.seed) };
        const set = generateLongVideos(input);
        const dirs = await exportLongVideos(set, f.out);
        const c = set.config;
        const truths = set.videos.reduce((n, v) => n + v.expressions.length, 0);
        process.stdout.write(`${dirs.length} long videos written under ${f.out} (${Math.round(c.seconds * c.fps)} frames of ${c.size}x${c.size} at ${c.fps} fps; ${truths} expressions in truth.csv)\n`);
        return;
      }
      const longOnly = (['seconds', 'fps', 'size', 'seed'] as const).filter((k) => f[k] !== undefined);
      if (longOnly.length > 0) throw new Error(`option --${longOnly[0]} applies to --long-videos only`);
      if (!(f.preset in PRESETS)) throw new Error(`option --preset: expected quick or paper, got ${JSON.stringify(f.preset)}`);
      const count = Number(f.count);
      if (!Number.isInteger(count) || count < 1) throw new Error(`option --count: expected a positive integer, got ${JSON.stringify(f.count)}`);
      if (!['micro', 'macro', 'both'].includes(f.set)) throw new Error(`option --set: expected micro, macro or both, got ${JSON.stringify(f.set)}`);
      const cfg = resolveConfig({ preset: f.preset as Preset });
      const data = await loadExperimentData(cfg);
      const sets = f.set === 'both' ? (['micro', 'macro'] as const) : ([f.set] as Array<'micro' | 'macro'>);
      const dirs = await exportClips({ micro: data.micro, macro: data.macro }, { out: f.out, count, sets: [...sets] });
      process.stdout.write(`${dirs.length} clips written under ${f.out} (${cfg.model.frames} frames of ${cfg.model.size}x${cfg.model.size}, labels in labels.csv)\n`);
    });
}
