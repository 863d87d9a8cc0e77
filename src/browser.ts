/**
 * mimanet in the browser: what a page needs to run a saved MiNet checkpoint.
 * No Node imports, so a bundler can take all of it. The web demo (web/)
 * imports this module and nothing else of src/.
 */

// importing registers the custom layers of saved checkpoints with TensorFlow.js
export { CUSTOM_LAYERS, TemporalAggregate, GradientReversal } from './model/custom-layers.js';
// mimanet.json: the one reader, shared with `predict`
export { parseCheckpointMeta, CHECKPOINT_FORMAT, META_FILE, type CheckpointMeta, type ParsedMeta } from './model/checkpoint-meta.js';
export { checkpointRecipe, type PreprocessingRecipe, type AlignMode } from './data/preprocess/recipe.js';
// bytes -> network input, exactly as training and evaluation make it
export { makeBatch, DEFAULT_NORMALIZATION, type Batch, type Normalization } from './data/batches.js';
export type { Clip, ClipSet } from './data/types.js';
// onset..apex -> T frames, as `data prepare` and `predict` resample
export { resamplePlan, planIndices, blendInto, DEFAULT_RESAMPLE, type ResampleMode, type SamplePoint } from './data/preprocess/resample.js';
// optical flow and strain, the same TV-L1 as training and `predict` (TypeScript; Node runs its native twin, to the bit the same)
export { tvl1FlowTs as opticalFlow, resolveTvl1Params, DEFAULT_TVL1_PARAMS, type Tvl1Params, type FlowField } from './motion/tvl1.js';
export { opticalStrain, STRAIN_VARIANTS, type StrainVariant } from './motion/strain.js';
export { clipFlow, flowRecipe, FLOW_CHANNELS, type FlowRecipe } from './motion/clip-flow.js';
export { encodeFlo, decodeFlo, flowToColour } from './motion/flo.js';
export { knownMotionPair, standardPairs, endpointErrors, type KnownMotion, type KnownPair } from './motion/pairs.js';
// spotting: expression intervals, the MEGC metric and interval tables (CSV), as `spot score` has them
export * from './motion/intervals.js';
export * from './motion/spot-metric.js';
export * from './motion/spot-csv.js';
// spotting a long video and recognising each micro interval: the glue `mimanet predict` runs (frames, flow and recognition come in as arguments)
export { spot, resolveSpotOptions, DEFAULT_SPOT_OPTIONS, type FlowFn, type SpotOptions, type SpotResult, type SpottedInterval } from './motion/spot.js';
export * from './predict/timeline.js';
// the spotter's steps, for a page that spots one frame at a time (the flow comes in as a function: the page passes `opticalFlow`)
export { spotPasses, spotFromPasses, passMotion, differenceAndContrast, halfWindow, type SpotPass } from './motion/spot.js';
