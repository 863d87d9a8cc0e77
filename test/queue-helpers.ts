/**
 * A real redis-server and real `mimanet` child processes for the queue's
 * end-to-end tests. Redis listens on a free loopback port, keeps its files in
 * a test's temporary folder and is stopped after the test file, as is every
 * child process started here.
 *
 * Without a redis-server on the machine the queue tests are skipped with a
 * line that says so; MIMANET_REQUIRE_REDIS=1 (set by .ci/run) makes them fail
 * instead. MIMANET_REDIS_SERVER=PATH names another binary.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const REDIS_SERVER = process.env.MIMANET_REDIS_SERVER || 'redis-server';
export const REDIS_REQUIRED = process.env.MIMANET_REQUIRE_REDIS === '1';
export const REDIS_FOUND = spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' }).status === 0;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const children: ChildProcess[] = [];

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Child {
  proc: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /**
   * Resolves once the output matches; rejects when the process ends first. It
   * waits on events, not on a clock: a loaded machine only makes it slower
   * (vitest's test timeout is the net for a hang).
   */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
}

function track(proc: ChildProcess, name: string): Child {
  children.push(proc);
  let text = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer): void => {
    text += d.toString();
    for (const w of waiters.splice(0)) w();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => {
    resolve(code ?? signal ?? -1);
    for (const w of waiters.splice(0)) w();
  }));
  let ended = false;
  void exited.then(() => (ended = true));
  const waitFor = (pattern: RegExp): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const m = text.match(pattern);
        if (m) resolve(m);
        else if (ended) reject(new Error(`${name} ended before ${pattern}; output:\n${text}`));
        else waiters.push(check);
      };
      check();
    });
  return { proc, output: () => text, exited, waitFor };
}

/**
 * `mimanet ARGS` from the sources, as a child process. At the same priority as
 * everything else: a lowered one starves it behind any busy process (a test
 * fork, a CPU burner), and a worker that cannot renew its job's lock has the
 * job taken away as stalled.
 */
export function startMimanet(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'test', 'mimanet-bin.ts'), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(proc, `mimanet ${args[0]}`);
}

export interface RunningRedis {
  port: number;
  /** redis://[:PASSWORD@]127.0.0.1:PORT */
  url: string;
  output(): string;
  /** Stops the server (SIGTERM; nothing is saved unless `persist`). */
  stop(): Promise<void>;
  /** Stops it and starts a fresh one on the same port and folder. */
  restart(): Promise<void>;
  /** Sends a signal to the server (SIGSTOP: its socket stays open and it answers nothing). */
  signal(sig: NodeJS.Signals): void;
}

/** redis-server on a free loopback port with its files in `dir`; `persist` turns on the append-only file. */
export async function startRedis(dir: string, opts: { password?: string; persist?: boolean } = {}): Promise<RunningRedis> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', opts.persist ? 'yes' : 'no', '--protected-mode', 'yes'];
  if (opts.password) args.push('--requirepass', opts.password);
  let server: Child;
  let log = '';
  const start = async (): Promise<void> => {
    server = track(spawn(REDIS_SERVER, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }), 'redis-server');
    await server.waitFor(/Ready to accept connections/);
  };
  const stop = async (): Promise<void> => {
    log += server.output();
    server.proc.kill('SIGTERM');
    await server.exited;
  };
  await start();
  return {
    port,
    url: `redis://${opts.password ? `:${encodeURIComponent(opts.password)}@` : ''}127.0.0.1:${port}`,
    output: () => log + server.output(),
    stop,
    async restart() {
      await stop();
      await start();
    },
    signal(sig) {
      server.proc.kill(sig);
    },
  };
}

/** Kills every child process still running (redis-server, mimanet) after the test file. */
export async function stopChildren(): Promise<void> {
  await Promise.all(
    children.splice(0).map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          p.once('exit', () => resolve());
          p.kill('SIGKILL');
        }),
    ),
  );
}

afterAll(stopChildren);
