#!/usr/bin/env node
// Builds native/build/mimanet_native.node with the system C++ compiler (no node-gyp,
// nothing downloaded). Usage: node native/build.mjs [--optional]
//   --optional  a failed build prints why and exits 0; mimanet then runs on wasm.
// Environment: CXX (compiler, default c++), MIMANET_NATIVE_MARCH (default native),
// MIMANET_SKIP_NATIVE=1 (do nothing), NODE_API_INCLUDE (directory holding node_api.h),
// DNNL_INCLUDE (directory holding oneapi/dnnl/dnnl.h, when not under /usr or /usr/local).
// oneDNN (Debian: libdnnl-dev) is optional: with its header at build time the addon can run
// convolutions as oneDNN primitives, and at run time it opens the library (libdnnl2) for those and
// for large GEMMs. Without either, the built-in kernels run. MIMANET_BLAS=off keeps them anyway.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const optional = process.argv.includes('--optional');
const source = join(here, 'mimanet_native.cc');
const outDir = join(here, 'build');
const out = join(outDir, 'mimanet_native.node');

function findHeaders() {
  const candidates = [
    process.env.NODE_API_INCLUDE,
    join(dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
  try {
    const req = createRequire(import.meta.url);
    candidates.push(join(dirname(req.resolve('node-api-headers/package.json')), 'include'));
  } catch { /* optional package not installed */ }
  return candidates.find((d) => d && existsSync(join(d, 'node_api.h')));
}

function build() {
  if (process.env.MIMANET_SKIP_NATIVE === '1') return 'skipped (MIMANET_SKIP_NATIVE=1)';
  const include = findHeaders();
  if (!include) throw new Error('node_api.h not found (set NODE_API_INCLUDE or install node-api-headers)');
  const cxx = process.env.CXX || 'c++';
  const march = process.env.MIMANET_NATIVE_MARCH || 'native';
  const args = ['-O3', `-march=${march}`, '-std=gnu++20', '-fPIC', '-shared', '-pthread', '-ffp-contract=fast',
    '-DNODE_GYP_MODULE_NAME=mimanet_native', `-I${include}`, source];
  if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
  if (process.platform === 'linux') args.push('-ldl'); // dlopen of the optional oneDNN (libdnnl2)
  const dnnl = ['/usr/include', '/usr/local/include', process.env.DNNL_INCLUDE].find((d) => d && existsSync(join(d, 'oneapi', 'dnnl', 'dnnl.h')));
  if (dnnl && dnnl !== '/usr/include') args.push(`-I${dnnl}`);
  mkdirSync(outDir, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  execFileSync(cxx, [...args, '-o', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
  renameSync(tmp, out);
  return `built ${out} (-march=${march}${dnnl ? ', with the oneDNN header' : ', no oneDNN header: convolutions by im2col'})`;
}

try {
  console.log(`mimanet native backend: ${build()}`);
} catch (e) {
  const why = e?.stderr?.toString().trim().split('\n').slice(0, 5).join('\n') || e?.message || String(e);
  console.warn(`mimanet native backend not built; the wasm backend will be used.\n${why}`);
  rmSync(`${out}.tmp-${process.pid}`, { force: true });
  if (!optional) process.exit(1);
}
