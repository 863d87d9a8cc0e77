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

/** Seconds `openQueue` waits for Redis before giving up. */
export const CONNECT_TIMEOUT_S = 15;

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
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    throw new Error(`cannot reach Redis at ${target.display}: ${(cause ?? (e as Error)).message}`);
  } finally {
    probe.disconnect();
  }
  const queue = new Queue(name, { connection: target.options });
  queue.on('error', connectionErrorLog(target, log));
  await queue.waitUntilReady();
  return queue;
}
