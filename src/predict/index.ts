/**
 * Recognition with a saved MiNet checkpoint: a clip in, class probabilities out.
 *
 * A clip is a folder of frames (jpg, png, bmp, ...), a video file, or a
 * prepared clip of the clip cache (a `.u8` file, or the cache folder with a
 * clip id). Frames onset..apex are resampled to the model's T frames and
 * preprocessed as the training clips were (the checkpoint's recipe, src/data/preprocess/recipe.ts): face
 * detection and eye alignment for models trained on real datasets, a plain
 * resize for models trained on (already aligned) synthetic faces.
 */
import { z } from '../util/schema.js';
import { readJsonFileIfExists } from '../util/fs.js';
import * as tf from '@tensorflow/tfjs';
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { loadCheckpoint, type CheckpointMeta } from '../model/checkpoint.js';
import { META_FILE, parseCheckpointMeta } from '../model/checkpoint-meta.js';
import { clipBytes } from '../data/types.js';
import { normalizeClip, normalizeFlowClip, type Normalization } from '../data/batches.js';
import { clipFlow, FLOW_CHANNELS } from '../motion/clip-flow.js';
import { opticalFlow } from '../motion/flow.js';
import { clipPath, readCachedClip, readIndex } from '../data/cache.js';
import { videoFrameRef, type RawClip } from '../data/datasets/types.js';
import { loadFrameInputs, toSharp, frameSource, type FrameInput } from '../data/preprocess/decode.js';
import { probeVideo } from '../data/preprocess/video.js';
import { blendInto, planIndices, resamplePlan } from '../data/preprocess/resample.js';
import { ClipError, preprocessClip } from '../data/preprocess/pipeline.js';
import { createFaceDetector, type FaceDetector } from '../data/preprocess/face.js';
import type { AlignMode, PreprocessingRecipe } from '../data/preprocess/recipe.js';
import { loadFaceFrames } from '../motion/face-frames.js';
import { resolveSpotOptions, spotFromPasses, type SpotOptions } from '../motion/spot.js';
import { spotPassesParallel } from '../motion/spot-parallel.js';
import { timelineFromSpot, type Timeline } from './timeline.js';

export type { PreprocessingRecipe, AlignMode } from '../data/preprocess/recipe.js';

/** Image files read as frames of a clip folder. */
export const FRAME_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp'] as const;

/** Fewest source frames between onset and apex, both included: a clip needs some motion. */
export const MIN_CLIP_FRAMES = 2;

export interface PredictOptions {
  /** Onset frame index (0-based) in the folder or video. Default 0 (the first frame). */
  onset?: number;
  /** Apex frame index (0-based). Default the middle frame, floor((n - 1) / 2). */
  apex?: number;
  /** Clip id, when the input is a clip-cache folder. */
  clip?: string;
  /** Overrides the preprocessing the checkpoint records (needed when it records none). */
  align?: AlignMode;
  /** A ready face detector (default: face-api, created when first needed). */
  detector?: FaceDetector;
}

/** The model's input geometry. */
export interface InputGeometry {
  frames: number;
  size: number;
  channels: number;
}

export interface ClipInput {
  kind: 'frames' | 'video' | 'prepared';
  /** The path given. */
  source: string;
  /** Clip id within a cache, for prepared clips. */
  clip?: string;
  /** Frames in the folder or video (T for a prepared clip). */
  sourceFrames: number;
  onset: number;
  apex: number;
  /** How the frames were made into model input; 'prepared' when they came from the clip cache as they are. */
  preprocessing: PreprocessingRecipe | 'prepared';
  /**
   * What was changed to fit frames to a model that takes them as they are (recipe `align: none`):
   * `frames resized from 64x48 to 32x32 and converted from RGB to grey for the model`. Undefined when nothing was.
   */
  adjusted?: string;
  /**
   * Where onset and apex came from (frames and videos): `given` (the options), `clip.json` (beside the
   * frames), or `default` (the first frame, the middle frame: see {@link defaultedNote}).
   */
  chosen?: { onset: OnsetApexSource; apex: OnsetApexSource };
  /** T*H*W*C bytes, onset first, apex last. */
  frames: Uint8Array;
}

export type OnsetApexSource = 'given' | 'clip.json' | 'default';

