import { describe, it, expect } from 'vitest';
import { parseRedisUrl, PASSWORD_ENV } from '../src/queue/redis.js';
import { runCli } from './helpers.js';

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
});
