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
import { type Clip, type ClipSet, clipBytes } from './types.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';

export const CACHE_VERSION = 1;

export interface CachedClipMeta {
  id: string;
  subject: string;
  source: string;
  label: number;
}

export interface CacheIndex {
  version: number;
  name: string;
  labels: string[];
  frames: number;
  height: number;
  width: number;
  channels: number;
  clips: CachedClipMeta[];
  /** Free-form description of how the clips were made (preprocessing settings), for provenance. */
  provenance?: Record<string, unknown>;
}

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

export function writeIndex(dir: string, set: Omit<ClipSet, 'clips'>, clips: CachedClipMeta[], provenance?: Record<string, unknown>): void {
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
  let index: CacheIndex;
  try {
    index = JSON.parse(readFileSync(p, 'utf8')) as CacheIndex;
  } catch (e) {
    throw new Error(`${p}: not valid JSON (${(e as Error).message})`);
  }
  if (index.version !== CACHE_VERSION) throw new Error(`${p}: cache version ${String(index.version)}, expected ${CACHE_VERSION}`);
  return index;
}

/** Loads a cached ClipSet; every clip file must exist and have the right size. */
export function loadClipSet(dir: string): ClipSet {
  const index = readIndex(dir);
  const bytes = clipBytes(index);
  const clips: Clip[] = index.clips.map((m) => {
    const p = clipPath(dir, m.id);
    if (!existsSync(p)) throw new Error(`${dir}: clip ${m.id} is listed in clipset.json but ${p} is missing`);
    const buf = readFileSync(p);
    if (buf.length !== bytes) throw new Error(`${p}: ${buf.length} bytes, expected ${bytes} (T=${index.frames}, ${index.height}x${index.width}x${index.channels})`);
    return { ...m, frames: new Uint8Array(buf.buffer, buf.byteOffset, buf.length) };
  });
  return { name: index.name, labels: index.labels, frames: index.frames, height: index.height, width: index.width, channels: index.channels, clips };
}
