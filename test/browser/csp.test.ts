// Same-origin use under a strict Content-Security-Policy: no 'unsafe-eval', no blob: workers or scripts.
// The app server sends the header on every response (ONDEVICE_CSP), including the worker scripts.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { makeInputs } from '../helpers/inputs';
import { closeReferenceSessions, compareOutputs, runReference } from '../helpers/reference';
import { feedsFromWire, feedsToWire, PAGE_WIRE_SOURCE, type WireTensor } from '../helpers/wire';
import registry from '../../models/registry.json';
import type { ModelEntry } from '../../src/registry/ModelEntry';

const STRICT_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:";
const entryOf = (id: string) => registry.find((e) => e.id === id) as unknown as ModelEntry;

let session: BrowserSession;

beforeAll(async () => {
  session = await startBrowserSession({ env: { ONDEVICE_CSP: STRICT_CSP } });
  // test-page.html has no icon; Chromium's /favicon.ico request would log a 404 console error.
  await session.context.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
});

afterAll(async () => {
  await session?.close();
  await closeReferenceSessions();
});

async function openStrict(path: string): Promise<Page> {
  const page = await session.open(path);
  const response = await page.request.get(session.server.url + path);
  expect(response.headers()['content-security-policy']).toBe(STRICT_CSP);
  return page;
}

function runInPage(page: Page, id: string, feeds: Record<string, WireTensor>, options: Record<string, unknown>) {
  return page.evaluate(
    async ({ id, feeds, options }) => {
      const w = (window as any).__wire;
      const model = await (window as any).OnDevice.loadModel(id, options);
      try {
        return { outputs: w.feedsToWire(await model.run(w.feedsFromWire(feeds))), threads: model.info.threads as number };
      } finally {
        model.dispose();
      }
    },
    { id, feeds, options },
  );
}

describe('strict CSP, same origin', () => {
  test('script-src self + wasm-unsafe-eval, worker-src self: models load and match onnxruntime-node, with threads', async () => {
    const page = await openStrict('/test-page.html');
    // An inline script would be blocked by this very policy; evaluation from the test is not.
    await page.evaluate(PAGE_WIRE_SOURCE);
    for (const [id, threads] of [
      ['tiny-mlp', 1],
      ['ppocr-v2-cls', 2],
    ] as const) {
      const entry = entryOf(id);
      const feeds = makeInputs(entry, { seed: 3 });
      const result = await runInPage(page, id, feedsToWire(feeds), { backend: 'wasm', threads, warmup: true });
      expect(result.threads).toBe(threads);
      expect(compareOutputs(feedsFromWire(result.outputs), await runReference(entry, feeds))).toEqual([]);
    }
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(session.errors).toEqual([]);
    await page.close();
  });

  test('backend auto and the <ondevice-model> element work too (WebGPU probe falls back cleanly)', async () => {
    const page = await openStrict('/test-page.html');
    const result = await page.evaluate(async () => {
      const el = document.createElement('ondevice-model');
      el.setAttribute('src', 'tiny-mlp');
      document.body.append(el);
      const model = await el.whenReady();
      const out = await el.run({ x: { type: 'float32', data: new Float32Array(16).fill(0.5), dims: [1, 16] } });
      const summary = { backend: el.backend, fallbackReason: el.fallbackReason, dims: out.probs.dims, id: model.id };
      el.remove();
      return summary;
    });
    expect(result).toMatchObject({ backend: 'wasm', dims: [1, 4], id: 'tiny-mlp' });
    expect(result.fallbackReason).toMatch(/WebGPU/);
    expect(session.errors).toEqual([]);
    await page.close();
  });

  test('the demo app works under the same policy: OCR and VAD in its pipeline worker, no violations', async () => {
    const page = await openStrict('/#ocr');
    await page.click('#ocr-sample');
    await page.waitForFunction(() => document.getElementById('ocr-result')?.dataset.state === 'done', undefined, { timeout: 120_000 });
    expect(await page.locator('#ocr-lines li').count()).toBe(6);
    await page.click('#tab-vad');
    await page.click('#vad-sample');
    await page.waitForFunction(() => document.getElementById('vad-result')?.dataset.state === 'done', undefined, { timeout: 120_000 });
    expect(await page.locator('#vad-segments tbody tr').count()).toBe(4);
    expect(session.errors).toEqual([]);
    await page.close();
  });
});
