/**
 * The embedded synthetic dataset (see ./generate.ts for what it models):
 *
 *   config.ts     generator options, defaults, validation, class vocabularies
 *   faces.ts      action units, emotion prototypes, identities, face geometry and drawing
 *   raster.ts     the anti-aliased software rasteriser
 *   generate.ts   camera styles, clip rendering, labels and subjects, `generateSynthetic`
 *
 * Every random choice draws from the one generator of src/util/rng.ts.
 */
export * from './config.js';
export { generateSynthetic, classCounts, allocateMicroLabels, type SyntheticData } from './generate.js';
export { EMOTIONS, FACE_LAYOUT, type Emotion } from './faces.js';
