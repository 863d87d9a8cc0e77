/** The `mimanet` command line. */
import { Command, CommanderError } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { registerRunCommand } from './run.js';
import { registerServeCommand } from './serve.js';
import { registerTrainCommand } from './train.js';
import { registerPredictCommand } from './predict.js';
import { registerReportCommand, registerCompareCommand } from './report.js';
import { registerBenchCommand } from './bench.js';
import { registerDataCommands } from './data.js';
import { registerWorkerCommand } from './worker.js';
import { registerSpotCommands } from './spot.js';
import { registerSpotEvalCommand } from './spot-eval.js';
import { registerFlowCommand } from './flow.js';
import { MIMANET_VERSION } from '../version.js';


export function buildProgram(): Command {
  const program = new Command();
  program
    .name('mimanet')
    .description('Micro-expression recognition enhanced by macro-expressions (Xia and Wang, IJCAI 2021)')
    .version(MIMANET_VERSION)
    // before the commands are added, so that they inherit it: --help and usage errors return instead of exiting
    .exitOverride()
    // usage errors in the one style of every mimanet error (`mimanet: error: ...`)
    .configureOutput({ outputError: (text, write) => write(`mimanet: ${text}`) });
  registerRunCommand(program);
  registerServeCommand(program);
  registerTrainCommand(program);
  registerPredictCommand(program);
  registerReportCommand(program);
  registerCompareCommand(program);
  registerBenchCommand(program);
  registerDataCommands(program);
  registerWorkerCommand(program);
  registerSpotCommands(program);
  registerSpotEvalCommand(program);
  registerFlowCommand(program);
  pointToHelp(program, 'mimanet');
  return program;
}

/** After a usage error, one line saying where the options are, instead of the whole help. */
function pointToHelp(cmd: Command, path: string): void {
  cmd.showHelpAfterError(`(${path} --help lists the ${cmd.commands.length > 0 ? 'commands' : 'options'})`);
  for (const sub of cmd.commands) pointToHelp(sub, `${path} ${sub.name()}`);
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
