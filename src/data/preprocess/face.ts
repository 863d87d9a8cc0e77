/**
 * Face detection and 68-point landmarks with the models that ship inside the
 * npm package @vladmandic/face-api (folder `model/`, loaded from disk): SSD
 * MobileNet v1 for the face box, the 68-point landmark net for the points.
 *
 * face-api's `node-wasm` build runs on the project's own @tensorflow/tfjs:
 * when no tfjs backend is active yet, the wasm backend is started; an active
 * backend (e.g. the one training runs on) is left as it is.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RawImage } from './decode.js';
import type { BackendChoice } from '../../backend/index.js';

type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');

export interface Point {
  x: number;
  y: number;
}

export interface DetectedFace {
  /** Detector confidence 0..1. */
  score: number;
  /** Face box in the pixel coordinates of the image given to `detect`. */
  box: { x: number; y: number; width: number; height: number };
  /** The 68 landmarks (iBUG 300-W order: 36-41 one eye, 42-47 the other), same coordinates. */
  points: Point[];
}

export interface FaceDetector {
  /** The largest face found in an RGB image, or null. */
  detect(image: RawImage): Promise<DetectedFace | null>;
}

export interface FaceDetectorOptions {
  /** Folder with the face-api weight files. Default: the `model/` folder of the installed @vladmandic/face-api. */
  modelDir?: string;
  /**
   * Face box model: `ssd` (SSD MobileNet v1, the default) or `tiny` (Tiny Face
   * Detector at 416 px input: about 2x faster per clip, boxes a little looser,
   * misses some tightly cropped faces, for which SSD is tried next). Both feed
   * the same 68-point landmark net.
   */
  model?: 'ssd' | 'tiny';
  /** Minimum detector confidence. Default {@link DEFAULT_MIN_CONFIDENCE}. */
  minConfidence?: number;
  /**
   * Backend to start when no tfjs backend is active yet. Default
   * {@link DEFAULT_DETECTOR_BACKEND}: SSD MobileNet runs about 10x faster on
   * wasm (XNNPACK) than on the pure-JS cpu backend. Any other value goes
   * through the project's backend selection.
   */
  backend?: 'wasm' | 'cpu' | BackendChoice;
}

export const DEFAULT_MIN_CONFIDENCE = 0.5;
export const DEFAULT_DETECTOR_BACKEND = 'wasm';
/** Input side of the Tiny Face Detector (a multiple of 32). */
export const TINY_INPUT_SIZE = 416;

export function defaultModelDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

let faceapiPromise: Promise<FaceApi> | undefined;
const loadedModels = new Set<string>();

async function startBackend(backend: NonNullable<FaceDetectorOptions['backend']>): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  if ((tf.engine() as unknown as { backendName: string | null }).backendName) return;
  if (backend === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    if (await tf.setBackend('wasm').catch(() => false)) return;
    // wasm failed to start: the cpu backend is slow but always there.
    backend = 'cpu';
  }
  if (backend === 'cpu') {
    if (!(await tf.setBackend('cpu'))) throw new Error('face detection: the tfjs cpu backend failed to initialise');
    return;
  }
  const { initBackend } = await import('../../backend/index.js');
  await initBackend(backend);
}

async function loadFaceApi(backend: NonNullable<FaceDetectorOptions['backend']>): Promise<FaceApi> {
  faceapiPromise ??= (async () => {
    await startBackend(backend);
    const require = createRequire(import.meta.url);
    return require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  })();
  return faceapiPromise;
}

/** Loads face-api and its two models (once per process and model folder). */
export async function createFaceDetector(opts: FaceDetectorOptions = {}): Promise<FaceDetector> {
  const faceapi = await loadFaceApi(opts.backend ?? DEFAULT_DETECTOR_BACKEND);
  const modelDir = opts.modelDir ?? defaultModelDir();
  if (!loadedModels.has(modelDir)) {
    try {
      await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
      await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
      await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
    } catch (e) {
      throw new Error(`cannot load the face-api models from ${modelDir}: ${(e as Error).message}`);
    }
    loadedModels.add(modelDir);
  }
  const minConfidence = opts.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const ssd = new faceapi.SsdMobilenetv1Options({ minConfidence, maxResults: 10 });
  const tiny = new faceapi.TinyFaceDetectorOptions({ inputSize: TINY_INPUT_SIZE, scoreThreshold: minConfidence });
  const tries = (opts.model ?? 'ssd') === 'tiny' ? [tiny, ssd] : [ssd];
  const tf = faceapi.tf;
  const detectWith = (input: import('@vladmandic/face-api/dist/face-api.node-wasm.js').tf.Tensor3D, options: typeof ssd | typeof tiny) =>
    faceapi.detectAllFaces(input, options).withFaceLandmarks();
  return {
    async detect(image: RawImage): Promise<DetectedFace | null> {
      if (image.channels !== 3) throw new Error(`face detection needs an RGB image, got ${image.channels} channel(s)`);
      const input = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      try {
        let found: Awaited<ReturnType<typeof detectWith>> = [];
        for (const options of tries) {
          found = await detectWith(input, options);
          if (found.length > 0) break;
        }
        if (found.length === 0) return null;
        const area = (r: (typeof found)[number]): number => r.detection.box.width * r.detection.box.height;
        const best = found.reduce((a, b) => (area(b) > area(a) ? b : a));
        const box = best.detection.box;
        return {
          score: best.detection.score,
          box: { x: box.x, y: box.y, width: box.width, height: box.height },
          points: best.landmarks.positions.map((p) => ({ x: p.x, y: p.y })),
        };
      } finally {
        input.dispose();
      }
    },
  };
}
