/**
 * The browser demo: `npm run build:web` writes web/dist, which `mimanet serve`
 * serves. The tfjs-backend-wasm binaries are copied next to the page (wasm/),
 * so nothing is fetched from elsewhere at run time.
 */
import { defineConfig, type Plugin } from 'vite';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
/** Plain, SIMD and threaded SIMD builds: the backend picks one by what the browser supports. */
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

function tfjsWasmFiles(): Plugin {
  return {
    name: 'mimanet-tfjs-wasm-files',
    // dev server: answer /wasm/<file> from node_modules
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const m = /\/wasm\/([\w.-]+\.wasm)$/.exec(req.url?.split('?')[0] ?? '');
        if (!m || !WASM_FILES.includes(m[1]!)) return next();
        res.setHeader('Content-Type', 'application/wasm');
        res.end(readFileSync(join(wasmDist, m[1]!)));
      });
    },
    generateBundle() {
      for (const f of WASM_FILES) this.emitFile({ type: 'asset', fileName: `wasm/${f}`, source: readFileSync(join(wasmDist, f)) });
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [tfjsWasmFiles()],
  build: {
    outDir: join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    // tfjs alone is well over the default 500 kB warning
    chunkSizeWarningLimit: 4000,
    reportCompressedSize: true,
  },
  // the spot worker (web/src/spot-worker.ts) is an ES module, as the page
  worker: { format: 'es' },
  server: { host: '127.0.0.1' },
});
