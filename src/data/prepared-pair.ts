/** Loads a prepared micro dataset and a prepared macro dataset named in the config. */
import type { MimanetConfig } from '../config.js';
import type { ExperimentData } from './load.js';

export async function loadPreparedPair(cfg: MimanetConfig): Promise<ExperimentData> {
  throw new Error(`real datasets are not wired into runs yet (asked for micro=${cfg.data.kind === 'prepared' ? cfg.data.micro : '?'})`);
}