/**
 * One phrase saying which of onset and apex were not given but defaulted (the first frame, the
 * middle frame); undefined when both were given or came from clip.json.
 */
export function defaultedNote(i: Pick<ClipInput, 'chosen' | 'onset' | 'apex'>): string | undefined {
  const c = i.chosen;
  if (!c || (c.onset !== 'default' && c.apex !== 'default')) return undefined;
  const parts = [...(c.onset === 'default' ? [`onset the first frame (${i.onset})`] : []), ...(c.apex === 'default' ? [`apex the middle frame (${i.apex})`] : [])];
  const missing = c.onset === 'default' && c.apex === 'default' ? 'onset and apex' : c.onset === 'default' ? 'onset' : 'apex';
  return `${missing} not given (no --${missing === 'onset and apex' ? 'onset/--apex' : missing}, no clip.json): ${parts.join(', ')}, a guess`;
}

export interface PredictResult {
  /** Predicted class name. */
  label: string;
  /** Its index in `labels`. */
  index: number;
  labels: string[];
  /** Class probabilities, in `labels` order. */
  probs: number[];
  input: Omit<ClipInput, 'frames'>;
}

function isImage(name: string): boolean {
  return (FRAME_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

/** Frame files of a folder in natural order (`2.png` before `10.png`). */
export function listFrameFiles(dir: string): string[] {
  const names = readdirSync(dir).filter((n) => isImage(n) && statSync(join(dir, n)).isFile());
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return names.map((n) => join(dir, n));
}

function checkIndex(name: string, v: number | undefined, n: number, source: string): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < 0 || v >= n) throw new Error(`${source}: --${name} ${v} is not a frame index in [0, ${n - 1}] (${n} frames)`);
}

/** Onset and apex of a run of n frames: the given ones or the defaults, checked. */
export function onsetApex(n: number, source: string, opts: Pick<PredictOptions, 'onset' | 'apex'>): { onset: number; apex: number } {
  if (n < MIN_CLIP_FRAMES) throw new Error(`${source}: too few frames (${n}); a clip needs at least ${MIN_CLIP_FRAMES}, onset and apex`);
  checkIndex('onset', opts.onset, n, source);
  checkIndex('apex', opts.apex, n, source);
  const onset = opts.onset ?? 0;
  const apex = opts.apex ?? Math.max(onset + 1, Math.floor((n - 1) / 2));
  if (apex >= n) throw new Error(`${source}: too few frames after the onset ${onset} (${n} frames); pass --apex`);
  if (apex - onset + 1 < MIN_CLIP_FRAMES) {
    throw new Error(`${source}: onset ${onset} and apex ${apex} leave ${Math.max(0, apex - onset + 1)} frame(s); the apex must come after the onset`);
  }
  return { onset, apex };
}

function checkGeometry(index: { frames: number; height: number; width: number; channels: number }, g: InputGeometry, where: string): void {
  if (index.frames !== g.frames || index.height !== g.size || index.width !== g.size || index.channels !== g.channels) {
    throw new Error(
      `${where}: prepared clips of ${index.frames} frames of ${index.height}x${index.width}x${index.channels}, the model expects ${g.frames} frames of ${g.size}x${g.size}x${g.channels}`,
    );
  }
}

function readPreparedClip(cacheDir: string, id: string, g: InputGeometry, source: string): ClipInput {
  const index = readIndex(cacheDir);
  const clip = index.clips.find((c) => c.id === id);
  if (!clip) {
    const some = index.clips.slice(0, 3).map((c) => c.id).join(', ');
    throw new Error(`${cacheDir}: no clip ${JSON.stringify(id)} in clipset.json (${index.clips.length} clips${some ? `, e.g. ${some}` : ''})`);
  }
  checkGeometry(index, g, join(cacheDir, 'clipset.json'));
  const frames = readCachedClip(cacheDir, index, clip);
  return { kind: 'prepared', source, clip: id, sourceFrames: index.frames, onset: 0, apex: index.frames - 1, preprocessing: 'prepared', frames };
}

/** Smallest frame side accepted, in pixels: a smaller frame holds no face to speak of. */
export const MIN_FRAME_SIDE = 16;
/** Most pixels a frame may have: 8K UHD (7680 x 4320). Frames are decoded whole, so this bounds the memory a clip takes. */
export const MAX_FRAME_PIXELS = 7680 * 4320;

