/** `mimanet serve`: its server, its checks and its flags (no browser needed). */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, checkModelDir, streamBody, type RunningServer } from '../../src/cli/serve.js';
import { main } from '../../src/cli/index.js';
import { tempDir } from '../helpers.js';

const open: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function fakeSite(): { web: string; model: string } {
  const dir = tempDir('serve');
  const web = join(dir, 'dist');
  mkdirSync(join(web, 'wasm'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>demo</title>');
  writeFileSync(join(web, 'wasm', 'x.wasm'), new Uint8Array([0, 97, 115, 109]));
  const model = join(dir, 'ckpt');
  mkdirSync(model);
  writeFileSync(join(model, 'model.json'), JSON.stringify({ weightsManifest: [{ paths: ['weights.bin'], weights: [] }] }));
  writeFileSync(join(model, 'weights.bin'), new Uint8Array(8));
  writeFileSync(join(model, 'mimanet.json'), '{"labels":["a","b"]}');
  writeFileSync(join(dir, 'secret.txt'), 'outside');
  return { web, model };
}

describe('mimanet serve', () => {
  it('serves the page, its wasm with the right type and cross-origin isolation, and the checkpoint under /model/', async () => {
    const { web, model } = fakeSite();
    const s = await startServer({ port: 0, webRoot: web, model });
    open.push(s);
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/`);
    const page = await fetch(s.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await page.text()).toContain('<title>demo</title>');
    const wasm = await fetch(`${s.url}wasm/x.wasm`);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(new Uint8Array(await wasm.arrayBuffer())).toEqual(new Uint8Array([0, 97, 115, 109]));
    expect(await fetch(`${s.url}model/mimanet.json`).then((r) => r.json())).toEqual({ labels: ['a', 'b'] });
    expect((await fetch(`${s.url}model/weights.bin`)).headers.get('content-length')).toBe('8');
    for (const bad of ['model/../secret.txt', 'model/%2e%2e/secret.txt', '..%2fsecret.txt', 'missing.js', 'model/']) {
      expect((await fetch(`${s.url}${bad}`)).status, bad).toBe(404);
    }
    expect((await fetch(s.url, { method: 'POST' })).status).toBe(405);
  });

  it('answers /model/ with a hint when started without --model', async () => {
    const { web } = fakeSite();
    const s = await startServer({ port: 0, webRoot: web });
    open.push(s);
    const r = await fetch(`${s.url}model/mimanet.json`);
    expect(r.status).toBe(404);
    expect(await r.text()).toContain('start the server with --model DIR');
  });

  it('says to run npm run build:web when the page is not built', async () => {
    await expect(startServer({ port: 0, webRoot: join(tmpdir(), 'no-such-dist') })).rejects.toThrow(/no-such-dist has no built page \(index.html missing\): run `npm run build:web` first/);
  });

  it('refuses a folder that is not a checkpoint, naming what is missing', () => {
    const { model } = fakeSite();
    expect(() => checkModelDir(join(model, 'nope'))).toThrow(/--model .*nope: no such folder/);
    writeFileSync(join(model, 'model.json'), JSON.stringify({ weightsManifest: [{ paths: ['group1.bin'] }] }));
    expect(() => checkModelDir(model)).toThrow(/model.json names group1.bin, which is missing/);
    const empty = tempDir('serve');
    expect(() => checkModelDir(empty)).toThrow(/not a mimanet checkpoint \(missing model.json\)/);
  });

  it('reports a port in use and a bad --port value', async () => {
    const { web } = fakeSite();
    const s = await startServer({ port: 0, webRoot: web });
    open.push(s);
    await expect(startServer({ port: s.port, webRoot: web })).rejects.toThrow(`port ${s.port} on 127.0.0.1 is in use; pick another with --port`);
    await expect(startServer({ port: 70000, webRoot: web })).rejects.toThrow('port 70000: expected an integer from 0 to 65535');
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (errors.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      expect(await main(['node', 'mimanet', 'serve', '--port', 'http'])).toBe(1);
    } finally {
      process.stderr.write = write;
    }
    expect(errors.join('')).toContain('mimanet: error: option --port is "http": expected an integer from 0 to 65535');
  });
});

/** Sends `request` on a raw connection and resolves with all the server answers until it closes. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise<string>((ok, fail) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(request));
    let got = '';
    sock.on('data', (d) => (got += d.toString()));
    sock.on('end', () => ok(got));
    sock.on('error', fail);
  });
}

/** Open file descriptors of this process (Linux). */
function openHandles(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('mimanet serve under hostile clients', () => {
  it('refuses symlinks that lead out of the model folder or the page, and keeps serving', async () => {
    const { web, model } = fakeSite();
    const outside = join(model, '..');
    symlinkSync(outside, join(model, 'up-link'));
    symlinkSync(join(outside, 'secret.txt'), join(model, 'secret-link.txt'));
    symlinkSync('/etc', join(web, 'etc-link'));
    symlinkSync(join(model, 'weights.bin'), join(model, 'inside-link.bin'));
    // only files model.json names are served from the model folder: name the links there
    writeFileSync(join(model, 'model.json'), JSON.stringify({ weightsManifest: [{ paths: ['up-link/secret.txt', 'secret-link.txt', 'inside-link.bin'], weights: [] }] }));
    const errors: string[] = [];
    const s = await startServer({ port: 0, webRoot: web, model, onError: (m) => errors.push(m) });
    open.push(s);
    rmSync(join(model, 'mimanet.json'));
    symlinkSync('/proc/self/mem', join(model, 'mimanet.json'));
    for (const bad of ['model/up-link/secret.txt', 'model/secret-link.txt', 'model/mimanet.json', 'etc-link/hostname']) {
      const r = await fetch(`${s.url}${bad}`);
      expect(r.status, bad).toBe(403);
      expect(await r.text(), bad).toContain('leads outside the served folder');
    }
    // a link that stays inside is fine
    expect((await fetch(`${s.url}model/inside-link.bin`)).status).toBe(200);
    expect((await fetch(s.url)).status).toBe(200);
  });

  it('closes the file of every cancelled download: 300 cancels leave no handle open', async () => {
    const { web, model } = fakeSite();
    writeFileSync(join(model, 'weights.bin'), new Uint8Array(4 << 20));
    const s = await startServer({ port: 0, webRoot: web, model });
    open.push(s);
    const cancel = async (): Promise<void> => {
      const ac = new AbortController();
      const r = await fetch(`${s.url}model/weights.bin`, { signal: ac.signal });
      await r.body!.getReader().read();
      ac.abort();
    };
    await cancel();
    await new Promise((ok) => setTimeout(ok, 200));
    const before = openHandles();
    for (let i = 0; i < 300; i++) await cancel();
    await new Promise((ok) => setTimeout(ok, 500));
    expect(openHandles() - before).toBeLessThan(10);
    const whole = await fetch(`${s.url}model/weights.bin`);
    expect((await whole.arrayBuffer()).byteLength).toBe(4 << 20);
  }, 60_000);

  it('ends the connection of a download whose file fails to read, reports it, and keeps serving', async () => {
    const failing = (): Readable => {
      let sent = false;
      return new Readable({
        read() {
          if (!sent) {
            sent = true;
            this.push(Buffer.alloc(10));
          } else this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
        },
      });
    };
    const reported: string[] = [];
    const server = createServer((req, res) => {
      res.writeHead(200, { 'Content-Length': 100 });
      streamBody(failing(), res, (e) => reported.push(e.message));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as { port: number }).port;
    try {
      for (let i = 0; i < 2; i++) await expect(fetch(`http://127.0.0.1:${port}/x`).then((r) => r.arrayBuffer())).rejects.toThrow();
      expect(reported).toEqual(['EIO: i/o error, read', 'EIO: i/o error, read']);
    } finally {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    }
  });

  it('answers a malformed request with 400 and a directory or NUL byte with 4xx, and stays up', async () => {
    const { web, model } = fakeSite();
    mkdirSync(join(model, 'sub'));
    const s = await startServer({ port: 0, webRoot: web, model });
    open.push(s);
    const raw = await rawExchange(s.port, 'GARBAGE / HTTP/9\r\n\x00\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1.1 400/);
    expect((await fetch(`${s.url}model/sub`)).status).toBe(404);
    expect((await fetch(`${s.url}model/weights.bin%00.txt`)).status).toBe(400);
    expect((await fetch(s.url)).status).toBe(200);
  });

  it('answers a file name over 255 characters with 404 and a URL over 2048 characters with 414, never echoing it, and CONNECT with 405', async () => {
    const { web, model } = fakeSite();
    const errors: string[] = [];
    const s = await startServer({ port: 0, webRoot: web, model, onError: (m) => errors.push(m) });
    open.push(s);
    const long = 'a'.repeat(300);
    for (const path of [`${long}.js`, `model/${long}.bin`, `x/${long}/y.js`]) {
      const r = await fetch(`${s.url}${path}`);
      expect(r.status, path.slice(0, 20)).toBe(404);
      expect(await r.text()).not.toContain(long);
    }
    for (const n of [1000, 2100, 8000, 15000]) {
      const r = await fetch(`${s.url}${'b'.repeat(n)}`);
      expect(r.status, String(n)).toBe(n > 2048 ? 414 : 404);
      expect(await r.text()).not.toContain('b'.repeat(100));
    }
    // past Node's header limit the request never reaches the handler: 431, not a bare 400
    expect((await fetch(`${s.url}${'c'.repeat(20000)}`)).status).toBe(431);
    const raw = await rawExchange(s.port, 'CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1.1 405 Method Not Allowed\r\n/);
    expect(raw).toMatch(/\r\nAllow: GET, HEAD\r\n/);
    expect(errors).toEqual([]);
    expect((await fetch(s.url)).status).toBe(200);
  });

  it('serves from the model folder only what the page loads: model.json, mimanet.json and the weight files model.json names', async () => {
    const { web, model } = fakeSite();
    mkdirSync(join(model, 'training', 'seed-3'), { recursive: true });
    writeFileSync(join(model, 'training', 'seed-3', 'manet.json'), '{}');
    writeFileSync(join(model, 'config.json'), '{}');
    writeFileSync(join(model, 'labels.txt'), 'a\nb\n');
    const s = await startServer({ port: 0, webRoot: web, model });
    open.push(s);
    for (const ok of ['model/model.json', 'model/mimanet.json', 'model/weights.bin']) expect((await fetch(`${s.url}${ok}`)).status, ok).toBe(200);
    for (const no of ['model/training/seed-3/manet.json', 'model/config.json', 'model/labels.txt', 'model/training/']) {
      const r = await fetch(`${s.url}${no}`);
      expect(r.status, no).toBe(404);
      expect(await r.text()).toMatch(/^not found/);
    }
    // a weight file model.json names in a subfolder is served
    mkdirSync(join(model, 'shards'));
    writeFileSync(join(model, 'shards', 'w1.bin'), new Uint8Array(4));
    writeFileSync(join(model, 'model.json'), JSON.stringify({ weightsManifest: [{ paths: ['shards/w1.bin'], weights: [] }] }));
    expect((await fetch(`${s.url}model/shards/w1.bin`)).status).toBe(200);
    expect((await fetch(`${s.url}model/weights.bin`)).status).toBe(404);
  });
});
