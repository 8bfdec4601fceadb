// Cross-origin embedding: a page on origin A loads `<script src="http://B/ondevice.js" integrity crossorigin>`
// from the app server on origin B. The worker is bootstrapped through a same-origin blob: module worker,
// the wasm and model files are CORS fetches, and the outputs equal onnxruntime-node's.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startAppServer } from '../helpers/appServer';
import { launchChromium } from '../helpers/chromium';
import { makeInputs } from '../helpers/inputs';
import { closeReferenceSessions, compareOutputs, runReference } from '../helpers/reference';
import type { SpawnedServer } from '../helpers/spawnServer';
import { feedsFromWire, feedsToWire, PAGE_WIRE_SOURCE, type WireTensor } from '../helpers/wire';
import registry from '../../models/registry.json';
import type { ModelEntry } from '../../src/registry/ModelEntry';

const entry = registry.find((e) => e.id === 'ppocr-v2-cls') as unknown as ModelEntry;
const integrity = (JSON.parse(readFileSync('dist/integrity.json', 'utf8')) as Record<string, string>)['ondevice.js'];
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

let libraryServer: SpawnedServer;
let pageServer: Server;
let pageOrigin: string;
let browser: Browser;

/** Origin A: serves one HTML page per path, with the headers the test asks for in the query string. */
function startPageServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const headers: Record<string, string> = { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' };
    if (url.searchParams.get('isolated') === '1') Object.assign(headers, ISOLATION);
    const csp = url.searchParams.get('csp');
    if (csp) headers['Content-Security-Policy'] = csp;
    const sri = url.searchParams.get('integrity') ?? integrity;
    // The worker-count hook lives in the test-only build (src/testing.ts), loaded after the SRI-checked
    // script and replacing its window.OnDevice; not on the page that checks a wrong integrity is refused.
    const hooks = url.searchParams.has('integrity')
      ? ''
      : `<script src="${libraryServer.url}/testing/ondevice.js" crossorigin="anonymous"></script>\n`;
    res.writeHead(200, headers);
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>origin A</title>
<script src="${libraryServer.url}/ondevice.js" integrity="${sri}" crossorigin="anonymous"></script>
${hooks}</head><body><p>Embedding page on origin A.</p></body></html>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  libraryServer = await startAppServer();
  pageServer = await startPageServer();
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await libraryServer?.stop();
  await new Promise((resolve) => pageServer?.close(resolve));
  await closeReferenceSessions();
});

async function openPage(query: Record<string, string> = {}): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(`${pageOrigin}/?${new URLSearchParams(query)}`);
  // Not addScriptTag: an inline script would be blocked by the CSP pages; evaluation is not.
  await page.evaluate(PAGE_WIRE_SOURCE);
  return { page, errors };
}

interface PageRun {
  outputs: Record<string, WireTensor>;
  backend: string;
  threads: number;
  threadsReason: string | undefined;
  crossOriginIsolated: boolean;
  workersAfterDispose: number;
}

