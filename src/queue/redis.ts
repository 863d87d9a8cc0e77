/**
 * The Redis a queue runs on, from a `redis://` or `rediss://` (TLS) URL.
 * The password may sit in the URL or, to keep it out of `ps` and shell
 * history, in the environment variable MIMANET_REDIS_PASSWORD. It is never
 * printed: logs, errors and run.json show the URL with the password as `***`.
 */
import { Queue, type RedisOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { ConfigError } from '../config.js';

/** Environment variable read for the password when the URL has none. */
export const PASSWORD_ENV = 'MIMANET_REDIS_PASSWORD';

export interface RedisTarget {
  /** Connection options for BullMQ (ioredis). */
  options: RedisOptions;
  /** The URL as it may be shown: the password replaced by `***`. */
  display: string;
}

/**
 * Reads `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` or `rediss://...` (TLS,
 * checked against the system's certificate authorities; NODE_EXTRA_CA_CERTS
 * adds a private one). Errors never repeat the URL, which may hold a password.
 */
export function parseRedisUrl(url: string, env: NodeJS.ProcessEnv = process.env): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('option --queue: not a URL; expected redis://HOST:PORT or rediss://HOST:PORT (TLS), e.g. redis://127.0.0.1:6379');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ConfigError(`option --queue: scheme "${u.protocol.replace(/:$/, '')}"; expected redis:// or rediss:// (TLS)`);
  }
  if (!u.hostname) throw new ConfigError('option --queue: no host; expected redis://HOST:PORT');
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new ConfigError(`option --queue: database "${db}" is not a number (redis://HOST:PORT/DB)`);
  const password = u.password ? decodeURIComponent(u.password) : env[PASSWORD_ENV] || undefined;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = u.port ? Number(u.port) : 6379;
  const tls = u.protocol === 'rediss:';
  const options: RedisOptions = {
    host,
    port,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(tls ? { tls: { servername: host } } : {}),
    // BullMQ's workers need commands to wait for a reconnection instead of failing
    maxRetriesPerRequest: null,
  };
  const auth = username || password ? `${username ?? ''}${password ? ':***' : ''}@` : '';
  const display = `${u.protocol}//${auth}${u.host}${db ? `/${db}` : ''}`;
  return { options, display };
}

/** Seconds `openQueue` waits for Redis to answer before giving up: a Redis on any network answers a PING in far less. */
export const CONNECT_TIMEOUT_S = 10;
/** Seconds a command may go unanswered once running before a line says so (the wait goes on: a restarting Redis comes back). */
export const COMMAND_WAIT_S = 20;

/**
 * A logger for connection errors: each distinct message at most once every
 * 30 s, so a Redis restart shows a few lines, not one per reconnection attempt.
 */
export function connectionErrorLog(target: RedisTarget, log: (m: string) => void): (e: Error) => void {
  const shown = new Map<string, number>();
  return (e) => {
    const now = Date.now();
    if ((shown.get(e.message) ?? 0) > now - 30_000) return;
    shown.set(e.message, now);
    log(`Redis at ${target.display}: ${e.message} (retrying)`);
  };
}

/**
 * Checks that Redis answers at `target`, then opens the BullMQ queue `name`.
 * The error names the (password-free) URL and the cause: a refused
 * connection, a wrong password, no answer.
 */
export async function openQueue(target: RedisTarget, name: string, log: (m: string) => void): Promise<Queue> {
  // a probe that tries once: BullMQ's own connections retry for ever, which is right once running, not for a typo
  const probe = new Redis({ ...target.options, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: CONNECT_TIMEOUT_S * 1000 });
  let cause: Error | undefined;
  probe.on('error', (e: Error) => (cause ??= e));
  // a listener that accepts and stays silent holds the connect (its ready check) and the PING for ever
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<never>((_ok, fail) => {
    timer = setTimeout(() => fail(new Error(`no answer within ${CONNECT_TIMEOUT_S} s (something listens on that port but does not speak Redis, or Redis is stuck)`)), CONNECT_TIMEOUT_S * 1000);
  });
  try {
    await Promise.race([(async () => {
      await probe.connect();
      await probe.ping();
    })(), silent]);
  } catch (e) {
    throw new Error(`cannot reach Redis at ${target.display}: ${(cause ?? (e as Error)).message}`);
  } finally {
    clearTimeout(timer);
    probe.disconnect();
  }
  const queue = new Queue(name, { connection: target.options });
  queue.on('error', connectionErrorLog(target, log));
  await queue.waitUntilReady();
  return queue;
}

/**
 * Resolves with `work`, or rejects once `seconds` have passed without it: for
 * the steps (handing jobs back, closing) whose Redis may be gone for good.
 */
export function withinSeconds<T>(work: Promise<T>, seconds: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_ok, fail) => {
    timer = setTimeout(() => fail(new Error(message)), seconds * 1000);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * Watches a running connection: a PING every few seconds, and a line when one
 * goes unanswered for {@link COMMAND_WAIT_S} (then every COMMAND_WAIT_S while
 * it lasts), so that a Redis that stops answering is named instead of
 * leaving the process silent. Returns the function that stops watching.
 */
export function watchConnection(queue: Queue, target: RedisTarget, log: (m: string) => void): () => void {
  let since: number | undefined;
  let told = 0;
  let busy = false;
  const timer = setInterval(() => {
    const now = Date.now();
    if (since !== undefined && now - since >= COMMAND_WAIT_S * 1000 && now - told >= COMMAND_WAIT_S * 1000) {
      told = now;
      log(`Redis at ${target.display}: no answer for ${Math.round((now - since) / 1000)} s; waiting for it`);
    }
    if (busy) return;
    busy = true;
    since ??= now;
    // BullMQ's clients are ioredis connections
    queue.client
      .then((c) => (c as unknown as Redis).ping())
      .then(() => {
        if (told > 0) log(`Redis at ${target.display}: answering again`);
        since = undefined;
        told = 0;
      }, () => {})
      .finally(() => (busy = false));
  }, 5000);
  timer.unref();
  return () => clearInterval(timer);
}
