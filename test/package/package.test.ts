// The packed package used the way a user would: `npm pack` (which builds lib/ on prepack), installed from
// the tarball into a fresh app in a temp folder (a real folder, no symlink), then
// 1. the tarball's contents and size budget,
// 2. `tsc --noEmit` of the app and its vite.config.ts against the shipped declarations (bundler and
//    nodenext resolution, skipLibCheck off), with `@ts-expect-error` on misuse of the public API,
// 3. `ondevice/node` without and with onnxruntime-node (the optional peer dependency), and the `ondevice` bin
//    (`npx ondevice batch`) running the compiled CLI from lib/, without tsx,
// 4. `vite build` with the `ondevice/vite` plugin (one line in vite.config.ts, WASM only), served by
//    `vite preview`, and `vite dev`: each runs a model the app serves itself (by URL) in Chromium.
// The app calls no configure(): the plugin points the library at the files it serves and emits.
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { build, createServer, preview, type PreviewServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium';
import { spawnServer } from '../helpers/spawnServer';
import { packAndInstall, type PackedApp } from './packAndInstall';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const UNPACKED_BUDGET_BYTES = 50_000_000; // ≤ 50 MB unpacked: an app's install must stay small

const VITE_CONFIG_TS = `
import type { UserConfig } from 'vite';
import ondevice from 'ondevice/vite';

export default { plugins: [ondevice({ backends: ['wasm'] })] } satisfies UserConfig;
`;

const MAIN_TS = `
import { defineOnDeviceModelElement, loadModel, OnDeviceError, type Feeds } from 'ondevice';

defineOnDeviceModelElement();

async function main(): Promise<void> {
  // The app's own model, served from its public/ folder.
  const model = await loadModel(new URL('tiny-mlp.onnx', document.baseURI).href, { backend: 'wasm', threads: 2 });
  const feeds: Feeds = { x: { type: 'float32', data: new Float32Array(16).fill(0.25), dims: [1, 16] } };
  const { probs } = await model.run(feeds);
  let code = '';
  try {
    await model.run({ nope: feeds.x });
  } catch (error) {
    if (error instanceof OnDeviceError) code = error.code;
  }
  const sum = Array.from(probs.data as Float32Array).reduce((a, b) => a + b, 0);
  document.body.dataset.result = JSON.stringify({
    backend: model.backend,
    dims: probs.dims,
    sum,
    code,
    threads: model.info.threads,
    isolated: crossOriginIsolated,
    element: !!customElements.get('ondevice-model'),
  });
  model.dispose();
}
main().catch((error) => (document.body.dataset.result = JSON.stringify({ error: String(error) })));
`;

const TYPES_TS = `
import { loadModel, OnDeviceError, ERROR_CODES, type ErrorCode, type Feeds, type Model, type OnDeviceModelElement } from 'ondevice';
import { ondeviceRuntimeFiles, crossOriginIsolationPlugin } from 'ondevice/sw';
import { ondevice } from 'ondevice/vite';

export async function usesTheApi(signal: AbortSignal): Promise<number> {
  const model: Model = await loadModel('tiny-mlp', { backend: 'auto', threads: 2, signal, onProgress: (p) => void p.loaded });
  const out: Feeds = await model.run({ x: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } }, { transfer: false });
  const code: ErrorCode = ERROR_CODES[0];
  const reason: string | undefined = model.fallbackReason ?? model.info.threadsReason;
  void reason;
  void code;
  const el: OnDeviceModelElement | null = document.querySelector('ondevice-model');
  el?.addEventListener('ready', (event) => void event.detail.backend.toUpperCase());
  el?.addEventListener('error', (event) => void (event.detail.error instanceof OnDeviceError));
  const urls: string[] = ondeviceRuntimeFiles({ base: '/static/ondevice/', backends: ['webgpu'] }).map((entry) => entry.url);
  void urls;
  void crossOriginIsolationPlugin.handlerWillRespond;
  return out.probs.dims.length;
}

export async function misuses(model: Model): Promise<void> {
  // @ts-expect-error a model source is a string, URL or registry entry
  await loadModel(42);
  // @ts-expect-error there is no 'cuda' backend
  await loadModel('tiny-mlp', { backend: 'cuda' });
  // @ts-expect-error 'float33' is not an element type
  await model.run({ x: { type: 'float33', data: new Float32Array(1), dims: [1] } });
  // @ts-expect-error dims are numbers
  await model.run({ x: { type: 'float32', data: new Float32Array(1), dims: ['1'] } });
  // @ts-expect-error error codes are a closed set
  const code: ErrorCode = 'SOMETHING_ELSE';
  void code;
  // @ts-expect-error a model's inputs are read-only
  model.inputs = [];
  // @ts-expect-error the plugin knows two backends
  ondevice({ backends: ['cuda'] });
  // @ts-expect-error isolation is on or off
  ondevice({ isolation: 'yes' });
  // @ts-expect-error the precache helper knows two backends
  ondeviceRuntimeFiles({ backends: ['webgl'] });
}
`;

// A Node script of the app: \`ondevice/node\` types, with misuse caught at compile time.
const NODE_TS = `
import { loadModel, OnDeviceError, type Feeds, type NodeLoadOptions } from 'ondevice/node';

export async function classify(signal: AbortSignal): Promise<number[]> {
  const options: NodeLoadOptions = { modelsDir: './models', threads: 1, signal };
  const model = await loadModel('./tiny-mlp.onnx', options);
  const feeds: Feeds = { x: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } };
  const { probs } = await model.run(feeds, { signal });
  const backend: 'cpu' = model.backend;
  void backend;
  model.dispose();
  return probs.dims;
}

export async function misusesNode(): Promise<void> {
  // @ts-expect-error a model source is a string, URL or registry entry
  await loadModel(42);
  // @ts-expect-error threads is a number
  await loadModel('tiny-mlp', { threads: 'all' });
  const model = await loadModel('tiny-mlp');
  // @ts-expect-error 'float33' is not an element type
  await model.run({ x: { type: 'float33', data: new Float32Array(1), dims: [1] } });
  void (new Error() instanceof OnDeviceError);
}
`;

// \`node -e\` in the app: import ondevice/node, load tiny-mlp from a file, run it, print what came back.
const NODE_RUN = `
const { loadModel, OnDeviceError } = await import('ondevice/node');
try {
  const model = await loadModel('./public/tiny-mlp.onnx', { threads: 1 });
  const { probs } = await model.run({ x: { type: 'float32', data: new Float32Array(16).fill(0.25), dims: [1, 16] } });
  console.log(JSON.stringify({ backend: model.backend, dims: probs.dims, sum: Array.from(probs.data).reduce((a, b) => a + b, 0) }));
  model.dispose();
} catch (error) {
  console.log(JSON.stringify({ error: error instanceof OnDeviceError, code: error.code, message: error.message }));
}
`;

const execFileAsync = promisify(execFile);

/** Runs \`node --input-type=module -e NODE_RUN\` in the app; returns what it printed, parsed. */
async function runNodeScript(): Promise<Record<string, unknown>> {
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', NODE_RUN], { cwd: project, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

/**
 * The app's onnxruntime-node is the repository's copy, linked in: ESM resolution ignores NODE_PATH, and
 * installing its 288 MB of binaries into every test app would dominate this test.
 */
function linkOnnxruntimeNode(): void {
  const link = path.join(project, 'node_modules/onnxruntime-node');
  if (!existsSync(link)) symlinkSync(path.join(repoRoot, 'node_modules/onnxruntime-node'), link, 'dir');
}

// An app's own Workbox service worker, on a host that sends no COOP/COEP.
const SW_TS = `
import { addPlugins, precacheAndRoute } from 'workbox-precaching';
import { crossOriginIsolationPlugin, ondeviceRuntimeFiles } from 'ondevice/sw';

declare const self: ServiceWorkerGlobalScope;
addPlugins([crossOriginIsolationPlugin]);
precacheAndRoute([{ url: 'index.html', revision: '1' }, ...ondeviceRuntimeFiles({ backends: ['wasm'] })]);
self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
`;

let app: PackedApp;
let project: string;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  app = await packAndInstall(repoRoot, 240_000);
  project = app.project;
  writeFileSync(
    path.join(project, 'index.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>user app</title></head><body><script type="module" src="/main.ts"></script></body></html>',
  );
  writeFileSync(path.join(project, 'main.ts'), MAIN_TS);
  writeFileSync(path.join(project, 'types.ts'), TYPES_TS);
  writeFileSync(path.join(project, 'vite.config.ts'), VITE_CONFIG_TS);
  writeFileSync(path.join(project, 'sw.ts'), SW_TS);
  writeFileSync(path.join(project, 'node.ts'), NODE_TS);
  mkdirSync(path.join(project, 'public'));
  copyFileSync(path.join(repoRoot, 'models/generated/tiny-mlp.onnx'), path.join(project, 'public/tiny-mlp.onnx'));
}, 600_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  if (app) rmSync(path.dirname(app.project), { recursive: true, force: true });
});