function runInPage(page: Page, feeds: Record<string, WireTensor>, options: Record<string, unknown>): Promise<PageRun> {
  return page.evaluate(
    async ({ feeds, options }) => {
      const w = (window as any).__wire;
      const { loadModel, __testing } = (window as any).OnDevice;
      const model = await loadModel('ppocr-v2-cls', { warmup: false, ...options });
      const out = await model.run(w.feedsFromWire(feeds));
      model.dispose();
      const deadline = performance.now() + 5000;
      while (__testing.workerCount() > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return {
        outputs: w.feedsToWire(out),
        backend: model.backend,
        threads: model.info.threads,
        threadsReason: model.info.threadsReason,
        crossOriginIsolated,
        workersAfterDispose: __testing.workerCount(),
      };
    },
    { feeds, options },
  );
}

describe('ondevice.js embedded from another origin', () => {
  const feeds = makeInputs(entry, { seed: 7 });

  test('the page and the script really are on different origins', () => {
    expect(new URL(pageOrigin).origin).not.toBe(new URL(libraryServer.url).origin);
  });

  test('without cross-origin isolation: single-threaded, reason reported, outputs equal onnxruntime-node', async () => {
    const { page, errors } = await openPage();
    const result = await runInPage(page, feedsToWire(feeds), { backend: 'wasm', threads: 2 });
    expect(result.crossOriginIsolated).toBe(false);
    expect(result.threads).toBe(1);
    expect(result.threadsReason).toMatch(/not cross-origin isolated/);
    expect(result.workersAfterDispose).toBe(0);
    expect(compareOutputs(feedsFromWire(result.outputs), await runReference(entry, feeds))).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('with cross-origin isolation: two WASM threads (onnxruntime preloads its glue as blob:), outputs equal', async () => {
    const { page, errors } = await openPage({ isolated: '1' });
    const result = await runInPage(page, feedsToWire(feeds), { backend: 'wasm', threads: 2 });
    expect(result.crossOriginIsolated).toBe(true);
    expect(result.threads).toBe(2);
    expect(result.threadsReason).toBeUndefined();
    expect(compareOutputs(feedsFromWire(result.outputs), await runReference(entry, feeds))).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('WebGPU (SwiftShader) from the other origin: the asyncify glue is preloaded as blob: too; outputs equal', async () => {
    const tiny = registry.find((e) => e.id === 'tiny-mlp') as unknown as ModelEntry;
    const tinyFeeds = makeInputs(tiny, { seed: 5 });
    const gpuBrowser = await launchChromium({ webgpu: true });
    try {
      const page = await gpuBrowser.newPage();
      await page.goto(`${pageOrigin}/?isolated=1`);
      await page.evaluate(PAGE_WIRE_SOURCE);
      const result = await page.evaluate(async (feeds) => {
        const w = (window as any).__wire;
        const model = await (window as any).OnDevice.loadModel('tiny-mlp', { backend: 'webgpu', threads: 2 });
        const out = await model.run(w.feedsFromWire(feeds));
        model.dispose();
        return { backend: model.backend, threads: model.info.threads, outputs: w.feedsToWire(out) };
      }, feedsToWire(tinyFeeds));
      expect(result).toMatchObject({ backend: 'webgpu', threads: 2 });
      expect(compareOutputs(feedsFromWire(result.outputs), await runReference(tiny, tinyFeeds), { atol: 1e-4, rtol: 1e-3 })).toEqual([]);
    } finally {
      await gpuBrowser.close();
    }
  });

  test('backend auto falls back to WASM with a reason (no WebGPU in this browser)', async () => {
    const { page, errors } = await openPage();
    const result = await page.evaluate(async () => {
      const model = await (window as any).OnDevice.loadModel('tiny-mlp');
      const info = { backend: model.backend, fallbackReason: model.fallbackReason };
      model.dispose();
      return info;
    });
    expect(result.backend).toBe('wasm');
    expect(result.fallbackReason).toMatch(/WebGPU/);
    expect(errors).toEqual([]);
    await page.close();
  });

  // The directives docs/embedding.md documents for cross-origin embedding (its CSP section).
  test('works under the CSP the docs give for cross-origin embedding, with and without threads', async () => {
    const b = libraryServer.url;
    const single = `script-src 'self' ${b} 'wasm-unsafe-eval'; worker-src blob:; connect-src ${b}`;
    const threaded = `script-src 'self' ${b} blob: 'wasm-unsafe-eval'; worker-src blob:; connect-src ${b}`;
    for (const [query, options] of [
      [{ csp: single }, { backend: 'wasm' }],
      [
        { csp: threaded, isolated: '1' },
        { backend: 'wasm', threads: 2 },
      ],
    ] as const) {
      const { page, errors } = await openPage(query);
      const result = await runInPage(page, feedsToWire(feeds), options);
      expect(compareOutputs(feedsFromWire(result.outputs), await runReference(entry, feeds))).toEqual([]);
      expect(errors).toEqual([]);
      await page.close();
    }
  });

  test('a wrong integrity hash blocks the script (SRI is enforced)', async () => {
    const { page, errors } = await openPage({ integrity: 'sha384-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    expect(await page.evaluate(() => typeof (window as any).OnDevice)).toBe('undefined');
    expect(errors.join('\n')).toMatch(/integrity/i);
    await page.close();
  });
});
