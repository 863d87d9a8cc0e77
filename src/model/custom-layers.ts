/**
 * The custom layers that saved checkpoints use. Importing this module
 * registers them with TensorFlow.js (Node or browser) before
 * `tf.loadLayersModel`; the array keeps bundlers from dropping the registration.
 */
import { TemporalAggregate } from './temporal-aggregate.js';
import { GradientReversal } from './grl.js';

export { TemporalAggregate, type TemporalAggregateArgs } from './temporal-aggregate.js';
export { GradientReversal } from './grl.js';

export const CUSTOM_LAYERS = [TemporalAggregate, GradientReversal] as const;
