/**
 * Video decoding with ffmpeg, for datasets that ship videos (MMI).
 *
 * The binary is, in order: `$MIMANET_FFMPEG`, the one inside the npm package
 * `@ffmpeg-installer/ffmpeg`, or `ffmpeg` on the PATH (Debian: `apt-get
 * install ffmpeg`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

let cachedPath: string | undefined;

export function ffmpegPath(): string {
  if (cachedPath) return cachedPath;
  const env = process.env.MIMANET_FFMPEG;
  if (env) return (cachedPath = env);
  try {
    const require = createRequire(import.meta.url);
    const p = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    if (existsSync(p)) return (cachedPath = p);
  } catch {
    // not installed for this platform: fall through to the PATH
  }
  return (cachedPath = 'ffmpeg');
}

function run(args: string[], maxStdout = 1 << 30): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes > maxStdout) child.kill('SIGKILL');
      else out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.length > 200_000) err = err.slice(-100_000);
    });
    child.on('error', (e) => reject(new Error(`cannot run ffmpeg (${ffmpegPath()}): ${e.message}; install @ffmpeg-installer/ffmpeg or Debian's ffmpeg, or set MIMANET_FFMPEG`)));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err }));
  });
}

export interface VideoInfo {
  width: number;
  height: number;
  /** Number of decodable video frames. */
  frames: number;
  /** Frames per second as the stream declares it; undefined when it declares none. */
  fps?: number;
}

/** Size and frame count of a video's first video stream (counted by demuxing, not read from the header). */
export async function probeVideo(file: string): Promise<VideoInfo> {
  const { code, stderr } = await run(['-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-']);
  const size = /Stream #\S+.*?Video:.*?\b(\d{1,5})x(\d{1,5})\b/.exec(stderr);
  const counts = [...stderr.matchAll(/frame=\s*(\d+)/g)];
  if (code !== 0 || !size || counts.length === 0) {
    throw new Error(`${file}: ffmpeg cannot read this video (${lastLine(stderr)})`);
  }
  const rate = /Stream #\S+.*?Video:.*?,\s*([\d.]+)\s*fps\b/.exec(stderr);
  const fps = rate ? Number(rate[1]) : NaN;
  return { width: Number(size[1]), height: Number(size[2]), frames: Number(counts[counts.length - 1]![1]), ...(fps > 0 ? { fps } : {}) };
}

/**
 * Decodes every frame of a video in one pass and hands each to `onFrame` as RGB (W*H*3 bytes,
 * valid only during the call), in order, waiting for it before the next: a long video is never
 * held in memory whole.
 */
export async function streamVideoFrames(file: string, info: VideoInfo, onFrame: (rgb: Uint8Array, index: number) => Promise<void> | void): Promise<number> {
  const frameBytes = info.width * info.height * 3;
  const child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-i', file, '-map', '0:v:0', '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b: Buffer) => {
    err = (err + b.toString()).slice(-20_000);
  });
  const closed = new Promise<number>((resolve, reject) => {
    child.on('error', (e) => reject(new Error(`cannot run ffmpeg (${ffmpegPath()}): ${e.message}; install @ffmpeg-installer/ffmpeg or Debian's ffmpeg, or set MIMANET_FFMPEG`)));
    child.on('close', (code) => resolve(code ?? -1));
  });
  const frame = new Uint8Array(frameBytes);
  let filled = 0, index = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - at);
        frame.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === frameBytes) {
          await onFrame(frame, index++);
          filled = 0;
        }
      }
    }
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const code = await closed;
  if (code !== 0) throw new Error(`${file}: ffmpeg failed decoding after frame ${index} (${lastLine(err)})`);
  return index;
}

/**
 * Decodes frames `first..last` (0-based, inclusive) of a video as RGB, one
 * W*H*3 buffer each.
 */
export async function decodeVideoFrames(file: string, first: number, last: number, info?: VideoInfo): Promise<{ width: number; height: number; frames: Uint8Array[] }> {
  const { width, height } = info ?? (await probeVideo(file));
  const count = last - first + 1;
  const frameBytes = width * height * 3;
  const { code, stdout, stderr } = await run(
    ['-i', file, '-map', '0:v:0', '-vf', `select=between(n\\,${first}\\,${last})`, '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    frameBytes * (count + 1),
  );
  if (code !== 0) throw new Error(`${file}: ffmpeg failed decoding frames ${first}..${last} (${lastLine(stderr)})`);
  const got = Math.floor(stdout.length / frameBytes);
  if (got < count) throw new Error(`${file}: frames ${first}..${last} requested, ffmpeg decoded only ${got}`);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) frames.push(new Uint8Array(stdout.buffer, stdout.byteOffset + i * frameBytes, frameBytes));
  return { width, height, frames };
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return lines[lines.length - 1]?.trim() || 'no message';
}
