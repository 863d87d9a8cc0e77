/** Pixels from image files, video files and the webcam. */
import type { RgbaImage } from './preprocess.js';

const scratch = document.createElement('canvas');
const scratchCtx = scratch.getContext('2d', { willReadFrequently: true })!;

function readPixels(source: CanvasImageSource, width: number, height: number): RgbaImage {
  if (scratch.width !== width || scratch.height !== height) {
    scratch.width = width;
    scratch.height = height;
  }
  scratchCtx.clearRect(0, 0, width, height);
  scratchCtx.drawImage(source, 0, 0, width, height);
  const { data } = scratchCtx.getImageData(0, 0, width, height);
  return { data, width, height };
}

/**
 * Decodes an image file at its own size. No colour management, no EXIF
 * rotation: sharp hands the Node side the stored pixels the same way.
 */
export async function decodeImage(file: File): Promise<RgbaImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'none' } as ImageBitmapOptions);
  } catch (e) {
    throw new Error(`${file.name}: cannot decode as an image (${(e as Error).message || e})`);
  }
  try {
    return readPixels(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

/** The current picture of a playing or seeked video element. */
export function videoPixels(video: HTMLVideoElement): RgbaImage {
  return readPixels(video, video.videoWidth, video.videoHeight);
}

function once(target: EventTarget, ok: string, bad = 'error'): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      target.removeEventListener(ok, done);
      target.removeEventListener(bad, err);
      resolve();
    };
    const err = (): void => {
      target.removeEventListener(ok, done);
      target.removeEventListener(bad, err);
      reject(new Error(`${bad} while waiting for ${ok}`));
    };
    target.addEventListener(ok, done);
    target.addEventListener(bad, err);
  });
}

/** Seeks and waits until the frame at `time` is shown. */
export async function seek(video: HTMLVideoElement, time: number): Promise<void> {
  const wait = once(video, 'seeked');
  video.currentTime = time;
  await wait;
}

/** Starts the front camera in `video`; returns a stopper. */
export async function startWebcam(video: HTMLVideoElement): Promise<() => void> {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser gives no camera access here (it needs https or localhost)');
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' }, audio: false });
  video.srcObject = stream;
  video.muted = true;
  await video.play();
  return () => {
    for (const t of stream.getTracks()) t.stop();
    video.srcObject = null;
  };
}

/** Longest wait for a seeked frame to be shown, ms (a seek that lands on the frame already shown shows none). */
const FRAME_SHOWN_MS = 200;

/**
 * Seeks and waits until the frame at `time` is on screen, so that reading the picture gives that
 * frame and not the one before: after `seeked` the element may still show the old frame for a
 * while on a busy machine. Where `requestVideoFrameCallback` is missing it is {@link seek}.
 */
export async function seekFrame(video: HTMLVideoElement, time: number): Promise<void> {
  if (!('requestVideoFrameCallback' in video)) return seek(video, time);
  const shown = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, FRAME_SHOWN_MS);
    video.requestVideoFrameCallback(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  await seek(video, time);
  await shown;
}
