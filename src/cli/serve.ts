/**
 * `mimanet serve`: the browser demo (web/dist, built by `npm run build:web`)
 * on a small static server, with a checkpoint folder under /model/ so the
 * page loads it by default.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, realpathSync, statSync, createReadStream } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { META_FILE } from '../model/checkpoint-meta.js';
import { weightFiles } from '../model/checkpoint.js';
import { quote } from '../util/schema.js';

export const DEFAULT_SERVE_PORT = 8080;
export const DEFAULT_SERVE_HOST = '127.0.0.1';
/** The built page, relative to the package root. */
export const WEB_DIST = join('web', 'dist');

/** web/dist of this package (src/cli or dist/cli are two folders below the root). */
export function defaultWebRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', WEB_DIST);
}

export interface ServeOptions {
  /** TCP port; 0 takes a free one. Default {@link DEFAULT_SERVE_PORT}. */
  port?: number;
  /** Interface to listen on. Default {@link DEFAULT_SERVE_HOST} (this machine only). */
  host?: string;
  /** Checkpoint folder (model.json, weights.bin, mimanet.json) served under /model/. Default: none (the page asks for one). */
  model?: string;
  /** The built page. Default {@link defaultWebRoot}. */
  webRoot?: string;
  /** Where failures of single requests are reported (they never stop the server). Default: a line on stderr. */
  onError?: (message: string) => void;
}

