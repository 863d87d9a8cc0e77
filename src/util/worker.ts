/** Worker threads of a module next to the caller, from the built JavaScript or the TypeScript sources. */
import { Worker } from 'node:worker_threads';

/**
 * A worker running `name` (without extension) from the folder of `caller` (its `import.meta.url`):
 * `name.js` when the caller is built JavaScript; from the TypeScript sources (tests, tsx) the new
 * thread registers the TypeScript loader first and then imports `name.ts`.
 */
export function spawnSiblingWorker(caller: string, name: string, workerData: unknown): Worker {
  const self = new URL(caller);
  if (!self.pathname.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, self), { workerData });
  const entry = new URL(`./${name}.ts`, self).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData });
}
