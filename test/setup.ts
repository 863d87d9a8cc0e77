/**
 * Runs in every test process before its test file: TensorFlow.js in
 * production mode, as the `mimanet` command and its fold workers run it, so a
 * test on the cpu backend does not print TensorFlow.js's "install tfjs-node" banner.
 */
import * as tf from '@tensorflow/tfjs';

tf.enableProdMode();
