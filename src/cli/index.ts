/** The `mimanet` command line. */
import { Command, CommanderError } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { registerRunCommand } from './run.js';
import { registerServeCommand } from './serve.js';
import { registerTrainCommand } from './train.js';
import { registerPredictCommand } from './predict.js';
import { registerReportCommand } from './report.js';
import { registerBenchCommand } from './bench.js';
import { registerDataCommands } from './data.js';
import { registerWorkerCommand } from './worker.js';
import { registerFlowCommand } from './flow.js';
import { MIMANET_VERSION } from '../version.js';


export function buildProgram(): Command {
  const program = new Command();
  program
    .name('mimanet')
    .description('Micro-expression recognition enhanced by macro-expressions (Xia and Wang, IJCAI 2021)')
    .version(MIMANET_VERSION)
    .showHelpAfterError()
    // before the commands are added, so that they inherit it: --help and usage errors return instead of exiting
    .exitOverride();
  registerRunCommand(program);
  registerServeCommand(program);
  registerTrainCommand(program);
  registerPredictCommand(program);
  registerReportCommand(program);
  registerBenchCommand(program);
  registerDataCommands(program);
  registerWorkerCommand(program);
  registerFlowCommand(program);
  return program;
}

/** Runs the CLI; errors print as one clear line (stack traces with MIMANET_DEBUG=1). */
export async function main(argv: string[] = process.argv): Promise<number> {
  // production mode: no debug checks and no banner suggesting tfjs-node on stderr
  tf.enableProdMode();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(`mimanet: error: ${err.message}\n`);
    if (process.env.MIMANET_DEBUG) process.stderr.write(`${err.stack ?? ''}\n`);
    return 1;
  }
}
