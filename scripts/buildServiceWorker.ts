// Builds dist/sw.js: bundles src/sw/sw.ts (Workbox modules) with vite, then lets workbox-build's
// injectManifest write the precache list (files + revisions) of what is already in dist/.
// Run after the app, library, worker and ort/ files are built (scripts/build.ts calls it last).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEntry } from './buildEntry';
import { injectManifest } from 'workbox-build';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What the app needs offline. Model files are excluded: they live once, in the model store. */
export const PRECACHE_GLOBS = [
  '*.html',
  '*.{js,mjs}',
  'assets/**/*.{js,css,svg,png,woff2}',
  'chunks/**/*.mjs',
  'ort/*.{mjs,wasm}',
  'manifest.webmanifest',
  'icons/*.png',
  // Small assets the demo needs offline: the OCR character list and the sample inputs.
  'models/*.txt',
  'samples/*.{png,wav}',
];
export const PRECACHE_IGNORES = ['sw.js', 'models/*.onnx', 'models/**/*.onnx', 'models/*.json', '**/*.map'];

export async function buildServiceWorker(dist = path.join(root, 'dist')): Promise<{ count: number; size: number }> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'ondevice-sw-'));
  try {
    await buildEntry({
      entry: 'src/sw/sw.ts',
      outDir: tmp,
      fileName: 'sw.js',
      format: 'iife',
      name: 'ondeviceServiceWorker',
      // Workbox logs verbosely unless NODE_ENV is production; vite's lib mode leaves it undefined.
      define: { 'process.env.NODE_ENV': JSON.stringify('production') },
      target: 'es2022',
      minify: true,
      emptyOutDir: true,
    });
    const { count, size, warnings } = await injectManifest({
      swSrc: path.join(tmp, 'sw.js'),
      swDest: path.join(dist, 'sw.js'),
      globDirectory: dist,
      globPatterns: PRECACHE_GLOBS,
      globIgnores: PRECACHE_IGNORES,
      // onnxruntime's WebGPU build is ~27 MB; the app cannot run offline without it.
      maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
      // vite and rolldown put content hashes in these names: no revision needed.
      dontCacheBustURLsMatching: /^(assets|chunks)\//,
    });
    for (const w of warnings) console.warn(`sw: ${w}`);
    return { count, size };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  buildServiceWorker().then(
    ({ count, size }) => console.log(`sw.js precaches ${count} files, ${(size / 1e6).toFixed(1)} MB`),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