/** What the app's main.ts wrote (throws when it never does). */
async function appResult(page: Page): Promise<Record<string, unknown>> {
  await page.waitForFunction(() => document.body.dataset.result, undefined, { timeout: 90_000 });
  return JSON.parse((await page.evaluate(() => document.body.dataset.result))!) as Record<string, unknown>;
}

/** Opens `url` in Chromium; returns what the app's main.ts wrote and every URL the page and its workers requested. */
async function runApp(url: string): Promise<{ result: Record<string, unknown>; errors: string[]; requests: string[] }> {
  const browser = await launchChromium();
  try {
    const context = await browser.newContext();
    const requests: string[] = [];
    context.on('request', (request) => requests.push(request.url()));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(url);
    return { result: await appResult(page), errors, requests };
  } finally {
    await browser.close();
  }
}

/** The runtime came from where the plugin put it (not, say, from Vite serving node_modules). */
function expectRuntimeFrom(requests: string[], base: string): void {
  expect(requests).toContain(`${base}ondevice-worker.mjs`);
  expect(requests).toContain(`${base}ort/ort-wasm-simd-threaded.wasm`);
  const fromNodeModules = requests.map((url) => new URL(url).pathname).filter((p) => p.startsWith('/node_modules/ondevice/lib/'));
  // In vite dev the library module itself comes from node_modules; nothing else may.
  expect(fromNodeModules.filter((p) => p !== '/node_modules/ondevice/lib/ondevice.mjs')).toEqual([]);
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(path.join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

describe('the packed package, installed from its tarball into a fresh app', () => {
  test('the tarball holds the library build only, within the size budget', () => {
    const files = app.report.files.map((f) => f.path);
    console.log(
      `package: ${files.length} files, ${(app.report.size / 1e6).toFixed(1)} MB packed, ${(app.report.unpackedSize / 1e6).toFixed(1)} MB unpacked (budget ${UNPACKED_BUDGET_BYTES / 1e6} MB)`,
    );
    expect(app.report.unpackedSize).toBeLessThanOrEqual(UNPACKED_BUDGET_BYTES);
    for (const file of [
      'package.json',
      'lib/ondevice.mjs',
      'lib/ondevice.js',
      'lib/ondevice.d.ts',
      'lib/ondevice-worker.mjs',
      'lib/vite.mjs',
      'lib/vite.d.ts',
      'lib/sw.mjs',
      'lib/sw.d.ts',
      'lib/node.mjs',
      'lib/node.d.ts',
      'lib/cli.mjs',
      'lib/sandboxChild.js',
      'lib/inferTasks.js',
      'lib/modelTasks.js',
      'lib/evaluationTasks.js',
      'bin/ondevice.mjs',
      'lib/runtime-files.json',
      'lib/ort/ort-wasm-simd-threaded.mjs',
      'lib/ort/ort-wasm-simd-threaded.wasm',
      'lib/ort/ort-wasm-simd-threaded.asyncify.mjs',
      'lib/ort/ort-wasm-simd-threaded.asyncify.wasm',
    ]) {
      expect(files, file).toContain(file);
    }
    // No demo app, test page, service worker of the demo, models, samples or other onnxruntime variants.
    const demo = files.filter((f) =>
      /(^|\/)(index\.html|test-page\.html|sw\.js|manifest\.webmanifest)$|\.onnx$|(^|\/)(assets|models|samples|icons|src|test|dist)\//.test(
        f,
      ),
    );
    expect(demo).toEqual([]);
    const ortFiles = files.filter((f) => /(^|\/)ort-[^/]*$/.test(f));
    expect(ortFiles.sort()).toEqual(files.filter((f) => f.startsWith('lib/ort/')).sort());
    expect(ortFiles).toHaveLength(4);
  });

  test('it is installed as a real folder, without onnxruntime', () => {
    expect(lstatSync(path.join(project, 'node_modules/ondevice')).isSymbolicLink()).toBe(false);
    const installed = readdirSync(path.join(project, 'node_modules'));
    expect(installed).toContain('ondevice');
    expect(installed.filter((name) => name.startsWith('onnxruntime'))).toEqual([]);
  });

  test('every exports target exists in the installed package, and there is no catch-all', async () => {
    const pkgDir = path.join(project, 'node_modules/ondevice');
    const pkg = (await import(pathToFileURL(path.join(pkgDir, 'package.json')).href, { with: { type: 'json' } })).default as {
      exports: Record<string, string | Record<string, string>>;
    };
    expect(Object.keys(pkg.exports).filter((key) => key.includes('*'))).toEqual([]);
    const targets = Object.values(pkg.exports).flatMap((value) => (typeof value === 'string' ? [value] : Object.values(value)));
    for (const target of targets) expect(statSync(path.join(pkgDir, target), { throwIfNoEntry: false })?.isFile(), target).toBe(true);
  });

  test('ondevice/node imports without onnxruntime-node, and loadModel then fails with NOT_SUPPORTED naming it', async () => {
    expect(existsSync(path.join(project, 'node_modules/onnxruntime-node'))).toBe(false);
    const result = await runNodeScript();
    expect(result).toMatchObject({ error: true, code: 'NOT_SUPPORTED' });
    expect(result.message).toContain('npm install onnxruntime-node');
  });

  test('with onnxruntime-node next to it, ondevice/node runs tiny-mlp, and npx ondevice batch runs the compiled CLI (no tsx)', async () => {
    linkOnnxruntimeNode();
    const result = await runNodeScript();
    expect(result).toMatchObject({ backend: 'cpu', dims: [1, 4] });
    expect(result.sum as number).toBeCloseTo(1, 4);

    expect(existsSync(path.join(project, 'node_modules/tsx'))).toBe(false);
    const rows = [1, 2, 3].map((i) =>
      JSON.stringify({
        id: `r${i}`,
        inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: Array.from({ length: 16 }, (_, j) => j * i) }],
      }),
    );
    writeFileSync(path.join(project, 'in.jsonl'), `${rows.join('\n')}\n{"inputs": "not a list"}\n`);
    const batch = spawnSync(
      NPX,
      ['--no', 'ondevice', 'batch', '--model', 'public/tiny-mlp.onnx', '--input', 'in.jsonl', '--output', 'out.jsonl'],
      { cwd: project, encoding: 'utf8', timeout: 120_000 },
    );
    expect(batch.stderr).toMatch(/^line 4: invalid infer request/m); // a bad row is reported and the job goes on
    expect(batch.status).toBe(1);
    const out = readFileSync(path.join(project, 'out.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(out.map((row) => row.id)).toEqual(['r1', 'r2', 'r3']);
    for (const row of out) {
      expect(row).toMatchObject({ model_name: 'tiny-mlp', outputs: [{ name: 'probs', datatype: 'FP32', shape: [1, 4] }] });
      expect((row.outputs[0].data as number[]).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
  });

  test('ondevice serve from the tarball answers /v2 infer in its compiled sandbox child process', async () => {
    linkOnnxruntimeNode();
    // The installed bin itself: npx would not pass our SIGTERM on to it.
    const server = await spawnServer(
      process.execPath,
      ['node_modules/.bin/ondevice', 'serve', '--workers', '1', '--models-dir', path.join(repoRoot, 'public/models')],
      {
        cwd: project,
        timeoutMs: 60_000,
      },
    );
    closers.push(() => server.stop());
    const response = await fetch(`${server.url}/v2/models/tiny-mlp/infer`, {
      method: 'POST',
      body: JSON.stringify({
        id: 'p1',
        inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: Array.from({ length: 16 }, () => 0.5) }],
      }),
    });
    const answer = (await response.json()) as { id: string; outputs: { name: string; shape: number[]; data: number[] }[] };
    expect(response.status, JSON.stringify(answer)).toBe(200);
    expect(answer).toMatchObject({ id: 'p1', outputs: [{ name: 'probs', shape: [1, 4] }] });
    expect(answer.outputs[0].data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  });

  test.each(['bundler', 'nodenext'])(
    'tsc --noEmit type-checks the app against the shipped declarations (moduleResolution %s)',
    (resolution) => {
      const config = path.join(project, `tsconfig.${resolution}.json`);
      writeFileSync(
        config,
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: 'ES2022',
            module: resolution === 'bundler' ? 'ESNext' : 'NodeNext',
            moduleResolution: resolution,
            lib: ['ES2023', 'DOM', 'DOM.Iterable'],
            types: [],
            skipLibCheck: false,
            // vite is the app's own dev dependency; this test borrows the repository's copy instead of installing it.
            paths: { vite: [path.join(repoRoot, 'node_modules/vite/dist/node/index.d.ts')] },
          },
          files: ['types.ts', 'main.ts', 'vite.config.ts', 'node.ts'],
        }),
      );
      const result = spawnSync(process.execPath, [tsc, '-p', config], { cwd: project, encoding: 'utf8', timeout: 120_000 });
      expect(result.stdout + result.stderr).toBe('');
      expect(result.status).toBe(0);
    },
  );

  test('ondevice/sw lists the runtime files of the chosen backends, as shipped', async () => {
    const pkgDir = path.join(project, 'node_modules/ondevice');
    const sw = (await import(pathToFileURL(path.join(pkgDir, 'lib/sw.mjs')).href)) as typeof import('../../src/sw/index');
    const wasm = sw.ondeviceRuntimeFiles({ backends: ['wasm'] });
    const urls = wasm.map((entry) => entry.url);
    expect(urls).toContain('ondevice/ondevice-worker.mjs');
    expect(urls).toContain('ondevice/ort/ort-wasm-simd-threaded.wasm');
    expect(urls.filter((url) => url.includes('asyncify') || url.includes('webgpu'))).toEqual([]);
    for (const url of urls) expect(statSync(path.join(pkgDir, 'lib', url.slice('ondevice/'.length))).isFile(), url).toBe(true);
    // Unhashed names carry a revision, so an update re-fetches them.
    expect(wasm.filter((entry) => !entry.url.includes('/chunks/') && !entry.revision)).toEqual([]);
    expect(sw.ondeviceRuntimeFiles({ base: '/static/x' }).map((entry) => entry.url)).toContain(
      '/static/x/ort/ort-wasm-simd-threaded.asyncify.wasm',
    );
    expect(() => sw.ondeviceRuntimeFiles({ backends: [] })).toThrow(
      expect.objectContaining({ name: 'OnDeviceError', code: 'INVALID_INPUT' }),
    );
  });

  test('vite build with the plugin emits only the WASM runtime files, and the app runs a model in Chromium (vite preview)', async () => {
    const outDir = path.join(project, 'dist');
    await build({
      root: project,
      configFile: path.join(project, 'vite.config.ts'),
      logLevel: 'silent',
      build: { outDir, emptyOutDir: true },
    });
    const emitted = listFiles(outDir);
    expect(emitted).toContain('ondevice/ondevice-worker.mjs');
    expect(emitted).toContain('ondevice/ort/ort-wasm-simd-threaded.wasm');
    expect(emitted.filter((f) => /asyncify|webgpu|\.map$/.test(f))).toEqual([]);
    // onnxruntime-web never reaches the page bundle; it lives in the worker's chunks.
    expect(emitted.filter((f) => f.startsWith('assets/') && f.endsWith('.wasm'))).toEqual([]);

    const server: PreviewServer = await preview({
      root: project,
      configFile: path.join(project, 'vite.config.ts'),
      logLevel: 'silent',
      preview: { host: '127.0.0.1', port: 0, strictPort: true },
    });
    closers.push(() => server.close());
    const { port } = server.httpServer.address() as AddressInfo;
    const { result, errors, requests } = await runApp(`http://127.0.0.1:${port}/`);
    expectRuntimeFrom(requests, `http://127.0.0.1:${port}/ondevice/`);
    expect(result).toMatchObject({ backend: 'wasm', dims: [1, 4], code: 'INVALID_INPUT', element: true, isolated: true, threads: 2 });
    expect(result.sum as number).toBeCloseTo(1, 4); // tiny-mlp ends in a softmax
    expect(errors).toEqual([]);
  });

  test('vite dev with the plugin serves the runtime files with COOP/COEP, and the app runs a model with threads', async () => {
    const server: ViteDevServer = await createServer({
      root: project,
      configFile: path.join(project, 'vite.config.ts'),
      logLevel: 'silent',
      server: { host: '127.0.0.1', port: 0, strictPort: true, hmr: false },
    });
    closers.push(() => server.close());
    await server.listen();
    const origin = `http://127.0.0.1:${(server.httpServer!.address() as AddressInfo).port}`;

    const wasm = await fetch(`${origin}/ondevice/ort/ort-wasm-simd-threaded.wasm`);
    expect(wasm.status).toBe(200);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(wasm.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(Number(wasm.headers.get('content-length'))).toBe((await wasm.arrayBuffer()).byteLength);
    // Only the backends asked for: the WebGPU build is not served.
    const webgpu = await fetch(`${origin}/ondevice/ort/ort-wasm-simd-threaded.asyncify.wasm`);
    await webgpu.arrayBuffer();
    expect(webgpu.headers.get('content-type')).not.toBe('application/wasm');

    const { result, errors, requests } = await runApp(`${origin}/`);
    expectRuntimeFrom(requests, `${origin}/ondevice/`);
    expect(result).toMatchObject({ backend: 'wasm', dims: [1, 4], code: 'INVALID_INPUT', element: true, isolated: true, threads: 2 });
    expect(result.sum as number).toBeCloseTo(1, 4);
    expect(errors).toEqual([]);
  });

  test('ondevice/vite: isolation: false leaves the headers alone; bad options are INVALID_INPUT', async () => {
    const pluginUrl = pathToFileURL(path.join(project, 'node_modules/ondevice/lib/vite.mjs')).href;
    const { ondevice } = (await import(pluginUrl)) as typeof import('../../src/vite/index');
    for (const options of [{ backends: [] }, { backends: ['cuda'] }, { base: '../up/' }, { base: '/' }] as Parameters<
      typeof ondevice
    >[0][]) {
      expect(() => ondevice(options), JSON.stringify(options)).toThrow(
        expect.objectContaining({ name: 'OnDeviceError', code: 'INVALID_INPUT' }),
      );
    }
    const server = await createServer({
      root: project,
      configFile: false,
      logLevel: 'silent',
      plugins: [ondevice({ backends: ['wasm'], base: 'static/ort-runtime', isolation: false })],
      server: { host: '127.0.0.1', port: 0, strictPort: true, hmr: false },
    });
    closers.push(() => server.close());
    await server.listen();
    const origin = `http://127.0.0.1:${(server.httpServer!.address() as AddressInfo).port}`;
    for (const url of [`${origin}/`, `${origin}/static/ort-runtime/ondevice-worker.mjs`]) {
      const response = await fetch(url);
      await response.arrayBuffer();
      expect(response.status, url).toBe(200);
      expect(response.headers.get('cross-origin-opener-policy'), url).toBeNull();
      expect(response.headers.get('cross-origin-embedder-policy'), url).toBeNull();
    }
    expect((await fetch(`${origin}/static/ort-runtime/ondevice-worker.mjs`)).headers.get('content-type')).toBe('text/javascript');
  });

  test('an app with its own Workbox service worker precaches the runtime files through ondevice/sw and becomes cross-origin isolated', async () => {
    const outDir = path.join(project, 'dist-sw');
    await build({
      root: project,
      configFile: path.join(project, 'vite.config.ts'),
      logLevel: 'silent',
      build: { outDir, emptyOutDir: true },
    });
    await build({
      root: project,
      configFile: false,
      logLevel: 'silent',
      publicDir: false,
      // workbox-precaching is the app's own dependency; this test borrows the repository's copy.
      resolve: { alias: { 'workbox-precaching': path.join(repoRoot, 'node_modules/workbox-precaching/index.mjs') } },
      define: { 'process.env.NODE_ENV': JSON.stringify('production') },
      build: {
        outDir,
        emptyOutDir: false,
        lib: { entry: path.join(project, 'sw.ts'), formats: ['iife'], name: 'sw', fileName: () => 'sw.js' },
      },
    });
    // A static host without COOP/COEP: no plugin, no headers.
    const server = await preview({
      root: project,
      configFile: false,
      logLevel: 'silent',
      build: { outDir },
      preview: { host: '127.0.0.1', port: 0, strictPort: true },
    });
    closers.push(() => server.close());
    const origin = `http://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}`;

    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${origin}/`);
      expect(await appResult(page)).toMatchObject({ backend: 'wasm', isolated: false, threads: 1 });
      await page.evaluate(async () => {
        await navigator.serviceWorker.register('/sw.js');
        await navigator.serviceWorker.ready;
      });
      await page.waitForFunction(() => navigator.serviceWorker.controller, undefined, { timeout: 60_000 });
      await page.reload();
      const result = await appResult(page);
      expect(result).toMatchObject({ backend: 'wasm', dims: [1, 4], isolated: true, threads: 2 });
      const cached = await page.evaluate(async () => {
        const urls: string[] = [];
        for (const name of await caches.keys())
          for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
        return urls;
      });
      expect(cached).toContain('/ondevice/ondevice-worker.mjs');
      expect(cached).toContain('/ondevice/ort/ort-wasm-simd-threaded.wasm');
      expect(cached.filter((url) => url.includes('asyncify'))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
