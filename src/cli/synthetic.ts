/**
 * `mimanet data synthetic`: writes clips of the embedded dataset as PNG frame
 * folders, to look at or to feed `mimanet predict`. A clip's name is its
 * folder's name everywhere: in labels.csv, in its clip.json and in what
 * `predict --clips` prints.
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

export function registerSyntheticCommand(data: Command): void {
  data
    .command('synthetic')
    .description('write clips of the embedded synthetic dataset as PNG frame folders (onset first, apex last) with a labels.csv')
    .requiredOption('--out <dir>', 'folder to write into')
    .option('--preset <name>', 'geometry (size, T, channels) and generator options of a run preset: quick or paper', 'quick')
    .option('--count <n>', 'clips per set', '10')
    .option('--set <which>', 'micro, macro or both', 'both')
    .action(async (f: { out: string; preset: string; count: string; set: string }) => {
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
