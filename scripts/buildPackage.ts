// Builds the npm package into lib/ (`npm pack` runs it as `prepack`): the library only, never the demo
// app, its test page, its models or its source maps.
//   ondevice.mjs (ESM), ondevice.js (classic script), ondevice-worker.mjs + chunks/, ort/ (onnxruntime
//   .mjs/.wasm), ondevice.d.ts + types/, integrity.json, runtime-files.json (what to serve, per backend),
//   vite.mjs (`ondevice/vite`, runs in Node) and sw.mjs (`ondevice/sw`, for a service worker of the app's own),
//   node.mjs + node.d.ts (`ondevice/node`, on onnxruntime-node, which stays an optional peer dependency) and
//   cli.mjs with sandboxChild.js and the task modules its sandbox children load (the `ondevice` bin, run without tsx).
import { createHash } from 'node:crypto';
import { readFile, rm, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Rolldown } from 'vite';
import type { RuntimeFile, RuntimeFiles } from '../src/core/RuntimeFiles';
import { buildLibrary, buildWorker, copyOrt, ORT_FILES_BY_BACKEND } from './build';
import { emitDeclarationsInBackground } from './emitDeclarations';
import { writeIntegrity } from './writeIntegrity';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const LIB = path.join(root, 'lib');

/** Sorts the worker's chunks by the onnxruntime-web bundle they hold; the rest every backend needs. */
async function describeRuntimeFiles(lib: string, chunks: Rolldown.OutputChunk[]): Promise<RuntimeFiles> {
  const files: RuntimeFiles = { common: [], wasm: [], webgpu: [] };
  const describe = async (url: string, hashedName: boolean): Promise<RuntimeFile> => {
    const bytes = await readFile(path.join(lib, url));
    const revision = hashedName ? null : createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    return { url, revision, bytes: bytes.length };
  };
  for (const chunk of chunks) {
    const ort = chunk.moduleIds.find((id) => /onnxruntime-web[\\/]dist[\\/]ort\.(wasm|webgpu)\b/.test(id));
    const backend = ort ? (/ort\.webgpu/.test(ort) ? 'webgpu' : 'wasm') : 'common';
    files[backend].push(await describe(chunk.fileName, chunk.fileName.startsWith('chunks/')));
  }
  for (const backend of ['wasm', 'webgpu'] as const) {
    for (const file of ORT_FILES_BY_BACKEND[backend]) files[backend].push(await describe(`ort/${file}`, false));
  }
  if (!files.wasm.some((f) => f.url.startsWith('chunks/')) || !files.webgpu.some((f) => f.url.startsWith('chunks/'))) {
    throw new Error(
      `buildPackage: could not find the wasm and webgpu onnxruntime chunks among ${chunks.map((c) => c.fileName).join(', ')}`,
    );
  }
  return files;
}

/** `ondevice/vite` (Node) and `ondevice/sw` (service worker), each with the runtime file list built in. */
async function buildEntries(lib: string, files: RuntimeFiles): Promise<void> {
  const define = { __ONDEVICE_RUNTIME_FILES__: JSON.stringify(files) };
  await build({
    configFile: false,
    logLevel: 'warn',
    root,
    publicDir: false,
    define,
    build: {
      outDir: lib,
      emptyOutDir: false,
      sourcemap: false,
      minify: false,
      target: 'node20',
      lib: { entry: path.join(root, 'src/vite/index.ts'), formats: ['es'], fileName: () => 'vite.mjs' },
      rollupOptions: { external: [/^node:/, 'vite'] },
    },
  });
  await build({
    configFile: false,
    logLevel: 'warn',
    root,
    publicDir: false,
    define,
    build: {
      outDir: lib,
      emptyOutDir: false,
      sourcemap: false,
      minify: false,
      target: 'es2022',
      lib: { entry: path.join(root, 'src/sw/index.ts'), formats: ['es'], fileName: () => 'sw.mjs' },
    },
  });
}

/**
 * What sandbox child processes load, by file name beside the code that starts them (SandboxProcess, SessionPool,
 * evaluateInSandbox, modelTasksUrl): the child entry and the task modules of the CLI's servers and jobs.
 */
const SANDBOX_ENTRIES: Record<string, string> = {
  sandboxChild: path.join(root, 'src/sandbox/sandboxChild.ts'),
  modelTasks: path.join(root, 'src/sandbox/modelTasks.ts'),
  inferTasks: path.join(root, 'src/inference/inferTasks.ts'),
  evaluationTasks: path.join(root, 'src/retrain/evaluationTasks.ts'),
};

/**
 * The Node side: `ondevice/node` (node.mjs), the CLI (cli.mjs) and what the CLI's sandbox children load
 * (SANDBOX_ENTRIES: sandboxChild.js and the task modules).
 * Everything of ours and our small dependencies (valibot, comlink) is bundled; onnxruntime-node is the
 * user's (an optional peer dependency, imported lazily), tsx is never needed.
 */
async function buildNodeEntries(lib: string): Promise<void> {
  await build({
    configFile: false,
    logLevel: 'warn',
    root,
    publicDir: false,
    build: {
      outDir: lib,
      emptyOutDir: false,
      sourcemap: false,
      minify: false,
      target: 'node20',
      lib: {
        entry: {
          node: path.join(root, 'src/node/index.ts'),
          cli: path.join(root, 'src/cli/main.ts'),
          ...SANDBOX_ENTRIES,
        },
        formats: ['es'],
        fileName: (_format, name) => (name in SANDBOX_ENTRIES ? `${name}.js` : `${name}.mjs`),
      },
      rollupOptions: {
        external: [/^node:/, 'onnxruntime-node', 'better-sqlite3', /^tsx(\/|$)/],
        output: { chunkFileNames: 'node-chunks/[name]-[hash].mjs' },
      },
    },
  });
}

export async function buildPackage(lib = LIB): Promise<{ files: RuntimeFiles; bytes: number }> {
  const t0 = performance.now();
  await rm(lib, { recursive: true, force: true });
  await mkdir(lib, { recursive: true });
  const declarations = emitDeclarationsInBackground(root, lib, ['index', 'vite', 'sw', 'node']);
  declarations.catch(() => undefined); // awaited below, after the vite builds
  await buildLibrary(lib);
  const chunks = await buildWorker(lib);
  await copyOrt(lib);
  await writeIntegrity(lib);
  const files = await describeRuntimeFiles(lib, chunks);
  await writeFile(path.join(lib, 'runtime-files.json'), `${JSON.stringify(files, null, 2)}\n`);
  await buildEntries(lib, files);
  await buildNodeEntries(lib);
  await declarations;
  const bytes = (await Promise.all([...files.common, ...files.wasm, ...files.webgpu].map((f) => stat(path.join(lib, f.url))))).reduce(
    (a, s) => a + s.size,
    0,
  );
  console.log(`built lib/ in ${Math.round(performance.now() - t0)} ms (runtime files ${(bytes / 1e6).toFixed(1)} MB)`);
  return { files, bytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  buildPackage().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
