import { mkdirSync, renameSync, writeFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseWith, type z } from './schema.js';

/**
 * Makes folder `dir` and its missing parents, one level at a time: Node's
 * recursive mkdir spins forever under /proc, and an error here names the folder.
 */
export function ensureDir(dir: string): void {
  const missing: string[] = [];
  let d = resolve(dir);
  while (!existsSync(d)) {
    missing.unshift(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  if (existsSync(d) && !statSync(d).isDirectory()) throw new Error(`${dir}: ${d} is a file, not a folder`);
  for (const m of missing) {
    try {
      mkdirSync(m);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new Error(`${dir}: cannot create the folder ${m} (${code})`);
    }
  }
}

/** Writes a file so that readers see the old or the new content, never a half-written one. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  ensureDir(dirname(path));
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Reads JSON, naming the file in any error. Returns undefined when the file does not exist. */
export function readJsonIfExists<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Reads and parses a JSON file and checks it against `schema`; errors name the file. */
export function readJsonFile<S extends z.ZodTypeAny>(path: string, schema: S): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return parseWith(schema, json, path);
}

/** {@link readJsonFile}, or undefined when the file does not exist. */
export function readJsonFileIfExists<S extends z.ZodTypeAny>(path: string, schema: S): z.infer<S> | undefined {
  return existsSync(path) ? readJsonFile(path, schema) : undefined;
}

