/** The `mimanet` command line. */
import { Command, CommanderError } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { registerRunCommand } from './run.js';
import { registerServeCommand } from './serve.js';
import { registerTrainCommand } from './train.js';
import { registerPredictCommand } from './predict.js';
import { registerReportCommand } from './report.js';
import { registerBenchCommand } from './bench.js';
import { registerDataCommands } from './data.js';

const require = createRequire(import.meta.url);
const pkg = require('../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('mimanet')
    .description('Micro-expression recognition enhanced by macro-expressions (Xia and Wang, IJCAI 2021)')
    .version(pkg.version)
    .showHelpAfterError();
  registerRunCommand(program);
  registerServeCommand(program);
  registerTrainCommand(program);
  registerPredictCommand(program);
  registerReportCommand(program);
  registerBenchCommand(program);
  registerDataCommands(program);
  return program;
}

/** Runs the CLI; errors print as one clear line (stack traces with MIMANET_DEBUG=1). */
export async function main(argv: string[] = process.argv): Promise<number> {
  // production mode: no debug checks and no banner suggesting tfjs-node on stderr
  tf.enableProdMode();
  const program = buildProgram();
  program.exitOverride();
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
