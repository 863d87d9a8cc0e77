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
// Each source is compiled to its own object (tvl1.cc without fused multiply-adds, so that its
// arithmetic is that of the TypeScript twin, src/motion/tvl1.ts; the other two flags only let it
// compute both sides of a branch, which changes no result), then linked into one addon.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const optional = process.argv.includes('--optional');
/** The addon's sources and the flags each adds to the common ones. */
const SOURCES = [
  { file: 'mimanet_native.cc', flags: ['-ffp-contract=fast'] },
  { file: 'tvl1.cc', flags: ['-ffp-contract=off', '-fno-trapping-math', '-fno-math-errno'] },
];
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
  const common = ['-O3', `-march=${march}`, '-std=gnu++20', '-fPIC', '-pthread', '-DNODE_GYP_MODULE_NAME=mimanet_native', `-I${include}`];
  const dnnl = ['/usr/include', '/usr/local/include', process.env.DNNL_INCLUDE].find((d) => d && existsSync(join(d, 'oneapi', 'dnnl', 'dnnl.h')));
  if (dnnl && dnnl !== '/usr/include') common.push(`-I${dnnl}`);
  mkdirSync(outDir, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const objects = SOURCES.map(({ file }) => join(outDir, `${file.replace(/\.cc$/, '')}.o.tmp-${process.pid}`));
  try {
    SOURCES.forEach(({ file, flags }, k) => {
      execFileSync(cxx, [...common, ...flags, '-c', join(here, file), '-o', objects[k]], { stdio: ['ignore', 'ignore', 'pipe'] });
    });
    const link = ['-shared', '-pthread', ...objects];
    if (process.platform === 'darwin') link.push('-undefined', 'dynamic_lookup');
    if (process.platform === 'linux') link.push('-ldl'); // dlopen of the optional oneDNN (libdnnl2)
    execFileSync(cxx, [...link, '-o', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
  } finally {
    for (const o of objects) rmSync(o, { force: true });
  }
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
