// The built package used the way a bundler user would: a fresh project whose node_modules/ondevice is
// this repository (a symlink, as `npm link` makes it), resolved through package.json `exports`.
// 1. `tsc --noEmit` against dist/ondevice.d.ts (bundler and nodenext resolution, skipLibCheck off), with
//    `@ts-expect-error` on misuse of the public API.
// 2. `vite build` of a tiny app that does `import { loadModel } from 'ondevice'`, served with the
//    package's dist/ copied to /ondevice/ (as the README tells users), running a model in Chromium.
// ONDEVICE_PACKAGE_ROOT can point at another package folder (e.g. an unpacked `npm pack`).
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchChromium } from '../helpers/chromium';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const packageRoot = path.resolve(process.env.ONDEVICE_PACKAGE_ROOT ?? repoRoot);
const project = mkdtempSync(path.join(tmpdir(), 'ondevice-user-'));
const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');

const MAIN_TS = `
import { configure, defineOnDeviceModelElement, loadModel, OnDeviceError, type Feeds } from 'ondevice';

// The package's dist/ is served at /ondevice/ (worker, onnxruntime files, models).
configure({ baseUrl: new URL('/ondevice/', location.href).href });
defineOnDeviceModelElement();

async function main(): Promise<void> {
  const model = await loadModel('tiny-mlp', { backend: 'wasm' });
  const feeds: Feeds = { x: { type: 'float32', data: new Float32Array(16).fill(0.25), dims: [1, 16] } };
  const { probs } = await model.run(feeds);
  let code = '';
  try {
    await model.run({ nope: feeds.x });
  } catch (error) {
    if (error instanceof OnDeviceError) code = error.code;
  }
  const sum = Array.from(probs.data as Float32Array).reduce((a, b) => a + b, 0);
  document.body.dataset.result = JSON.stringify({ backend: model.backend, dims: probs.dims, sum, code, element: !!customElements.get('ondevice-model') });
  model.dispose();
}
main().catch((error) => (document.body.dataset.result = JSON.stringify({ error: String(error) })));
`;

const TYPES_TS = `
import { loadModel, OnDeviceError, ERROR_CODES, type ErrorCode, type Feeds, type Model, type OnDeviceModelElement } from 'ondevice';

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
}
`;

let server: Server;
let origin: string;

/** Serve the built app at / and the package's dist/ at /ondevice/ (what a user deploys). */
function serve(appDir: string, libraryDir: string): Promise<Server> {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.mjs': 'text/javascript',
    '.wasm': 'application/wasm',
    '.json': 'application/json',
  };
  const s = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const [dir, rest] = pathname.startsWith('/ondevice/')
      ? [libraryDir, pathname.slice('/ondevice/'.length)]
      : [appDir, pathname.slice(1) || 'index.html'];
    const file = path.join(dir, rest);
    if (!file.startsWith(dir) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(rest === 'favicon.ico' ? 204 : 404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

beforeAll(() => {
  mkdirSync(path.join(project, 'node_modules'), { recursive: true });
  symlinkSync(packageRoot, path.join(project, 'node_modules/ondevice'), 'dir');
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'ondevice-user', private: true, type: 'module' }));
  writeFileSync(
    path.join(project, 'index.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>user app</title></head><body><script type="module" src="/main.ts"></script></body></html>',
  );
  writeFileSync(path.join(project, 'main.ts'), MAIN_TS);
  writeFileSync(path.join(project, 'types.ts'), TYPES_TS);
});

afterAll(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  rmSync(project, { recursive: true, force: true });
});

describe('the built package, imported the way a user would', () => {
  test('package.json exports map points at built files that exist', async () => {
    const pkg = (await import(path.join(packageRoot, 'package.json'), { with: { type: 'json' } })).default as {
      exports?: Record<string, unknown>;
    };
    expect(pkg.exports, 'package.json needs an "exports" map (see the README)').toBeDefined();
    const root = pkg.exports!['.'] as { types: string; import: string };
    for (const file of [root.types, root.import, pkg.exports!['./script'] as string]) {
      expect(statSync(path.join(packageRoot, file), { throwIfNoEntry: false })?.isFile(), file).toBe(true);
    }
  });

  test.each(['bundler', 'nodenext'])('tsc --noEmit type-checks the declarations and rejects misuse (moduleResolution %s)', (resolution) => {
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
        },
        files: ['types.ts'],
      }),
    );
    const result = spawnSync(process.execPath, [tsc, '-p', config], { cwd: project, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  test('vite builds an app that imports ondevice, and it runs a model in Chromium', async () => {
    const outDir = path.join(project, 'dist');
    await build({ root: project, configFile: false, logLevel: 'silent', build: { outDir, emptyOutDir: true } });
    const libraryDir = path.join(realpathSync(path.join(project, 'node_modules/ondevice')), 'dist');
    server = await serve(outDir, libraryDir);
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => document.body.dataset.result, undefined, { timeout: 60_000 });
      const result = JSON.parse((await page.evaluate(() => document.body.dataset.result))!);
      expect(result).toMatchObject({ backend: 'wasm', dims: [1, 4], code: 'INVALID_INPUT', element: true });
      expect(result.sum).toBeCloseTo(1, 4); // tiny-mlp ends in a softmax
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
