// Faster to the first result: onnxruntime's wasm starts while the model downloads, not after. A model server of the test's
// own holds the model's response; while it is held, the worker's wasm runtime must already be up. Without
// the early start onnxruntime compiles its wasm only at the first session, after the bytes are in, and
// the wait below times out. Then the held bytes arrive and the model answers like onnxruntime-node.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { closeReferenceSessions, compareOutputs, runReference } from '../helpers/reference';
import { waitFor } from '../helpers/waitFor';

const MODEL_FILE = 'public/models/tiny-mlp.onnx';
const bytes = readFileSync(MODEL_FILE);
const sha256 = createHash('sha256').update(bytes).digest('hex');

let session: BrowserSession;
let page: Page;
let modelServer: Server;
let modelUrl: string;
const held: ServerResponse[] = [];

beforeAll(async () => {
  session = await startBrowserSession();
  page = await session.open('/test-page.html');
  // The app server sends COOP/COEP: a cross-origin model needs CORS (and CORP does no harm).
  modelServer = createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    if (req.url === '/held/tiny-mlp.onnx') held.push(res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => modelServer.listen(0, '127.0.0.1', resolve));
  modelUrl = `http://127.0.0.1:${(modelServer.address() as AddressInfo).port}/held/tiny-mlp.onnx`;
});

afterAll(async () => {
  for (const res of held) res.destroy();
  modelServer?.close();
  await session?.close();
  await closeReferenceSessions();
});

test("onnxruntime's wasm is up before the model's bytes arrive, and the model then runs", async () => {
  await page.evaluate(
    ({ url, sha256 }) => {
      const w = window as any;
      w.__loading = w.OnDevice.loadModel(url, { backend: 'wasm', sha256, cache: false, warmup: false });
      w.__loading.catch(() => undefined);
    },
    { url: modelUrl, sha256 },
  );
  await waitFor('the worker to ask for the model', () => held.length === 1, { timeoutMs: 30_000, intervalMs: 50 });
  await waitFor(
    "the worker's wasm runtime to be up while the model's response is held",
    async () => (await page.evaluate(() => (window as any).OnDevice.__testing.runtimeReady())).includes(true),
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  held[0].writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) }).end(bytes);

  const x = Array.from({ length: 16 }, (_, i) => Math.sin(i));
  const got = await page.evaluate(async (x) => {
    const model = await (window as any).__loading;
    const { probs } = await model.run({ x: { type: 'float32', data: Float32Array.from(x), dims: [1, 16] } });
    model.dispose();
    return { type: probs.type, dims: probs.dims, data: Array.from(probs.data as Float32Array) };
  }, x);
  const want = await runReference(MODEL_FILE, { x: { type: 'float32', data: Float32Array.from(x), dims: [1, 16] } });
  expect(compareOutputs({ probs: { type: 'float32', dims: got.dims, data: Float32Array.from(got.data) } }, want)).toEqual([]);
  // The test page has no favicon: its 404 is the only console error allowed.
  expect(session.errors.filter((e) => !/404|Failed to load resource/.test(e))).toEqual([]);
});

test("onnxruntime's wasm is compiled on the page and the worker instantiates that module", async () => {
  const fresh = await session.open('/test-page.html');
  const r = await fresh.evaluate(async () => {
    const { loadModel, __testing } = (window as any).OnDevice;
    const model = await loadModel('tiny-mlp', { backend: 'wasm', cache: false, warmup: false });
    const fromPage = await __testing.runtimeFromPage(model);
    const { probs } = await model.run({ x: { type: 'float32', data: new Float32Array(16).fill(0.5), dims: [1, 16] } });
    model.dispose();
    const fetchedByPage = performance.getEntriesByType('resource').some((e) => e.name.endsWith('/ort/ort-wasm-simd-threaded.wasm'));
    return { fromPage, fetchedByPage, dims: probs.dims };
  });
  await fresh.close();
  expect(r).toEqual({ fromPage: true, fetchedByPage: true, dims: [1, 4] });
});

test('where the page cannot compile the wasm, the worker compiles its own', async () => {
  const fresh = await session.open('/test-page.html');
  const r = await fresh.evaluate(async () => {
    const { loadModel, __testing } = (window as any).OnDevice;
    // As in a browser without streaming compilation.
    (WebAssembly as any).compileStreaming = undefined;
    const model = await loadModel('tiny-mlp', { backend: 'wasm', cache: false, warmup: false });
    const fromPage = await __testing.runtimeFromPage(model);
    const { probs } = await model.run({ x: { type: 'float32', data: new Float32Array(16).fill(0.5), dims: [1, 16] } });
    model.dispose();
    return { fromPage, dims: probs.dims };
  });
  await fresh.close();
  expect(r).toEqual({ fromPage: false, dims: [1, 4] });
});

test("backend 'auto' on a page without a WebGPU adapter starts no WebGPU worker, and says why", async () => {
  const fresh = await session.open('/test-page.html');
  const r = await fresh.evaluate(async () => {
    const { loadModel } = (window as any).OnDevice;
    const model = await loadModel('tiny-mlp', { warmup: false, cache: false });
    const r = {
      backend: model.backend,
      reason: model.fallbackReason,
      workersCreated: performance.getEntriesByName('ondevice:worker-created').map((m) => (m as PerformanceMark).detail),
    };
    model.dispose();
    return r;
  });
  await fresh.close();
  expect(r.backend).toBe('wasm');
  expect(r.reason).toMatch(/^WebGPU unavailable: /);
  expect(r.workersCreated).toEqual(['wasm']);
});
