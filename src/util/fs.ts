import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
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

/**
 * Writes a file so that readers see the old or the new content, never a
 * half-written one. A failed write (a full disk) removes its temporary file
 * and names the file it was writing.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  ensureDir(dirname(path));
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    // Node's message ends in the system call and the temporary name: `ENOSPC: no space left on device, open '...tmp-1-x'`
    throw new Error(`${path}: cannot write (${(e as Error).message.replace(/, \w+( '.*')?$/, '')})`);
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

const MiB = 2 ** 20;
/** Largest JSON file read (results records, checkpoint descriptions, cache indexes): far above any mimanet writes. */
export const JSON_FILE_LIMIT = 64 * MiB;

/** `1 MiB`, `64 MiB`. */
export function formatBytes(n: number): string {
  return n >= MiB ? `${+(n / MiB).toFixed(1)} MiB` : n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${n} bytes`;
}

/**
 * Reads a text file of at most `limit` bytes, refusing a larger one before
 * reading it (or, for a device or pipe such as /dev/zero, once `limit` bytes
 * have come). `what` names the kind of file in the error (`a config file`).
 */
export function readTextFile(path: string, limit: number, what: string, label = path): string {
  const tooLarge = (): Error => new Error(`${label}: larger than ${formatBytes(limit)}, the limit for ${what}`);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Error(`${label}: cannot read (${(e as Error).message})`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new Error(`${label}: a folder, expected a file`);
    if (st.isFile() && st.size > limit) throw tooLarge();
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 * MiB, limit + 1 - total));
      const got = readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      chunks.push(chunk.subarray(0, got));
      total += got;
      if (total > limit) throw tooLarge();
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Reads JSON, naming the file in any error. Returns undefined when the file does not exist. */
export function readJsonIfExists<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  const text = readTextFile(path, JSON_FILE_LIMIT, 'a JSON file');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Reads and parses a JSON file and checks it against `schema`; errors name the file. */
export function readJsonFile<S extends z.ZodTypeAny>(path: string, schema: S): z.infer<S> {
  const text = readTextFile(path, JSON_FILE_LIMIT, 'a JSON file');
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

