// Builds everything `npm start` serves into dist/:
//   ondevice.mjs (ESM library), ondevice.js (classic script, window.OnDevice),
//   ondevice-worker.mjs (+ chunks/: the lean onnxruntime-web bundles), ort/ (onnxruntime .mjs/.wasm),
//   the demo app (index.html + assets/), ondevice.d.ts (+ types/) and integrity.json (SRI hashes).
// The library steps take their output folder: scripts/buildPackage.ts runs them into lib/ for the
// npm package, without the demo app.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type InlineConfig, type Rolldown } from 'vite';
import { buildServiceWorker } from './buildServiceWorker';
import { emitDeclarationsInBackground } from './emitDeclarations';
import { writeIntegrity } from './writeIntegrity';
import { ORT_WASM_FILE } from '../src/core/ortWasmFile';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const ortDist = path.join(root, 'node_modules/onnxruntime-web/dist');

// The files the lean bundles load at run time: plain SIMD-threaded build for WASM, the asyncify build
// for onnxruntime-web/webgpu.
export const ORT_FILES_BY_BACKEND = {
  wasm: ['ort-wasm-simd-threaded.mjs', ORT_WASM_FILE.wasm],
  webgpu: ['ort-wasm-simd-threaded.asyncify.mjs', ORT_WASM_FILE.webgpu],
} as const;
export const ORT_FILES = [...ORT_FILES_BY_BACKEND.wasm, ...ORT_FILES_BY_BACKEND.webgpu];

// publicDir: false — public/ is the demo app's (models, samples, icons); only buildApp copies it.
const quiet: Partial<InlineConfig> = { configFile: false, logLevel: 'warn', root, publicDir: false };

export async function buildLibrary(outDir = dist): Promise<void> {
  await build({
    ...quiet,
    build: {
      outDir,
      emptyOutDir: false,
      sourcemap: true,
      lib: { entry: path.join(root, 'src/index.ts'), formats: ['es'], fileName: () => 'ondevice.mjs' },
    },
  });
  await build({
    ...quiet,
    // A classic script has no import.meta; src/embed/script.ts configures the base URL from currentScript.
    define: { 'import.meta.url': 'undefined' },
    build: {
      outDir,
      emptyOutDir: false,
      sourcemap: true,
      lib: { entry: path.join(root, 'src/embed/script.ts'), formats: ['iife'], name: 'OnDeviceBundle', fileName: () => 'ondevice.js' },
    },
  });
}

/** Builds the worker; returns its chunks (scripts/buildPackage.ts sorts them by backend). */
export async function buildWorker(outDir = dist): Promise<Rolldown.OutputChunk[]> {
  const result = await build({
    ...quiet,
    resolve: { conditions: ['onnxruntime-web-use-extern-wasm', 'import', 'module', 'browser', 'default'] },
    build: {
      outDir,
      emptyOutDir: false,
      sourcemap: true,
      target: 'es2022',
      lib: { entry: path.join(root, 'src/runtime/worker.ts'), formats: ['es'], fileName: () => 'ondevice-worker.mjs' },
      rollupOptions: { output: { chunkFileNames: 'chunks/[name]-[hash].mjs' } },
    },
  });
  const outputs = Array.isArray(result) ? result : [result];
  return outputs.flatMap((o) => ('output' in o ? o.output : [])).filter((o): o is Rolldown.OutputChunk => o.type === 'chunk');
}

// Test-only (src/testing.ts): dist/testing/ondevice.js (the classic script plus __testing hooks, one
// bundle so the hooks share the library's state) and its worker. Outside the precache globs and SRI list.
async function buildTesting(): Promise<void> {
  const outDir = path.join(dist, 'testing');
  await build({
    ...quiet,
    publicDir: false,
    define: { 'import.meta.url': 'undefined' },
    build: {
      outDir,
      emptyOutDir: false,
      sourcemap: true,
      lib: { entry: path.join(root, 'src/testing.ts'), formats: ['iife'], name: 'OnDeviceTesting', fileName: () => 'ondevice.js' },
    },
  });
  await build({
    ...quiet,
    publicDir: false,
    resolve: { conditions: ['onnxruntime-web-use-extern-wasm', 'import', 'module', 'browser', 'default'] },
    build: {
      outDir,
      emptyOutDir: false,
      sourcemap: true,
      target: 'es2022',
      lib: { entry: path.join(root, 'src/runtime/testingWorker.ts'), formats: ['es'], fileName: () => 'ondevice-worker.mjs' },
      rollupOptions: { output: { chunkFileNames: 'chunks/[name]-[hash].mjs' } },
    },
  });
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
