/**
 * mimanet: micro-expression recognition enhanced by macro-expressions
 * (Xia and Wang, IJCAI 2021) on TensorFlow.js. The public API for Node;
 * `mimanet/browser` (src/browser.ts) is the face for pages.
 */
export { initBackend, currentBackendInfo, type BackendChoice, type BackendInfo } from './backend/index.js';

// model (paper 2.2-2.6)
export { TwoStreamNet, intervalIndices, centredStarts, type TwoStreamConfig, type ForwardOptions, type ForwardResult, type TemporalMode } from './model/twostream.js';
export { buildResNet18, resnetFeatures, resnetMapSize, withInitSeed, type ResNetArgs } from './model/resnet.js';
export { buildSpatialDiscriminator, buildTemporalDiscriminator, buildRelationClassifier, type HeadArgs } from './model/heads.js';
export { gradientReversal, dannLambda, GradientReversal } from './model/grl.js';
export {
  expressionLoss,
  domainLoss,
  samplingLoss,
  contrastiveLoss,
  parseLosses,
  variantName,
  LOSS_TERMS,
  PAPER_VARIANTS,
  DEFAULT_LOSS_WEIGHTS,
  type LossTerm,
  type LossWeights,
  type ContrastiveReduction,
} from './model/losses.js';
export { saveCheckpoint, loadCheckpoint, buildInferenceModel, parseCheckpointMeta, CUSTOM_LAYERS, TemporalAggregate, type CheckpointMeta, type ParsedMeta } from './model/checkpoint.js';

// recognition with a saved checkpoint
export {
  Predictor,
  predictClip,
  readClipInput,
  FRAME_EXTENSIONS,
  type PredictOptions,
  type PredictResult,
  type ClipInput,
  type InputGeometry,
  type TimelineOptions,
  type VideoTimeline,
} from './predict/index.js';
// a long video spotted, then each micro interval recognised (browser-safe glue; Predictor.timeline runs it in Node)
export * from './predict/timeline.js';

// training and evaluation
export { pretrainClassifier, predictClips, embedClips, NonFiniteLossError } from './train/pretrain.js';
export { guidedFinetune, GuidedStep, type FinetuneOptions } from './train/finetune.js';
export { losoFolds, checkFoldClasses, type Fold } from './train/folds.js';
export { runExperiment, type ExperimentResult } from './train/experiment.js';
export { writeRunSummary } from './eval/run-summary.js';
export { writeReport } from './eval/report-html.js';
export { computeMetrics, confusionMatrix, meanStd, type Metrics } from './eval/metrics.js';
export { summarize, renderSummaryMarkdown, type Summary } from './eval/summary.js';
export * as results from './results/index.js';

// optical flow (TV-L1), optical strain, .flo files
export { opticalFlow, nativeFlowAvailable, type FlowImplementation, type FlowRunOptions } from './motion/flow.js';
export { tvl1FlowTs, resolveTvl1Params, pyramidSizes, DEFAULT_TVL1_PARAMS, type Tvl1Params, type FlowField } from './motion/tvl1.js';
export { opticalStrain, STRAIN_VARIANTS, type StrainVariant } from './motion/strain.js';
export { clipFlow, flowRecipe, FLOW_CHANNELS, type FlowRecipe } from './motion/clip-flow.js';
export { encodeFlo, decodeFlo, flowToColour } from './motion/flo.js';
export { knownMotionPair, standardPairs, endpointErrors, type KnownMotion, type KnownPair } from './motion/pairs.js';

// configuration and data
export { resolveConfig, readConfigFile, PRESETS, ConfigError, type MimanetConfig } from './config.js';
export { generateSynthetic, validateSyntheticConfig, DEFAULT_SYNTHETIC_CONFIG, type SyntheticConfig } from './data/synthetic/index.js';
export {
  generateLongVideos,
  validateLongVideoConfig,
  longVideoTruth,
  DEFAULT_LONG_VIDEO_CONFIG,
  type LongVideo,
  type LongVideoSet,
  type LongVideoConfig,
  type LongVideoConfigInput,
  type LongVideoExpression,
  type LongVideoDistractor,
} from './data/synthetic/index.js';

// spotting: expression intervals and the MEGC metric
export * from './motion/intervals.js';
export * from './motion/spot-metric.js';
export * from './motion/spot-csv.js';
export { spot, resolveSpotOptions, DEFAULT_SPOT_OPTIONS, type FlowFn, type SpotOptions, type SpotResult, type SpottedInterval } from './motion/spot.js';
export { saveClipSet, loadClipSet } from './data/cache.js';
export { makeBatch, type Batch, type Normalization } from './data/batches.js';
export { alignedRecipe, faceRecipe, checkpointRecipe, type PreprocessingRecipe, type AlignMode } from './data/preprocess/recipe.js';
export type { Clip, ClipSet } from './data/types.js';