/** A frame's size and colour as its header gives them; `grey` undefined where the header does not say (video). */
interface FrameHeader {
  width: number;
  height: number;
  grey?: boolean;
}

/** Width and height of a BMP from its header (sharp does not read BMP). */
function bmpHeader(file: string): FrameHeader {
  const buf = Buffer.alloc(26);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, 26, 0);
  } finally {
    closeSync(fd);
  }
  if (buf.toString('latin1', 0, 2) !== 'BM') throw new Error(`${file}: not a BMP file`);
  // bmp-js and the plain decoder give RGB whatever the palette
  return { width: buf.readInt32LE(18), height: Math.abs(buf.readInt32LE(22)), grey: false };
}

async function frameHeader(file: string): Promise<FrameHeader> {
  if (extname(file).toLowerCase() === '.bmp') return bmpHeader(file);
  let meta: { width?: number; height?: number; channels?: number };
  try {
    meta = await toSharp({ file }).metadata();
  } catch (e) {
    throw new Error(`${file}: cannot decode frame (${(e as Error).message})`);
  }
  // grey, or grey with alpha
  return { width: meta.width ?? 0, height: meta.height ?? 0, grey: (meta.channels ?? 3) <= 2 };
}

/** Refuses a frame too small to hold a face or too large to decode safely. */
function checkFrameSize(h: FrameHeader, where: string): void {
  if (h.width < MIN_FRAME_SIDE || h.height < MIN_FRAME_SIDE) throw new Error(`${where}: ${h.width}x${h.height} pixels; frames need at least ${MIN_FRAME_SIDE} pixels a side`);
  if (h.width * h.height > MAX_FRAME_PIXELS) {
    throw new Error(`${where}: ${h.width}x${h.height} pixels (${((h.width * h.height) / 1e6).toFixed(1)} megapixels); frames may have at most ${(MAX_FRAME_PIXELS / 1e6).toFixed(1)} megapixels (7680x4320)`);
  }
}

/** What fitting frames of header `h` to the model changes, as one phrase; undefined when they fit as they are. */
function adjustment(h: FrameHeader, g: InputGeometry): string | undefined {
  const changes: string[] = [];
  if (h.width !== g.size || h.height !== g.size) changes.push(`resized from ${h.width}x${h.height} to ${g.size}x${g.size}`);
  if (h.grey !== undefined && h.grey !== (g.channels === 1)) changes.push(h.grey ? 'converted from grey to RGB' : 'converted from RGB to grey');
  return changes.length > 0 ? `frames ${changes.join(' and ')} for the model` : undefined;
}

/**
 * Reads the headers of a clip's frame files: each must be of a usable size and
 * all of one size (frames of several sizes are not one clip). Returns the size.
 */
async function checkFrameFiles(files: string[], source: string): Promise<FrameHeader> {
  let first: { file: string; h: FrameHeader } | undefined;
  for (const file of files) {
    const h = await frameHeader(file);
    checkFrameSize(h, file);
    if (!first) first = { file, h };
    else if (h.width !== first.h.width || h.height !== first.h.height) {
      throw new Error(`${source}: frames of different sizes: ${basename(first.file)} is ${first.h.width}x${first.h.height}, ${basename(file)} is ${h.width}x${h.height}; a clip's frames must share one size`);
    }
  }
  return first!.h;
}

