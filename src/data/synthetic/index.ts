/**
 * The embedded synthetic dataset (see ./generate.ts for what it models):
 *
 *   config.ts     generator options, defaults, validation, class vocabularies
 *   faces.ts      action units, emotion prototypes, identities, face geometry and drawing
 *   raster.ts     the anti-aliased software rasteriser
 *   camera.ts     the camera: lighting, contrast, colour, blur, sensor noise of a recording session
 *   generate.ts   camera styles, clip rendering, labels and subjects, `generateSynthetic`
 *   long-video.ts long videos with known expression times and distractors, for spotting
 *
 * Every random choice draws from the one generator of src/util/rng.ts.
 */
export * from './config.js';
export { generateSynthetic, classCounts, allocateMicroLabels, type SyntheticData } from './generate.js';
export { EMOTIONS, FACE_LAYOUT, type Emotion } from './faces.js';
export {
  generateLongVideos,
  generateLongVideo,
  validateLongVideoConfig,
  longVideoTruth,
  longVideoFrame,
  longVideoId,
  DEFAULT_LONG_VIDEO_CONFIG,
  BLINK_SECONDS,
  HEAD_MOVE_SECONDS,
  type LongVideo,
  type LongVideoSet,
  type LongVideoConfig,
  type LongVideoConfigInput,
  type LongVideoExpressionConfig,
  type LongVideoExpression,
  type LongVideoDistractor,
  type DistractorKind,
} from './long-video.js';
