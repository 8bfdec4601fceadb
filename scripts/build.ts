// Builds everything `npm start` serves into dist/:
//   ondevice.mjs (ESM library), ondevice.js (classic script, window.OnDevice),
//   ondevice-worker.mjs (+ chunks/: the lean onnxruntime-web bundles), ort/ (onnxruntime .mjs/.wasm),
//   the demo app (index.html + assets/), ondevice.d.ts (+ types/) and integrity.json (SRI hashes).
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type InlineConfig } from 'vite';
import { buildServiceWorker } from './buildServiceWorker';
import { emitDeclarationsInBackground } from './emitDeclarations';
import { writeIntegrity } from './writeIntegrity';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const ortDist = path.join(root, 'node_modules/onnxruntime-web/dist');

// The files the lean bundles load at run time: plain SIMD-threaded build for WASM, the asyncify build
// for onnxruntime-web/webgpu.
export const ORT_FILES = [
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
];

const quiet: Partial<InlineConfig> = { configFile: false, logLevel: 'warn', root };

async function buildLibrary(): Promise<void> {
  await build({
    ...quiet,
    build: {
      outDir: dist,
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
      outDir: dist,
      emptyOutDir: false,
      sourcemap: true,
      lib: { entry: path.join(root, 'src/embed/script.ts'), formats: ['iife'], name: 'OnDeviceBundle', fileName: () => 'ondevice.js' },
    },
  });
}

async function buildWorker(): Promise<void> {
  await build({
    ...quiet,
    resolve: { conditions: ['onnxruntime-web-use-extern-wasm', 'import', 'module', 'browser', 'default'] },
    build: {
      outDir: dist,
      emptyOutDir: false,
      sourcemap: true,
      target: 'es2022',
      lib: { entry: path.join(root, 'src/runtime/worker.ts'), formats: ['es'], fileName: () => 'ondevice-worker.mjs' },
      rollupOptions: { output: { chunkFileNames: 'chunks/[name]-[hash].mjs' } },
    },
  });
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

async function copyOrt(): Promise<void> {
  await mkdir(path.join(dist, 'ort'), { recursive: true });
  await Promise.all(ORT_FILES.map((f) => copyFile(path.join(ortDist, f), path.join(dist, 'ort', f))));
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