export interface RunningServer {
  /** Address of the page, ending in '/'. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};

/** Longest request path answered; a longer one gets 414. */
export const MAX_URL_LENGTH = 2048;

/** Checks a checkpoint folder before serving it, naming what is missing. */
export function checkModelDir(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--model ${dir}: no such folder`);
  for (const f of ['model.json', META_FILE]) {
    if (!existsSync(join(dir, f))) throw new Error(`--model ${dir}: not a mimanet checkpoint (missing ${f})`);
  }
  for (const p of weightFiles(dir)) {
    if (!existsSync(join(dir, p))) throw new Error(`--model ${dir}: model.json names ${p}, which is missing`);
  }
}

/** The files of a checkpoint folder the page loads (paths relative to it): nothing else there is served. */
function pageFiles(dir: string): Set<string> {
  let weights: string[];
  try {
    weights = weightFiles(dir);
  } catch {
    weights = []; // a model.json being rewritten: the page reads it and reports the problem itself
  }
  return new Set(['model.json', META_FILE, ...weights]);
}

/** Maps a URL path into `root`; null when it would leave it (by name; symlinks are checked on open). */
function within(root: string, urlPath: string): string | null {
  const file = resolve(root, `.${urlPath}`);
  return isInside(root, file) ? file : null;
}

function isInside(root: string, file: string): boolean {
  return file === root || file.startsWith(root + sep);
}

function send(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The status a failed open or read answers with: the client learns what kind of failure, never a stack. */
function errorStatus(e: NodeJS.ErrnoException): { status: number; text: string } {
  if (e.code === 'ENOENT' || e.code === 'ENOTDIR' || e.code === 'EISDIR' || e.code === 'ELOOP' || e.code === 'ENAMETOOLONG') return { status: 404, text: 'not found' };
  if (e.code === 'EACCES' || e.code === 'EPERM') return { status: 403, text: 'not readable' };
  if (e.code === 'EMFILE' || e.code === 'ENFILE') return { status: 503, text: 'busy, try again' };
  return { status: 500, text: 'cannot read the file' };
}

/**
 * Streams `body` into `res` (whose head is written). Whichever side fails or
 * goes away first, both are destroyed: a cancelled download closes its file,
 * and a read error ends that one connection instead of the process.
 */
export function streamBody(body: Readable, res: ServerResponse, onError: (e: Error) => void = () => {}): void {
  pipeline(body, res, (e) => {
    if (e && (e as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') onError(e);
  });
}

/** Starts the server; resolves once it listens. */
export async function startServer(opts: ServeOptions = {}): Promise<RunningServer> {
  const webRoot = resolve(opts.webRoot ?? defaultWebRoot());
  if (!existsSync(join(webRoot, 'index.html'))) {
    throw new Error(`${webRoot} has no built page (index.html missing): run \`npm run build:web\` first`);
  }
  const modelRoot = opts.model === undefined ? undefined : resolve(opts.model);
  if (modelRoot) checkModelDir(modelRoot);
  const port = opts.port ?? DEFAULT_SERVE_PORT;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new Error(`port ${JSON.stringify(port)}: expected an integer from 0 to 65535`);
  const host = opts.host ?? DEFAULT_SERVE_HOST;

  // real paths: a symlink inside a served folder must not lead out of it (e.g. a checkpoint unpacked from an archive)
  const realRoots = [webRoot, ...(modelRoot ? [modelRoot] : [])].map((r) => realpathSync(r));
  const warn = opts.onError ?? ((m: string) => process.stderr.write(`mimanet serve: ${m}\n`));

  /** Opens a file under one of the roots and streams it; every failure becomes a status code. */
  const serveFile = async (req: IncomingMessage, res: ServerResponse, path: string, file: string): Promise<void> => {
    let real: string;
    try {
      real = await realpath(file);
    } catch (e) {
      const { status, text } = errorStatus(e as NodeJS.ErrnoException);
      return send(res, status, `${text}: ${quote(path)}\n`);
    }
    if (!realRoots.some((r) => isInside(r, real))) return send(res, 403, `forbidden: ${quote(path)} leads outside the served folder\n`);
    let handle: FileHandle;
    try {
      handle = await open(real, 'r');
    } catch (e) {
      const { status, text } = errorStatus(e as NodeJS.ErrnoException);
      return send(res, status, `${text}: ${quote(path)}\n`);
    }
    let size: number;
    try {
      const st = await handle.stat();
      if (!st.isFile()) {
        await handle.close();
        return send(res, 404, `not found: ${quote(path)}\n`);
      }
      size = st.size;
    } catch (e) {
      await handle.close().catch(() => {});
      const { status, text } = errorStatus(e as NodeJS.ErrnoException);
      return send(res, status, `${text}: ${quote(path)}\n`);
    }
    if (res.destroyed) return void (await handle.close().catch(() => {}));
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': size,
      'Cache-Control': 'no-cache',
      // cross-origin isolation lets the wasm backend use threads (SharedArrayBuffer); everything here is same-origin
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
    if (req.method === 'HEAD' || size === 0) {
      await handle.close().catch(() => {});
      return void res.end();
    }
    // the stream owns the handle from here and closes it when it ends or is destroyed
    streamBody(createReadStream('', { fd: handle, start: 0, end: size - 1 }), res, (e) => warn(`${path}: ${e.message}`));
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    res.on('error', () => res.destroy());
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'only GET and HEAD\n');
    }
    if ((req.url ?? '').length > MAX_URL_LENGTH) return send(res, 414, `URI too long: at most ${MAX_URL_LENGTH} characters\n`);
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(res, 400, 'bad path\n');
    }
    if (path.includes('\0')) return send(res, 400, 'bad path\n');
    let file: string | null;
    if (path === '/model' || path.startsWith('/model/')) {
      if (!modelRoot) return send(res, 404, 'no checkpoint: start the server with --model DIR\n');
      const inModel = path.slice('/model/'.length);
      // the rest of the folder (training weights, configs, anything put there) is not the page's business
      file = pageFiles(modelRoot).has(inModel) ? within(modelRoot, `/${inModel}`) : null;
    } else {
      file = within(webRoot, path.endsWith('/') ? `${path}index.html` : path);
    }
    if (!file) return send(res, 404, `not found: ${quote(path)}\n`);
    serveFile(req, res, path, file).catch((e: Error) => {
      warn(`${quote(path)}: ${e.message}`);
      send(res, 500, 'internal error\n');
    });
  };

  const server = createServer(handle);
  // a malformed request or a reset connection ends that connection only; headers past Node's limit get 431
  server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
    const status = e.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    else socket.destroy();
  });
  // a proxy request (CONNECT): Node would drop the connection without a word
  server.on('connect', (_req, socket) => {
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') fail(new Error(`port ${port} on ${host} is in use; pick another with --port`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') fail(new Error(`cannot listen on host ${host} (${e.code})`));
      else fail(e);
    });
    server.listen(port, host, () => ok());
  });
  const actual = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${actual}/`,
    port: actual,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.closeAllConnections();
        server.close((e) => (e ? fail(e) : ok()));
      }),
  };
}

export interface ServeFlags {
  port: string;
  host: string;
  model?: string;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the browser demo (web/dist) and a checkpoint folder under /model/')
    .option('--port <n>', 'TCP port (0: any free one)', String(DEFAULT_SERVE_PORT))
    .option('--host <addr>', 'interface to listen on', DEFAULT_SERVE_HOST)
    .option('--model <dir>', 'checkpoint folder (model.json, weights.bin, mimanet.json) the page loads by default')
    .action(async (flags: ServeFlags) => {
      const port = Number(flags.port);
      if (!/^\d+$/.test(flags.port) || port > 65535) throw new Error(`option --port is ${JSON.stringify(flags.port)}: expected an integer from 0 to 65535`);
      const server = await startServer({ port, host: flags.host, model: flags.model });
      process.stdout.write(`mimanet demo at ${server.url}${flags.model ? ` (model: ${resolve(flags.model)})` : ' (no --model: load a checkpoint in the page)'}\nCtrl-C stops it.\n`);
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(done, done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
