/**
 * Runs once around the whole suite. Every temporary folder of a test run
 * (tests, the command line they start, the tools it calls) goes under one
 * fresh root, so that concurrent runs on one machine do not see each other's
 * folders. At the end every `mimanet-*` folder a test made must be gone:
 * tests clean up after themselves, and this check fails the run when one does not.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Prefix of every temporary folder the tests make (see `tempDir` in ./helpers.ts). */
export const TEMP_PREFIX = 'mimanet-';

export function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}test-run-`));
  const previous = process.env.TMPDIR;
  // test workers are forked after this and inherit it; os.tmpdir() reads it on every call
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    const left = readdirSync(root).filter((n) => n.startsWith(TEMP_PREFIX));
    if (left.length > 0) {
      throw new Error(`tests left ${left.length} temporary folder(s) behind in ${root}: ${left.join(', ')}; remove each one in the test that made it (tempDir in test/helpers.ts does)`);
    }
    rmSync(root, { recursive: true, force: true });
  };
}
