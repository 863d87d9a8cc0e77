/**
 * A long video (a video file or a folder of frames) as the spotter reads it:
 * grey face frames of one working size, aligned by one transform found on the
 * first frame that shows a face (eyes level at a fixed place, as the clip
 * cache's recipe does). Head movement left after that is taken out later, by
 * the spotter's global-motion step. Frames are decoded one at a time, so a long
 * video never sits in memory at full size.
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import sharp from 'sharp';
import { IMAGE_EXTENSIONS } from '../data/datasets/files.js';
import type { FrameInput } from '../data/preprocess/decode.js';
import type { Alignment } from '../data/preprocess/align.js';
import { alignFrame, findAlignment } from '../data/preprocess/pipeline.js';
import { createFaceDetector, type FaceDetector } from '../data/preprocess/face.js';
import { probeVideo, streamVideoFrames } from '../data/preprocess/video.js';

/** Options of {@link loadFaceFrames}. */
export interface FaceFramesOptions {
  /** Side of the square working frames, pixels. Default 64. */
  size?: number;
  /** `face`: align by the eyes found on the first frame with a face; `none`: resize whole frames (faces already cropped). Default `face`. */
  align?: 'face' | 'none';
  /** Frame rate; required for a folder of frames, and overrides a video's own. */
  fps?: number;
  /** Frames searched for a face from the start before giving up. Default 30. */
  searchFrames?: number;
  /** A detector to reuse (tests, batch work); default: SSD MobileNet as in data prepare. */
  detector?: FaceDetector;
  /** Called after each frame. */
  progress?: (done: number, total: number) => void;
}

export interface FaceFrames {
  /** Grey frames, size x size, values 0..255. */
  frames: Float32Array[];
  size: number;
  fps: number;
  source: string;
  /** Which frame the face was found on (align `face`). */
  faceFrame?: number;
}

const isImage = (name: string): boolean => IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());

/** Image files of a folder in natural order (`2.png` before `10.png`). */
function listFrames(dir: string): string[] {
  const names = readdirSync(dir).filter((n) => isImage(n) && statSync(join(dir, n)).isFile());
  return names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).map((n) => join(dir, n));
}

/** Loads and aligns the frames of a video file, a folder of frames, or a list of frame files in temporal order. */
export async function loadFaceFrames(input: string | readonly string[], opts: FaceFramesOptions = {}): Promise<FaceFrames> {
  return typeof input === 'string' ? loadFaceFramesFrom(input, undefined, opts) : loadFrameList(input, opts);
}

async function loadFaceFramesFrom(input: string, list: string[] | undefined, opts: FaceFramesOptions): Promise<FaceFrames> {
  const size = opts.size ?? 64;
  if (!(Number.isInteger(size) && size >= 16 && size <= 512)) throw new Error(`working size ${JSON.stringify(opts.size)}: expected an integer from 16 to 512 pixels`);
  if (opts.fps !== undefined && !(Number.isFinite(opts.fps) && opts.fps > 0)) throw new Error(`--fps ${JSON.stringify(opts.fps)}: expected a positive number of frames per second`);
  const align = opts.align ?? 'face';
  let st;
  try {
    st = list ? undefined : statSync(input);
  } catch {
    throw new Error(`${input}: no such file or folder`);
  }
  const frames: Float32Array[] = [];
  let alignment: Alignment | null = null;
  let faceFrame: number | undefined;
  const detector = align === 'face' ? (opts.detector ?? (await createFaceDetector())) : undefined;
  const pending: FrameInput[] = []; // frames before the face was found, aligned once it is
  const search = opts.searchFrames ?? 30;

  const toGrey = async (f: FrameInput, width: number, height: number): Promise<Float32Array> => {
    const bytes = align === 'none'
      ? new Uint8Array((await ('file' in f ? sharp(f.file) : sharp(f.raw.data, { raw: { width, height, channels: f.raw.channels as 1 | 2 | 3 | 4 } }))
        .removeAlpha().greyscale().resize(size, size, { fit: 'fill' }).raw().toBuffer()))
      : await alignFrame(f, alignment!, 1, { width, height });
    return Float32Array.from(bytes);
  };
  const take = async (f: FrameInput, index: number, width: number, height: number): Promise<void> => {
    if (align === 'face' && !alignment) {
      if (index < search) {
        const found = await findAlignment(f, detector!, { size, align: {} });
        if (found) {
          alignment = found.alignment;
          faceFrame = index;
          for (const p of pending.splice(0)) frames.push(await toGrey(p, width, height));
        } else {
          pending.push(f);
          return;
        }
      } else {
        throw new Error(`${input}: no face found in the first ${search} frames; crop the face first and pass --align none, or check the video`);
      }
    }
    frames.push(await toGrey(f, width, height));
  };

  let fps: number | undefined = opts.fps;
  if (list || st!.isDirectory()) {
    const files = list ?? listFrames(input);
    if (files.length < 3) throw new Error(`${input}: ${files.length} frame file(s); a long video needs many frames`);
    if (fps === undefined) throw new Error(`${input}: a folder of frames does not say its frame rate: give --fps`);
    const meta = await sharp(files[0]).metadata();
    for (const [i, file] of files.entries()) {
      await take({ file }, i, meta.width ?? 0, meta.height ?? 0);
      opts.progress?.(i + 1, files.length);
    }
  } else {
    if (isImage(input)) throw new Error(`${input}: a single image; give a video or a folder of frames`);
    const info = await probeVideo(input);
    fps ??= info.fps;
    if (fps === undefined) throw new Error(`${input}: the video does not declare a frame rate: give --fps`);
    await streamVideoFrames(input, info, async (rgb, i) => {
      // the buffer is reused for the next frame: copy what outlives the call
      await take({ raw: { data: Uint8Array.from(rgb), width: info.width, height: info.height, channels: 3 }, source: `${input} frame ${i}` }, i, info.width, info.height);
      opts.progress?.(i + 1, info.frames);
    });
  }
  if (align === 'face' && !alignment) throw new Error(`${input}: no face found in its ${pending.length} frames`);
  return { frames, size, fps, source: input, ...(faceFrame !== undefined ? { faceFrame } : {}) };
}

/** A long video given as its frame files (a dataset reader's list); named by the folder of the first. */
function loadFrameList(files: readonly string[], opts: FaceFramesOptions): Promise<FaceFrames> {
  return loadFaceFramesFrom(files.length > 0 ? dirname(files[0]!) : '(no frames)', [...files], opts);
}
