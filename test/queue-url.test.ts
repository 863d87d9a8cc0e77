import { describe, it, expect } from 'vitest';
import { createServer, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRedisUrl, PASSWORD_ENV, CONNECT_TIMEOUT_S } from '../src/queue/redis.js';
import { runCli, tempDir, tinyConfig } from './helpers.js';
import { startMimanet } from './queue-helpers.js';

describe('Redis URLs of --queue', () => {
  it('reads host, port, database and password, and shows the password as ***', () => {
    const t = parseRedisUrl('redis://:s3cr%40t@10.0.0.5:6380/2', {});
    expect(t.options).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2, password: 's3cr@t' });
    expect(t.options.tls).toBeUndefined();
    expect(t.display).toBe('redis://:***@10.0.0.5:6380/2');
    expect(parseRedisUrl('redis://queue', {}).options).toMatchObject({ host: 'queue', port: 6379 });
    expect(parseRedisUrl('redis://queue', {}).display).toBe('redis://queue');
  });

  it('rediss:// turns on TLS, with the user name of Redis ACLs', () => {
    const t = parseRedisUrl('rediss://mimanet:pw@redis.example.org:6390', {});
    expect(t.options).toMatchObject({ host: 'redis.example.org', port: 6390, username: 'mimanet', password: 'pw', tls: { servername: 'redis.example.org' } });
    expect(t.display).toBe('rediss://mimanet:***@redis.example.org:6390');
  });

  it(`takes the password from ${PASSWORD_ENV} when the URL has none`, () => {
    const t = parseRedisUrl('redis://127.0.0.1:6379', { [PASSWORD_ENV]: 'from-env' });
    expect(t.options.password).toBe('from-env');
    expect(t.display).toBe('redis://:***@127.0.0.1:6379');
  });

  it('bad URLs get one line that does not repeat them', async () => {
    for (const url of ['http://:hunter2@host:1', 'hunter2', 'redis://:hunter2@host/x']) {
      const r = await runCli(['worker', '--queue', url]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^mimanet: error: option --queue: /);
      expect(r.err).not.toContain('hunter2');
    }
  });

  it('an unreachable Redis is an error naming the URL without its password', async () => {
    const r = await runCli(['worker', '--queue', 'redis://:hunter2@127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^mimanet: error: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect(r.err).not.toContain('hunter2');
  });

  it('a listener that accepts and never answers: worker and run --queue fail after the connect timeout, naming the URL without its password', async () => {
    // a TCP listener that takes connections and says nothing, as a wrong service or a hung Redis would
    const held: Socket[] = [];
    const silent = createServer((sock) => void held.push(sock));
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const port = (silent.address() as { port: number }).port;
    const url = `redis://:hunter2@127.0.0.1:${port}`;
    const dir = tempDir('silent');
    const config = join(dir, 'tiny.json');
    writeFileSync(config, JSON.stringify(tinyConfig));
    try {
      const worker = startMimanet(['worker', '--queue', url]);
      const run = startMimanet(['run', '--config', config, '--out', join(dir, 'run'), '--queue', url]);
      expect(await worker.exited, worker.output()).toBe(1);
      expect(await run.exited, run.output()).toBe(1);
      const want = `mimanet: error: cannot reach Redis at redis://:***@127.0.0.1:${port}: no answer within ${CONNECT_TIMEOUT_S} s (something listens on that port but does not speak Redis, or Redis is stuck)`;
      expect(worker.output()).toContain(want);
      expect(run.output()).toContain(want);
      for (const c of [worker, run]) expect(c.output()).not.toContain('hunter2');
    } finally {
      for (const sock of held) sock.destroy();
      silent.close();
    }
  }, 600_000);
});
