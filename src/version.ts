/** The version of this copy of mimanet (package.json's), as `--version` prints it and queue jobs record it. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const MIMANET_VERSION: string = (require('../package.json') as { version: string }).version;
