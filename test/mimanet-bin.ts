/** `mimanet` from the TypeScript sources, for tests that start it as a child process: node --import tsx test/mimanet-bin.ts ARGS. */
import { main } from '../src/cli/index.js';

process.exitCode = await main(process.argv);
