/**
 * On-disk clip cache: the format that `data prepare` writes and training reads,
 * the same for real and synthetic data.
 *
 *   DIR/clipset.json            ClipSet metadata and the clip list (without pixels)
 *   DIR/clips/<id>.u8           T*H*W*C raw bytes of one clip (`/` in ids becomes `__`)
 *
 * Clips are written one file each, so an interrupted `prepare` keeps what it
 * finished, and a rerun skips clips whose file is already complete.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Clip, type ClipSet, type LeftOutClip, clipBytes } from './types.js';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { z } from '../util/schema.js';
import { sha256 } from '../util/checksum.js';

export const CACHE_VERSION = 1;

const IndexedClip = z.object({
  id: z.string().min(1),
  subject: z.string(),
  source: z.string(),
  label: z.number().int().nonnegative(),
  /** sha256 of the clip's .u8 file, checked whenever the clip is read. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type IndexedClip = z.infer<typeof IndexedClip>;
/** A clip as `prepare` lists it; {@link writeIndex} adds its checksum. */
export type CachedClipMeta = Omit<IndexedClip, 'sha256'>;

const LeftOut = z.object({ dataset: z.string(), clip: z.string(), kind: z.enum(['error', 'excluded']), reason: z.string() });

/** `clipset.json`, checked on reading: a cache index of the wrong shape names its field. */
const CacheIndex = z.object({
  version: z.literal(CACHE_VERSION),
  name: z.string(),
  labels: z.array(z.string()).min(1),
  frames: z.number().int().positive(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  channels: z.number().int().positive(),
  clips: z.array(IndexedClip),
  /** How the clips were made (preprocessing settings) and what was left out (`leftOut`), for provenance. */
  provenance: z.object({ leftOut: z.array(LeftOut).optional(), skipped: z.array(z.string()).optional() }).passthrough().optional(),
}).superRefine((index, ctx) => {
  index.clips.forEach((c, i) => {
    if (c.label >= index.labels.length) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['clips', i, 'label'], message: `expected a class index below ${index.labels.length} (${index.labels.length} labels)` });
  });
});
export type CacheIndex = z.infer<typeof CacheIndex>;


export function clipFileName(id: string): string {
  return id.replace(/\//g, '__') + '.u8';
}

export function clipPath(dir: string, id: string): string {
  return join(dir, 'clips', clipFileName(id));
}

/** True when the clip's pixel file exists with the expected size. */
export function hasClip(dir: string, id: string, bytes: number): boolean {
  const p = clipPath(dir, id);
  return existsSync(p) && statSync(p).size === bytes;
}

export function writeClip(dir: string, clip: Clip, bytes: number): void {
  if (clip.frames.length !== bytes) {
    throw new Error(`clip ${clip.id}: has ${clip.frames.length} bytes, expected ${bytes}`);
  }
  mkdirSync(join(dir, 'clips'), { recursive: true });
  writeFileAtomic(clipPath(dir, clip.id), clip.frames);
}

/** Writes clipset.json with each clip's checksum (read from its file, so reused clips are covered too). */
export function writeIndex(dir: string, set: Omit<ClipSet, 'clips'>, metas: CachedClipMeta[], provenance?: Record<string, unknown>): void {
  const clips = metas.map((m) => ({ ...m, sha256: sha256(readFileSync(clipPath(dir, m.id))) }));
  const index: CacheIndex = {
    version: CACHE_VERSION,
    name: set.name,
    labels: set.labels,
    frames: set.frames,
    height: set.height,
    width: set.width,
    channels: set.channels,
    clips,
    ...(provenance ? { provenance } : {}),
  };
  writeJsonAtomic(join(dir, 'clipset.json'), index);
}

/** Writes a whole ClipSet (index plus every clip). */
export function saveClipSet(dir: string, set: ClipSet, provenance?: Record<string, unknown>): void {
  const bytes = clipBytes(set);
  for (const c of set.clips) writeClip(dir, c, bytes);
  writeIndex(dir, set, set.clips.map(({ id, subject, source, label }) => ({ id, subject, source, label })), provenance);
}

export function readIndex(dir: string): CacheIndex {
  const p = join(dir, 'clipset.json');
  if (!existsSync(p)) throw new Error(`${dir}: no clip cache here (missing clipset.json); run \`mimanet data prepare\` first`);
  try {
    return readJsonFile(p, CacheIndex);
  } catch (e) {
    const m = (e as Error).message;
    // caches written before checksums were kept: prepare reuses their clips and writes the sums
    throw /\.sha256" is missing/.test(m) ? new Error(`${m}; every clip's checksum is needed: run \`mimanet data prepare\` on the cache again, which keeps its clips and adds them`) : e;
  }
}

/** The bytes of one clip of the cache: the file must exist, have the clip's size and match its checksum. */
export function readCachedClip(dir: string, index: CacheIndex, clip: IndexedClip): Uint8Array {
  const p = clipPath(dir, clip.id);
  if (!existsSync(p)) throw new Error(`${dir}: clip ${clip.id} is listed in clipset.json but ${p} is missing`);
  const buf = readFileSync(p);
  const bytes = clipBytes(index);
  if (buf.length !== bytes) throw new Error(`${p}: ${buf.length} bytes, expected ${bytes} (T=${index.frames}, ${index.height}x${index.width}x${index.channels})`);
  const sum = sha256(buf);
  if (sum !== clip.sha256) throw new Error(`${p}: checksum mismatch (sha256 ${sum.slice(0, 12)}..., clipset.json records ${clip.sha256.slice(0, 12)}...): the clip file is damaged`);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** Loads a cached ClipSet; every clip file must exist, have the right size and match its checksum. */
export function loadClipSet(dir: string): ClipSet {
  const index = readIndex(dir);
  const clips: Clip[] = index.clips.map((c) => {
    const { sha256: _sum, ...m } = c;
    void _sum;
    return { ...m, frames: readCachedClip(dir, index, c) };
  });
  const leftOut: LeftOutClip[] = index.provenance?.leftOut ?? (index.provenance?.skipped ?? []).map((line) => ({ dataset: index.name, clip: '', kind: 'error' as const, reason: line }));
  return { name: index.name, labels: index.labels, frames: index.frames, height: index.height, width: index.width, channels: index.channels, clips, ...(leftOut.length > 0 ? { leftOut } : {}) };
}