/** Resizes one frame to size x size with the model's channels (no alignment). */
async function resizeFrame(input: FrameInput, g: InputGeometry): Promise<Uint8Array> {
  let chain = toSharp(input).resize(g.size, g.size, { fit: 'fill' }).removeAlpha();
  chain = g.channels === 1 ? chain.greyscale() : chain.toColourspace('srgb');
  const { data, info } = await chain.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== g.channels) throw new Error(`${frameSource(input)}: decoded to ${info.channels} channels, expected ${g.channels}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** Frames onset..apex resampled to T and resized, as for clips that were face crops already. */
async function resizeClip(framePaths: string[], g: InputGeometry, spec: PreprocessingRecipe): Promise<Uint8Array> {
  const plan = resamplePlan(framePaths.length, g.frames, spec.resample);
  const needed = planIndices(plan);
  const inputs = await loadFrameInputs(needed.map((i) => framePaths[i]));
  const frames = new Map<number, Uint8Array>();
  for (let k = 0; k < needed.length; k++) {
    try {
      frames.set(needed[k], await resizeFrame(inputs[k], g));
    } catch (e) {
      const msg = (e as Error).message;
      const src = frameSource(inputs[k]);
      throw new Error(msg.startsWith(src) ? msg : `${src}: cannot decode frame (${msg})`);
    }
  }
  const frameBytes = g.size * g.size * g.channels;
  const out = new Uint8Array(g.frames * frameBytes);
  plan.forEach((p, t) => blendInto(out, t * frameBytes, frames.get(p.i0)!, frames.get(p.i1)!, p.w));
  return out;
}

let sharedDetector: Promise<FaceDetector> | undefined;

/** Frames onset..apex through the training pipeline: face detection, eye alignment, resampling. */
async function alignClip(framePaths: string[], source: string, g: InputGeometry, spec: PreprocessingRecipe, detector?: FaceDetector): Promise<Uint8Array> {
  if (g.channels !== 1 && g.channels !== 3) throw new Error(`model channels ${g.channels}: expected 1 or 3`);
  // RawClip.dataset names a known dataset; for an ad hoc clip it is only used in messages, which are rewritten below.
  const raw: RawClip = { dataset: 'input' as RawClip['dataset'], id: basename(source), subject: '', label: '', onset: 0, apex: framePaths.length - 1, framePaths };
  const d = detector ?? (await (sharedDetector ??= createFaceDetector()));
  try {
    const out = await preprocessClip(raw, d, {
      frames: g.frames,
      size: g.size,
      channels: g.channels,
      resample: spec.resample,
      align: { eyeDistance: spec.eyeDistance, eyeY: spec.eyeY },
    });
    return out.frames;
  } catch (e) {
    if (e instanceof ClipError) throw new Error(`${source}: ${e.problem}${e.file && e.file !== source ? ` (${e.file})` : ''}`);
    throw e;
  }
}

/**
 * Turns a clip path into model input bytes. `spec` is the checkpoint's
 * preprocessing (undefined when it records none; then opts.align must say).
 */
export async function readClipInput(path: string, g: InputGeometry, spec: PreprocessingRecipe | undefined, opts: PredictOptions = {}): Promise<ClipInput> {
  if (!existsSync(path)) throw new Error(`${path}: no such file or folder`);
  const st = statSync(path);
  const chooseSpec = (): PreprocessingRecipe => {
    if (opts.align) return { resample: 'linear', ...spec, align: opts.align };
    if (!spec) throw new Error('the checkpoint does not record how its clips were preprocessed (mimanet.json field preprocessing.align); pass --align face or --align none');
    return spec;
  };
  const noFrameFlags = (what: string): void => {
    if (opts.onset !== undefined || opts.apex !== undefined) throw new Error(`${path}: --onset and --apex do not apply to ${what}, which runs onset to apex already`);
  };

  if (st.isDirectory()) {
    if (existsSync(join(path, 'clipset.json'))) {
      noFrameFlags('a prepared clip');
      if (!opts.clip) {
        const index = readIndex(path);
        throw new Error(`${path} is a clip cache (${index.clips.length} clips); name one with --clip ID, e.g. --clip ${index.clips[0]?.id ?? 'ID'}`);
      }
      return readPreparedClip(path, opts.clip, g, path);
    }
    if (opts.clip) throw new Error(`${path}: --clip needs a clip-cache folder (with clipset.json)`);
    const files = listFrameFiles(path);
    if (files.length === 0) throw new Error(`${path}: no frames (${FRAME_EXTENSIONS.join(', ')} files) in this folder`);
    const meta = readClipMeta(path);
    const { onset, apex } = onsetApex(files.length, path, { ...meta, ...definedOnly(opts) });
    const chosen = { onset: sourceOf(opts.onset, meta.onset), apex: sourceOf(opts.apex, meta.apex) };
    const s = chooseSpec();
    const run = files.slice(onset, apex + 1);
    const header = await checkFrameFiles(run, path);
    const frames = s.align === 'face' ? await alignClip(run, path, g, s, opts.detector) : await resizeClip(run, g, s);
    const adjusted = s.align === 'none' ? adjustment(header, g) : undefined;
    return { kind: 'frames', source: path, sourceFrames: files.length, onset, apex, preprocessing: s, ...(adjusted ? { adjusted } : {}), chosen, frames };
  }

  if (extname(path).toLowerCase() === '.u8') {
    noFrameFlags('a prepared clip');
    const cacheDir = dirname(dirname(resolve(path)));
    if (!existsSync(join(cacheDir, 'clipset.json'))) throw new Error(`${path}: a prepared clip needs its clipset.json two folders up (${join(cacheDir, 'clipset.json')} is missing)`);
    const index = readIndex(cacheDir);
    const id = index.clips.find((c) => resolve(clipPath(cacheDir, c.id)) === resolve(path))?.id;
    if (!id) throw new Error(`${path}: not listed in ${join(cacheDir, 'clipset.json')}`);
    return readPreparedClip(cacheDir, id, g, path);
  }

  if (isImage(path)) throw new Error(`${path}: too few frames (1, a single image); give a folder of frames or a video`);
  if (opts.clip) throw new Error(`${path}: --clip needs a clip-cache folder (with clipset.json)`);
  const info = await probeVideo(path);
  checkFrameSize(info, path);
  const { onset, apex } = onsetApex(info.frames, path, opts);
  const s = chooseSpec();
  const refs = Array.from({ length: apex - onset + 1 }, (_, k) => videoFrameRef(path, onset + k));
  const frames = s.align === 'face' ? await alignClip(refs, path, g, s, opts.detector) : await resizeClip(refs, g, s);
  // a video's colour is not read from its header: only its size is reported
  const adjusted = s.align === 'none' ? adjustment(info, g) : undefined;
  const chosen = { onset: sourceOf(opts.onset, undefined), apex: sourceOf(opts.apex, undefined) };
  return { kind: 'video', source: path, sourceFrames: info.frames, onset, apex, preprocessing: s, ...(adjusted ? { adjusted } : {}), chosen, frames };
}

/** `clip.json` beside a clip's frames (`mimanet data synthetic` writes it): its onset and apex, used unless --onset or --apex say otherwise. */
export const CLIP_META_FILE = 'clip.json';

const ClipMeta = z.object({ onset: z.number().int().nonnegative(), apex: z.number().int().nonnegative() }).passthrough();

function readClipMeta(dir: string): { onset?: number; apex?: number } {
  const m = readJsonFileIfExists(join(dir, CLIP_META_FILE), ClipMeta);
  return m ? { onset: m.onset, apex: m.apex } : {};
}

function sourceOf(given: number | undefined, fromMeta: number | undefined): OnsetApexSource {
  return given !== undefined ? 'given' : fromMeta !== undefined ? 'clip.json' : 'default';
}

function definedOnly(opts: Pick<PredictOptions, 'onset' | 'apex'>): { onset?: number; apex?: number } {
  return { ...(opts.onset !== undefined ? { onset: opts.onset } : {}), ...(opts.apex !== undefined ? { apex: opts.apex } : {}) };
}

/**
 * Whether a path names a clip that does not say where its onset and apex are: a video file, or a
 * folder of frames without clip.json (not a clip cache, not a prepared clip). Such a clip is
 * spotted by `mimanet predict` unless --onset or --apex is given.
 */
export function lacksOnsetApex(path: string): boolean {
  if (!existsSync(path)) return false;
  if (statSync(path).isDirectory()) return !existsSync(join(path, 'clipset.json')) && !existsSync(join(path, CLIP_META_FILE));
  const ext = extname(path).toLowerCase();
  return ext !== '.u8' && !isImage(path);
}

/** Options of {@link Predictor.timeline}: the spotter's (as `mimanet spot` takes them) and the preprocessing. */
export interface TimelineOptions extends Partial<Omit<SpotOptions, 'fps'>> {
  /** Frame rate; required for a folder of frames, and overrides a video's own. */
  fps?: number;
  /** Side of the grey face frames the spotter works on, pixels. Default 64, as `mimanet spot`. */
  size?: number;
  /**
   * How frames are prepared, for the spotter and for the model: `face` or `none`. Default: the
   * checkpoint's recipe (faces aligned for models of real data; whole frames for the synthetic faces).
   */
  align?: AlignMode;
  /** Flows computed at a time while spotting, one thread each (the timeline is the same for any count). Default 1. */
  threads?: number;
  /** A ready face detector (default: face-api, created when first needed). */
  detector?: FaceDetector;
  /** Called after each frame read (`read`) and each flow computed (`flow`): `done` more of `total`. */
  progress?: (stage: 'read' | 'flow', done: number, total: number) => void;
}

/** A timeline of one video, with where it came from. */
export interface VideoTimeline extends Timeline {
  kind: 'frames' | 'video';
  source: string;
  /** What was changed to fit frames to the model (see {@link ClipInput.adjusted}); undefined when nothing was. */
  adjusted?: string;
}

/** A loaded checkpoint ready to score clips. */
export class Predictor {
  private constructor(
    readonly dir: string,
    readonly model: tf.LayersModel,
    readonly meta: CheckpointMeta,
    /** What the checkpoint says about its preprocessing; undefined when it does not say. */
    readonly preprocessing: PreprocessingRecipe | undefined,
    /** Channels of the frames clips are prepared with (1 or 3; with the flow input, those the flow is computed from). */
    readonly frameChannels: number,
    readonly normalization: Normalization,
  ) {}

  static async load(dir: string): Promise<Predictor> {
    const { model, meta } = await loadCheckpoint(dir);
    const where = join(dir, META_FILE);
    try {
      const parsed = parseCheckpointMeta(meta, where);
      const classes = parsed.net.classes;
      if (classes === undefined) throw new Error(`${where}: net.classes is undefined, expected a positive integer`);
      if (parsed.labels.length !== classes) throw new Error(`${where}: ${parsed.labels.length} labels for ${classes} classes`);
      return new Predictor(dir, model, meta, parsed.preprocessing, parsed.frameChannels, parsed.normalization);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /** The geometry of the frames of a clip: T, size and the frames' channels. */
  get geometry(): InputGeometry {
    return { frames: this.meta.net.frames, size: this.meta.net.size, channels: this.frameChannels };
  }

  /**
   * The network input of one clip given as T*H*W*C bytes (onset first, apex last), as training
   * makes it: the normalised frames, or with the flow input the normalised flow computed by the
   * checkpoint's flow recipe (native TV-L1 where built; the same flow as training's to the bit).
   * Returns T*H*W*Cin floats and Cin.
   */
  inputFor(frames: Uint8Array): { x: Float32Array; channels: number } {
    const { frames: T, size, channels: C } = this.geometry;
    const per = T * size * size * C;
    if (frames.length !== per) throw new Error(`clip has ${frames.length} bytes, the model takes ${per} (T=${T}, ${size}x${size}x${C})`);
    const geometry = { frames: T, height: size, width: size, channels: C };
    if (this.normalization.input === 'flow') {
      const recipe = this.preprocessing?.flow;
      if (!recipe) throw new Error(`${this.dir}: the checkpoint takes the flow input but records no flow recipe`);
      const flow = clipFlow(frames, geometry, recipe, (a, b, w, h, p) => opticalFlow(a, b, w, h, p));
      const x = new Float32Array(T * size * size * FLOW_CHANNELS);
      normalizeFlowClip(x, 0, flow, geometry, this.normalization);
      return { x, channels: FLOW_CHANNELS };
    }
    const x = new Float32Array(per);
    normalizeClip(x, 0, frames, geometry, this.normalization);
    return { x, channels: C };
  }

  /** Class probabilities of one clip given as T*H*W*C bytes (onset first, apex last). */
  async scoreFrames(frames: Uint8Array): Promise<number[]> {
    const { frames: T, size } = this.geometry;
    const { x, channels: C } = this.inputFor(frames);
    const frameSize = size * size * C;
    const out = tf.tidy(() => {
      const clip = tf.tensor5d(x, [1, T, size, size, C]);
      const apex = tf.tensor4d(x.subarray((T - 1) * frameSize), [1, size, size, C]);
      return this.model.predict([apex, clip]) as tf.Tensor;
    });
    const probs = Array.from(await out.data());
    out.dispose();
    return probs;
  }

  /** Reads, preprocesses and scores one clip path. */
  async predict(path: string, opts: PredictOptions = {}): Promise<PredictResult> {
    const input = await readClipInput(path, this.geometry, this.preprocessing, opts);
    const probs = await this.scoreFrames(input.frames);
    if (probs.some((x) => !Number.isFinite(x))) throw new Error(`${this.dir}: the model gives non-finite probabilities (${probs.map(String).join(', ')}) for ${path}; its weights are damaged`);
    const index = probs.indexOf(Math.max(...probs));
    const { frames: _f, ...rest } = input;
    void _f;
    return { label: this.meta.labels[index], index, labels: [...this.meta.labels], probs, input: rest };
  }

  /**
   * Spots a video file or a folder of frames with the spotter of `mimanet spot` (same options,
   * same defaults), then recognises each micro interval as {@link predict} does with onset and apex
   * the interval's: the same frames, the same probabilities. Macro intervals are listed, not
   * recognised. The spotter holds only grey frames of `size` x `size`; each interval's frames are
   * decoded again at full size when it is recognised.
   */
  async timeline(path: string, opts: TimelineOptions = {}): Promise<VideoTimeline> {
    if (!existsSync(path)) throw new Error(`${path}: no such file or folder`);
    const { fps, size = 64, align: alignFlag, threads = 1, detector, progress, ...spotFlags } = opts;
    const spotOptions: Partial<SpotOptions> = Object.fromEntries(Object.entries(spotFlags).filter(([, v]) => v !== undefined));
    // the options are checked before the frames are read
    resolveSpotOptions({ ...spotOptions, fps: fps ?? 30 });
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= 256)) throw new Error(`spot option threads is ${JSON.stringify(threads)}: expected an integer from 1 to 256`);
    const align = alignFlag ?? this.preprocessing?.align;
    if (!align) throw new Error('the checkpoint does not record how its clips were preprocessed (mimanet.json field preprocessing.align); pass --align face or --align none');
    const dir = statSync(path).isDirectory();
    if (dir && existsSync(join(path, 'clipset.json'))) throw new Error(`${path} is a clip cache: its clips are prepared already; spotting reads a video or a folder of frames`);
    if (!dir && extname(path).toLowerCase() === '.u8') throw new Error(`${path}: a prepared clip; spotting reads a video or a folder of frames`);
    if (!dir && isImage(path)) throw new Error(`${path}: too few frames (1, a single image); give a folder of frames or a video`);
    // the same frames, in the same order, as predict reads: the folder's frame files, or the video's frames
    let files: string[] | undefined;
    let sourceFrames: number;
    if (dir) {
      files = listFrameFiles(path);
      if (files.length === 0) throw new Error(`${path}: no frames (${FRAME_EXTENSIONS.join(', ')} files) in this folder`);
      await checkFrameFiles(files, path);
      sourceFrames = files.length;
    } else {
      const info = await probeVideo(path);
      checkFrameSize(info, path);
      sourceFrames = info.frames;
    }
    const d = align === 'face' ? (detector ?? (await (sharedDetector ??= createFaceDetector()))) : undefined;
    const loaded = await loadFaceFrames(files ?? path, { size, align, ...(fps !== undefined ? { fps } : {}), ...(d ? { detector: d } : {}), progress: () => progress?.('read', 1, sourceFrames) });
    if (loaded.frames.length !== sourceFrames) throw new Error(`${path}: the spotter read ${loaded.frames.length} frames, predict counts ${sourceFrames}`);
    let adjusted: string | undefined;
    // `mimanet spot`'s passes: whole flows `threads` at a time, one thread each (the same for any count)
    const resolved = resolveSpotOptions({ ...spotOptions, fps: loaded.fps });
    const passes = await spotPassesParallel(loaded.frames, size, size, resolved, threads, (n) => progress?.('flow', n, 2 * loaded.frames.length));
    const t = await timelineFromSpot(spotFromPasses(passes, resolved), loaded.frames.length, { options: resolved, size, align }, this.meta.labels, async (clip) => {
      const r = await this.predict(path, { onset: clip.onset, apex: clip.apex, ...(alignFlag ? { align: alignFlag } : {}), ...(d ? { detector: d } : {}) });
      adjusted ??= r.input.adjusted;
      return r.probs;
    });
    return { kind: dir ? 'frames' : 'video', source: path, ...t, ...(adjusted ? { adjusted } : {}) };
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Loads the checkpoint in `modelDir` and scores one clip. */
export async function predictClip(modelDir: string, clipPathOrDir: string, opts: PredictOptions = {}): Promise<PredictResult> {
  const p = await Predictor.load(modelDir);
  try {
    return await p.predict(clipPathOrDir, opts);
  } finally {
    p.dispose();
  }
}
