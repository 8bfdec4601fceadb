// When the device cannot run a model: fallback from the device to the /v2 server, in real Chromium against the real `npm start` server.
// Each cause is provoked the way a real device would meet it; the server-backed Model must answer with the
// same tensors as onnxruntime-node, through the same `run`.
import path from 'node:path';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { makeInputs } from '../helpers/inputs';
import { closeReferenceSessions, compareOutputs, runReference } from '../helpers/reference';
import { feedsFromWire, feedsToWire, PAGE_WIRE_SOURCE, type WireTensor } from '../helpers/wire';
import registry from '../../models/registry.json';
import type { ModelEntry } from '../../src/registry/ModelEntry';

let session: BrowserSession;
let page: Page;
const inferRequests: Request[] = [];
const tinyMlp = registry.find((e) => e.id === 'tiny-mlp')! as unknown as ModelEntry;
const feeds = makeInputs(tinyMlp, { seed: 11, dims: { x: [3, 16] } });

beforeAll(async () => {
  session = await startBrowserSession();
  page = await session.open('/test-page.html');
  page.on('request', (r) => {
    if (r.url().endsWith('/infer')) inferRequests.push(r);
  });
  await page.addScriptTag({ content: PAGE_WIRE_SOURCE });
});

afterAll(async () => {
  await session?.close();
  await closeReferenceSessions();
});

/** A fresh context whose pages run `init` before any script of theirs (so before the library loads). */
async function pageWith(init: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await session.browser.newContext();
  await context.addInitScript({ content: init });
  const p = await context.newPage();
  await p.goto(`${session.server.url}/test-page.html`);
  await p.addScriptTag({ content: PAGE_WIRE_SOURCE });
  return { context, page: p };
}

interface Loaded {
  location?: string;
  backend?: string;
  reason?: string;
  info?: { backend: string; threads: number };
  outputs?: Record<string, WireTensor>;
  error?: { code: string; message: string; details: Record<string, unknown> };
}

/** Load `source` with `options` on `p`, run the tiny-mlp feeds once, dispose. */
function loadAndRun(p: Page, source: unknown, options: Record<string, unknown>, wire = feedsToWire(feeds)): Promise<Loaded> {
  return p.evaluate(
    async ({ source, options, wire }) => {
      const w = (window as any).__wire;
      try {
        const m = await (window as any).OnDevice.loadModel(source, { warmup: false, ...options });
        const out = await m.run(w.feedsFromWire(wire));
        const r = {
          location: m.location,
          backend: m.backend,
          reason: m.fallbackReason,
          info: { backend: m.info.backend, threads: m.info.threads },
          outputs: w.feedsToWire(out),
        };
        m.dispose();
        return r;
      } catch (e: any) {
        return { error: { code: e.code, message: e.message, details: e.details } };
      }
    },
    { source, options, wire },
  );
}

async function expectServerAnswer(r: Loaded, reason: RegExp) {
  expect(r.error).toBeUndefined();
  expect(r.location).toBe('server');
  expect(r.backend).toBe('server');
  expect(r.info?.backend).toBe('server');
  expect(r.reason).toMatch(reason);
  const expected = await runReference(path.join('public/models', tinyMlp.file), feeds);
  expect(compareOutputs(feedsFromWire(r.outputs!), expected, { atol: 1e-6, rtol: 1e-5 })).toEqual([]);
}

