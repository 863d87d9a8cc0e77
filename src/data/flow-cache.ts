/**
 * The optical flow of every clip of a set (`model.input: flow`), computed once and kept on disk
 * beside the clips it was computed from:
 *
 *   DIR/flowset.json     the flow recipe, the geometry, and per clip the checksum of its frames and of its flow file
 *   DIR/clips/<id>.f32   T*H*W*3 float32 (little endian): u, v, strain of onset -> frame t (src/motion/clip-flow.ts)
 *
 * DIR is `flow-<fingerprint of the recipe and geometry>` inside the prepared set's cache folder, or,
 * for the synthetic data, inside `<cache>/synthetic/<fingerprint of its options>/<set name>/`. A
 * flow is reused only when the frames it was computed from have the checksum recorded and its own
 * file has its recorded checksum; otherwise it is computed again (and a damaged file is reported).
 * Files are written atomically and the index every few clips, so an interrupted run keeps what it
 * finished.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ClipSet } from './types.js';
import { clipFileName } from './cache.js';
import { clipFlow, FLOW_CHANNELS, type FlowRecipe } from '../motion/clip-flow.js';
import { opticalFlow } from '../motion/flow.js';
import { sha256 } from '../util/checksum.js';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { z } from '../util/schema.js';

export const FLOW_CACHE_VERSION = 1;
export const FLOW_INDEX = 'flowset.json';
/** The index is rewritten after this many newly computed clips. */
const INDEX_EVERY = 25;

const FlowIndex = z.object({
  version: z.literal(FLOW_CACHE_VERSION),
  recipe: z.record(z.unknown()),
  frames: z.number().int().positive(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  clips: z.array(z.object({ id: z.string().min(1), framesSha256: z.string().regex(/^[0-9a-f]{64}$/), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
});
type FlowIndex = z.infer<typeof FlowIndex>;

function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/** The flow folder of a set whose clips are cached in `setDir`. */
export function flowDirFor(setDir: string, set: Pick<ClipSet, 'frames' | 'height' | 'width' | 'channels'>, recipe: FlowRecipe): string {
  return join(setDir, `flow-${fingerprint({ recipe, frames: set.frames, height: set.height, width: set.width, channels: set.channels })}`);
}

/** The folder standing in for the clip cache of a synthetic set: the generator's options decide its clips. */
export function syntheticSetDir(cacheBase: string, options: unknown, setName: string): string {
  return join(cacheBase, 'synthetic', fingerprint(options), setName);
}

export interface FlowCacheReport {
  dir: string;
  computed: number;
  reused: number;
  /** Files found damaged (checksum or size) and computed again. */
  damaged: string[];
}

function readFlowFile(path: string, values: number): Float32Array {
  const buf = readFileSync(path);
  if (buf.length !== values * 4) throw new Error(`${path}: ${buf.length} bytes, expected ${values * 4}`);
  const out = new Float32Array(values);
  for (let i = 0; i < values; i++) out[i] = buf.readFloatLE(4 * i);
  return out;
}

function flowBytes(flow: Float32Array): Uint8Array {
  const buf = Buffer.alloc(flow.length * 4);
  for (let i = 0; i < flow.length; i++) buf.writeFloatLE(flow[i], 4 * i);
  return buf;
}

/**
 * Gives every clip of `set` its flow input (`clip.flow`), from `dir` where it is there and
 * intact, computed (native TV-L1 where the addon is built) and written there otherwise.
 */
export function attachFlows(set: ClipSet, dir: string, recipe: FlowRecipe, log: (m: string) => void = () => {}): FlowCacheReport {
  const { frames: T, height: H, width: W } = set;
  const values = T * H * W * FLOW_CHANNELS;
  const indexPath = join(dir, FLOW_INDEX);
  let previous: FlowIndex | undefined;
  if (existsSync(indexPath)) {
    try {
      previous = readJsonFile(indexPath, FlowIndex);
    } catch (e) {
      log(`${indexPath} is unreadable (${(e as Error).message.split('\n')[0]}); the flows are computed again`);
    }
    if (previous && (JSON.stringify(previous.recipe) !== JSON.stringify(recipe) || previous.frames !== T || previous.height !== H || previous.width !== W)) {
      log(`${indexPath} was made with other settings; the flows are computed again`);
      previous = undefined;
    }
  }
  const known = new Map((previous?.clips ?? []).map((c) => [c.id, c]));
  const entries: FlowIndex['clips'] = [];
  const report: FlowCacheReport = { dir, computed: 0, reused: 0, damaged: [] };
  // while under way the index keeps the earlier entries not yet reached, so an interruption loses nothing
  const writeIndex = (final: boolean): void => {
    const done = new Set(entries.map((e) => e.id));
    const rest = final ? [] : [...known.values()].filter((k) => !done.has(k.id));
    writeJsonAtomic(indexPath, { version: FLOW_CACHE_VERSION, recipe: { ...recipe }, frames: T, height: H, width: W, clips: [...entries, ...rest] } satisfies FlowIndex);
  };
  const flowFn = (a: Float32Array, b: Float32Array, w: number, h: number, p: FlowRecipe['tvl1']) => opticalFlow(a, b, w, h, p);
  const toCompute = set.clips.length;
  let announced = false;
  for (const clip of set.clips) {
    const path = join(dir, 'clips', clipFileName(clip.id).replace(/\.u8$/, '.f32'));
    const framesSha = sha256(clip.frames);
    const k = known.get(clip.id);
    if (k && k.framesSha256 === framesSha && existsSync(path)) {
      const ok = statSync(path).size === values * 4 && sha256(readFileSync(path)) === k.sha256;
      if (ok) {
        clip.flow = readFlowFile(path, values);
        entries.push(k);
        report.reused++;
        continue;
      }
      report.damaged.push(path);
      log(`${path}: checksum mismatch with ${indexPath} (damaged); its flow is computed again`);
    }
    if (!announced) {
      log(`${set.name}: computing the optical flow of up to ${toCompute} clips into ${dir}`);
      announced = true;
    }
    const flow = clipFlow(clip.frames, set, recipe, flowFn);
    const bytes = flowBytes(flow);
    writeFileAtomic(path, bytes);
    clip.flow = flow;
    entries.push({ id: clip.id, framesSha256: framesSha, sha256: sha256(bytes) });
    report.computed++;
    if (report.computed % INDEX_EVERY === 0) writeIndex(false);
  }
  if (report.computed > 0 || !previous || previous.clips.length !== entries.length) writeIndex(true);
  if (report.computed > 0) log(`${set.name}: optical flow of ${report.computed} clip(s) computed, ${report.reused} reused, in ${dir}`);
  return report;
}
