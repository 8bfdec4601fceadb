// Builds everything `npm start` serves into dist/:
//   ondevice.mjs (ESM library), ondevice.js (classic script, window.OnDevice),
//   ondevice-worker.mjs (+ chunks/: the lean onnxruntime-web bundles), ort/ (onnxruntime .mjs/.wasm),
//   the demo app (index.html + assets/), ondevice.d.ts (+ types/) and integrity.json (SRI hashes).
// The library steps take their output folder: scripts/buildPackage.ts runs them into lib/ for the
// npm package, without the demo app.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Rolldown } from 'vite';
import { buildEntry, ORT_EXTERN_WASM_CONDITIONS, ROOT } from './buildEntry';
import { buildServiceWorker } from './buildServiceWorker';
import { emitDeclarationsInBackground } from './emitDeclarations';
import { writeIntegrity } from './writeIntegrity';
import { ORT_WASM_FILE } from '../src/core/ortWasmFile';

const root = ROOT;
const dist = path.join(root, 'dist');
const ortDist = path.join(root, 'node_modules/onnxruntime-web/dist');

// The files the lean bundles load at run time: plain SIMD-threaded build for WASM, the asyncify build
// for onnxruntime-web/webgpu.
export const ORT_FILES_BY_BACKEND = {
  wasm: ['ort-wasm-simd-threaded.mjs', ORT_WASM_FILE.wasm],
  webgpu: ['ort-wasm-simd-threaded.asyncify.mjs', ORT_WASM_FILE.webgpu],
} as const;
export const ORT_FILES = [...ORT_FILES_BY_BACKEND.wasm, ...ORT_FILES_BY_BACKEND.webgpu];

export async function buildLibrary(outDir = dist): Promise<void> {
  await buildEntry({ entry: 'src/index.ts', outDir, fileName: 'ondevice.mjs', sourcemap: true });
  // A classic script has no import.meta; src/embed/script.ts configures the base URL from currentScript.
  await buildEntry({
    entry: 'src/embed/script.ts',
    outDir,
    fileName: 'ondevice.js',
    format: 'iife',
    name: 'OnDeviceBundle',
    define: { 'import.meta.url': 'undefined' },
    sourcemap: true,
  });
}

/** Builds the worker; returns its chunks (scripts/buildPackage.ts sorts them by backend). */
export function buildWorker(outDir = dist, entry = 'src/runtime/worker.ts'): Promise<Rolldown.OutputChunk[]> {
  return buildEntry({
    entry,
    outDir,
    fileName: 'ondevice-worker.mjs',
    target: 'es2022',
    conditions: ORT_EXTERN_WASM_CONDITIONS,
    chunkFileNames: 'chunks/[name]-[hash].mjs',
    sourcemap: true,
  });
}

// Test-only (src/testing.ts): dist/testing/ondevice.js (the classic script plus __testing hooks, one
// bundle so the hooks share the library's state) and its worker. Outside the precache globs and SRI list.
async function buildTesting(): Promise<void> {
  const outDir = path.join(dist, 'testing');
  await buildEntry({
    entry: 'src/testing.ts',
    outDir,
    fileName: 'ondevice.js',
    format: 'iife',
    name: 'OnDeviceTesting',
    define: { 'import.meta.url': 'undefined' },
    sourcemap: true,
  });
  await buildWorker(outDir, 'src/runtime/testingWorker.ts');
}

async function buildApp(): Promise<void> {
  await build({ root, logLevel: 'warn', configFile: path.join(root, 'vite.config.ts'), build: { outDir: dist, emptyOutDir: false } });
}

export async function copyOrt(outDir = dist): Promise<void> {
  await mkdir(path.join(outDir, 'ort'), { recursive: true });
  await Promise.all(ORT_FILES.map((f) => copyFile(path.join(ortDist, f), path.join(outDir, 'ort', f))));
}

export async function buildAll(): Promise<void> {
  const t0 = performance.now();
  await rm(dist, { recursive: true, force: true });
  await mkdir(dist, { recursive: true });
  const declarations = emitDeclarationsInBackground(root, dist);
  declarations.catch(() => undefined); // awaited below, after the vite builds
  await buildApp();
  await buildLibrary();
  await buildWorker();
  await buildTesting();
  await copyOrt();
  await writeIntegrity(dist);
  await declarations;
  // Last: the service worker's precache list is made from everything above (scripts/buildServiceWorker.ts).
  await buildServiceWorker(dist);
  console.log(`built dist/ in ${Math.round(performance.now() - t0)} ms`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  buildAll().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