describe('fallback to the server', () => {
  test("no fallback needed: location 'device', everything as before", async () => {
    const r = await loadAndRun(page, 'tiny-mlp', { fallback: 'server' });
    expect(r.error).toBeUndefined();
    expect(r.location).toBe('device');
    expect(r.backend).toBe('wasm');
    // auto tried WebGPU first (no adapter with --disable-gpu): the device's own reason, not a server one.
    expect(r.reason).toMatch(/webgpu/i);
    expect(r.reason).not.toMatch(/server/i);
  });

  test("{ location: 'server' } runs on /v2 with the same results, and sends the page's telemetry ids", async () => {
    inferRequests.length = 0;
    const r = await loadAndRun(page, 'tiny-mlp', { location: 'server', telemetry: { endpoint: '/v1/events', siteKey: 'demo' } });
    await expectServerAnswer(r, /location: 'server'/);
    expect(inferRequests).toHaveLength(1);
    const headers = await inferRequests[0].allHeaders();
    const ids = await page.evaluate(() => ({
      installId: localStorage.getItem('ondevice.installId'),
      sessionIds: (window as any).OnDevice.__testing.telemetrySessionIds(),
    }));
    expect(headers['x-ondevice-install-id']).toBe(ids.installId);
    expect(ids.sessionIds).toContain(headers['x-ondevice-session-id']);
    expect(inferRequests[0].url()).toBe(`${session.server.url}/v2/models/tiny-mlp/versions/1/infer`);
  });

  test('BACKEND_UNAVAILABLE (webgpu without an adapter) falls back; without fallback it still fails', async () => {
    const failed = await loadAndRun(page, 'tiny-mlp', { backend: 'webgpu' });
    expect(failed.error?.code).toBe('BACKEND_UNAVAILABLE');
    const r = await loadAndRun(page, 'tiny-mlp', { backend: 'webgpu', fallback: 'server' });
    await expectServerAnswer(r, /^BACKEND_UNAVAILABLE: /);
  });

  test('MODEL_LOAD_FAILED (bytes onnxruntime-web rejects, routed in the browser only) falls back', async () => {
    const { context, page: p } = await pageWith('');
    // Only this browser context sees garbage: the server still has the real file. The header passes the
    // "is this a model" check, so onnxruntime itself rejects it.
    const garbage = Buffer.concat([Buffer.from([0x08, 0x07, 0x12]), Buffer.alloc(3000, 0xff)]);
    await context.route('**/models/tiny-mlp.onnx', (route) =>
      route.fulfill({ status: 200, body: garbage, contentType: 'application/octet-stream' }),
    );
    try {
      const url = `${session.server.url}/models/tiny-mlp.onnx`;
      const failed = await loadAndRun(p, url, { backend: 'wasm', cache: false });
      expect(failed.error?.code).toBe('MODEL_LOAD_FAILED');
      const r = await loadAndRun(p, url, { backend: 'wasm', cache: false, fallback: 'server' });
      // A model by URL: its id is the file name, and its inputs come from the server's metadata.
      await expectServerAnswer(r, /^MODEL_LOAD_FAILED: /);
    } finally {
      await context.close();
    }
  });

  test('device memory below what the model needs falls back (navigator.deviceMemory)', async () => {
    // 0.004 GiB: half of it (assertFitsDeviceMemory's limit) is 2.1 MB; ppocr-v4-det is 4.7 MB, tiny-mlp 3 kB.
    const { context, page: p } = await pageWith(`Object.defineProperty(Navigator.prototype, 'deviceMemory', { get: () => 0.004 });`);
    try {
      const small = await loadAndRun(p, 'tiny-mlp', { fallback: 'server', backend: 'wasm' });
      expect(small.location).toBe('device');
      const r = await p.evaluate(async () => {
        const m = await (window as any).OnDevice.loadModel('ppocr-v4-det', { fallback: 'server', warmup: false });
        const out = await m.run({ x: { type: 'float32', data: new Float32Array(3 * 32 * 32).fill(0.5), dims: [1, 3, 32, 32] } });
        const t: any = Object.values(out)[0];
        const r = {
          location: m.location,
          backend: m.backend,
          reason: m.fallbackReason,
          dims: t.dims,
          type: t.type,
          workers: (window as any).OnDevice.__testing.workerCount(),
        };
        m.dispose();
        return r;
      });
      expect(r).toMatchObject({ location: 'server', backend: 'server', type: 'float32', dims: [1, 1, 32, 32], workers: 0 });
      expect(r.reason).toMatch(/^OUT_OF_MEMORY: .*0\.004 GiB/);
    } finally {
      await context.close();
    }
  });

  test('no usable WebAssembly (removed before the library loads) falls back', async () => {
    const { context, page: p } = await pageWith('delete globalThis.WebAssembly;');
    try {
      const r = await loadAndRun(p, 'tiny-mlp', { fallback: 'server' });
      await expectServerAnswer(r, /^NOT_SUPPORTED: WebAssembly/);
    } finally {
      await context.close();
    }
  });

  test('every dtype crosses to the server and back exactly as on the device (int64 beyond 2^53 included)', async () => {
    const entry = registry.find((e) => e.id === 'dtypes')! as unknown as ModelEntry;
    const dtypeFeeds = makeInputs(entry, { seed: 5 });
    (dtypeFeeds.i64.data as BigInt64Array).set([2n ** 60n + 1n, -(2n ** 62n), 9007199254740993n]);
    const r = await page.evaluate(async (wire) => {
      const w = (window as any).__wire;
      const { loadModel } = (window as any).OnDevice;
      const device = await loadModel('dtypes', { backend: 'wasm', warmup: false });
      const server = await loadModel('dtypes', { location: 'server' });
      const a = w.feedsToWire(await device.run(w.feedsFromWire(wire)));
      const b = w.feedsToWire(await server.run(w.feedsFromWire(wire)));
      device.dispose();
      server.dispose();
      return { a, b, inputs: server.inputs };
    }, feedsToWire(dtypeFeeds));
    expect(Object.keys(r.b).sort()).toEqual(Object.keys(r.a).sort());
    // Byte for byte, with the same typed-array kinds.
    for (const name of Object.keys(r.a)) expect(r.b[name], name).toEqual(r.a[name]);
    const i64 = feedsFromWire(r.b).i64_plus_1.data as BigInt64Array;
    expect(i64[0]).toBe(2n ** 60n + 2n);
    expect(i64[2]).toBe(9007199254740994n);
  });

  test('server-side errors are OnDeviceErrors with the same codes; the caller signal aborts with ABORTED', async () => {
    const r = await page.evaluate(async () => {
      const { loadModel, configure, getConfig } = (window as any).OnDevice;
      const codeOf = (p: Promise<unknown>) =>
        p.then(
          () => 'resolved',
          (e) => `${e.name}:${e.code}`,
        );
      const m = await loadModel('tiny-mlp', { location: 'server' });
      const wrongDims = await codeOf(m.run({ x: { type: 'float32', data: new Float32Array(15), dims: [1, 15] } }));
      const controller = new AbortController();
      const running = m.run({ x: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } }, { signal: controller.signal });
      controller.abort();
      const aborted = await codeOf(running);
      // A model the server does not have (by URL: its id is the file name): NOT_FOUND → MODEL_FETCH_FAILED.
      const unknown = await codeOf(loadModel('/models/no-such-model.onnx', { location: 'server' }));
      // A server that is not there.
      configure({ server: 'http://127.0.0.1:9/' });
      const unreachable = await codeOf(loadModel('tiny-mlp', { location: 'server' }));
      configure({ server: location.origin });
      const badServer = await codeOf(Promise.resolve().then(() => configure({ server: 'ftp://example.com/' })));
      m.dispose();
      return { wrongDims, aborted, unknown, unreachable, badServer, hasGetConfig: typeof getConfig };
    });
    expect(r).toMatchObject({
      wrongDims: 'OnDeviceError:INVALID_INPUT',
      aborted: 'OnDeviceError:ABORTED',
      unknown: 'OnDeviceError:MODEL_FETCH_FAILED',
      unreachable: 'OnDeviceError:MODEL_FETCH_FAILED',
      badServer: 'OnDeviceError:INVALID_INPUT',
    });
  });

  test('a busy server (503 QUEUE_FULL + Retry-After) is retried twice, then the run fails with TIMEOUT', async () => {
    const { context, page: p } = await pageWith('');
    let refusals = 0;
    let refuseUpTo = 2;
    await context.route('**/v2/models/tiny-mlp/versions/1/infer', (route) => {
      if (refusals >= refuseUpTo) return route.continue();
      refusals++;
      return route.fulfill({
        status: 503,
        headers: { 'retry-after': '1', 'content-type': 'application/json' },
        body: JSON.stringify({ error: 'the queue is full', code: 'QUEUE_FULL' }),
      });
    });
    try {
      const run = () =>
        p.evaluate(async () => {
          const m = await (window as any).OnDevice.loadModel('tiny-mlp', { location: 'server' });
          try {
            const out = await m.run({ x: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } });
            return { ok: Object.keys(out) };
          } catch (e: any) {
            return { code: e.code, details: e.details };
          } finally {
            m.dispose();
          }
        });
      expect(await run()).toEqual({ ok: ['probs'] });
      expect(refusals).toBe(2);
      refusals = 0;
      refuseUpTo = 3;
      expect(await run()).toMatchObject({ code: 'TIMEOUT', details: { status: 503, serverCode: 'QUEUE_FULL' } });
      expect(refusals).toBe(3);
    } finally {
      await context.close();
    }
  });

  test('a body the server refuses (400) maps to INVALID_INPUT with the server code in details', async () => {
    // The client validates feeds first, so send a request the server itself must refuse: the dtypes model
    // by its id, but loaded from a registry entry that claims a different input spec.
    const r = await page.evaluate(async () => {
      const { loadModel, fetchRegistry } = (window as any).OnDevice;
      const entry = (await fetchRegistry()).find((e: any) => e.id === 'tiny-mlp');
      const lying = { ...entry, inputs: [{ name: 'x', type: 'float32', shape: ['batch', 15] }] };
      const m = await loadModel(lying, { location: 'server' });
      try {
        await m.run({ x: { type: 'float32', data: new Float32Array(15), dims: [1, 15] } });
        return 'resolved';
      } catch (e: any) {
        return { name: e.name, code: e.code, details: e.details };
      } finally {
        m.dispose();
      }
    });
    expect(r).toMatchObject({ name: 'OnDeviceError', code: 'INVALID_INPUT', details: { status: 400, serverCode: 'INVALID_INPUT' } });
  });
});
