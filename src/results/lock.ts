/**
 * The lock of a results folder: `DIR/.lock` holds the pid, host and start of
 * the run that writes into DIR, so a second run on the same folder is refused
 * instead of doing all the work twice. A lock left by a run that died (its
 * pid no longer runs on this host) is taken over, with a note.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { ensureDir } from '../util/fs.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from '../util/schema.js';

export const LOCK_FILE = '.lock';

const LockRecord = z.object({ pid: z.number().int().positive(), host: z.string(), started: z.string() });
type LockRecord = z.infer<typeof LockRecord>;

export interface RunLock {
  /** Set when a stale lock of a dead run was taken over. */
  note?: string;
  /** Removes the lock (only if it is still this process's). */
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, under another user
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockRecord | undefined {
  try {
    const r = LockRecord.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock of results folder `dir` (made if missing); throws when another live run holds it. */
export function lockRunFolder(dir: string): RunLock {
  ensureDir(dir);
  const file = join(dir, LOCK_FILE);
  const mine: LockRecord = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  let note: string | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(mine) + '\n', { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw e;
    }
    const held = readLock(file);
    if (held && held.host !== mine.host) {
      throw new Error(`${dir} is locked by a run on host ${held.host} (pid ${held.pid}, started ${held.started}); if no such run is going, delete ${file}`);
    }
    if (held && alive(held.pid)) {
      throw new Error(`${dir} is in use by another mimanet run (pid ${held.pid}, started ${held.started}); wait for it to finish or choose another --out`);
    }
    // the holder died (SIGKILL, power cut) or the file is damaged: take it over
    note = held ? `${file}: the run that held it (pid ${held.pid}, started ${held.started}) is gone; lock taken over` : `${file}: unreadable lock; taken over`;
    try {
      unlinkSync(file);
    } catch {
      // another run took it over first; the second attempt fails with EEXIST or succeeds
    }
  }
  const release = (): void => {
    process.off('exit', release);
    const held = readLock(file);
    if (held && held.pid === mine.pid && held.started === mine.started) {
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', release);
  return { note, release };
}
