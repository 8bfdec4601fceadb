// The demo PWA in real Chromium: every tab at desktop (1280×800) and phone (390×844) widths, with its
// key elements visible, no horizontal overflow, no console errors; screenshots go to test-results/.
// Also: keyboard tabs, the playground's WASM/WebGPU comparison, keeping a dropped model on the device, and
// that the demo downloads a tab's models only when that tab is opened.
import { mkdirSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';

const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
const SCREENSHOTS = 'test-results';

let session: BrowserSession;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  session = await startBrowserSession();
});

afterAll(async () => {
  await session?.close();
});

async function openApp(hash: string, viewport: keyof typeof VIEWPORTS): Promise<Page> {
  const page = await session.open(`/#${hash}`);
  await page.setViewportSize(VIEWPORTS[viewport]);
  await page.getByRole('tab', { name: 'OCR' }).waitFor();
  return page;
}

async function expectVisible(page: Page, selectors: string[]): Promise<void> {
  for (const selector of selectors) expect(await page.locator(selector).first().isVisible(), selector).toBe(true);
}

async function expectFitsWidth(page: Page): Promise<void> {
  const { scrollWidth, viewportWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    viewportWidth: window.innerWidth,
  }));
  expect(scrollWidth).toBeLessThanOrEqual(viewportWidth);
}

async function waitForResult(page: Page, id: string): Promise<void> {
  await page.waitForFunction((id) => ['done', 'failed'].includes(document.getElementById(id)?.dataset.state ?? ''), id, {
    timeout: 120_000,
  });
  expect(await page.getAttribute(`#${id}`, 'data-state')).toBe('done');
}

/** The model files (as served under /models/) of the given registry ids. */
/** The files the demo fetches for `ids` on WASM (this browser has no WebGPU): a model's pre-optimised copy when it has one. */
function modelPaths(ids: string[]): string[] {
  const registry = JSON.parse(readFileSync('models/registry.json', 'utf8')) as { id: string; file: string; optimized?: { file: string } }[];
  return ids
    .map((id) => registry.find((e) => e.id === id)!)
    .map((e) => `/models/${(e.optimized ?? e).file}`)
    .sort();
}

describe('demo app tabs', () => {
  test('opening / downloads no model and starts no worker; opening a tab loads exactly its models', async () => {
    // A first visit: its own context, so no stored model and no service worker from the other tests.
    const context = await session.browser.newContext();
    const modelRequests: string[] = [];
    context.on('request', (request) => {
      const { pathname } = new URL(request.url());
      if (pathname.endsWith('.onnx')) modelRequests.push(pathname);
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => void (m.type() === 'error' && errors.push(`console: ${m.text()}`)));
    const workers: string[] = [];
    page.on('worker', (worker) => workers.push(worker.url()));
    await page.goto(`${session.server.url}/`);
    // The app has started (its storage panel has read the store) and installed its service worker, which
    // happens after the page's load event: by then a page that loads models ahead of use has started to.
    await page.locator('#storage').filter({ hasText: 'Storage:' }).waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
    expect(modelRequests).toEqual([]);
    expect(workers).toEqual([]);
    expect(await page.isVisible('#panel-ocr')).toBe(true);
    expect(await page.textContent('#ocr-models-state')).toBe('models load when you use this tab');

    await page.click('#tab-vad');
    await page.locator('#vad-models-state').filter({ hasText: 'ready' }).waitFor({ timeout: 120_000 });
    expect(modelRequests.sort()).toEqual(modelPaths(['silero-vad-v5']));
    expect(await page.textContent('#ocr-models-state')).toBe('models load when you use this tab');

    await page.click('#tab-playground');
    await page.locator('#model option[value="tiny-mlp"]').waitFor({ state: 'attached', timeout: 30_000 });
    await page.click('#tab-ocr');
    await page.locator('#ocr-models-state').filter({ hasText: 'ready' }).waitFor({ timeout: 120_000 });
    expect(modelRequests.sort()).toEqual(modelPaths(['silero-vad-v5', 'ppocr-v4-det', 'ppocr-v2-cls', 'ppocr-v4-rec']));
    expect(errors).toEqual([]);
    await context.close();
  }, 300_000);

  test("the service worker's first install waits for the models a tab is loading", async () => {
    // A first visit straight to a tab: its models start loading at once, and the runtime download of the
    // service worker's install (~41 MB) must not compete with them.
    const context = await session.browser.newContext();
    await context.addInitScript(() => {
      const register = ServiceWorkerContainer.prototype.register;
      ServiceWorkerContainer.prototype.register = function (...args: Parameters<typeof register>) {
        (window as any).__swRegisteredAt = Date.now();
        return register.apply(this, args);
      };
    });
    let modelFinishedAt = 0;
    context.on('requestfinished', (request) => {
      if (new URL(request.url()).pathname.endsWith('.onnx')) modelFinishedAt = Math.max(modelFinishedAt, Date.now());
    });
    const page = await context.newPage();
    await page.goto(`${session.server.url}/#vad`);
    await page.locator('#vad-models-state').filter({ hasText: 'ready' }).waitFor({ timeout: 120_000 });
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
    const registeredAt: number = await page.evaluate(() => (window as any).__swRegisteredAt);
    expect(modelFinishedAt).toBeGreaterThan(0);
    expect(registeredAt).toBeGreaterThanOrEqual(modelFinishedAt);
    await context.close();
  }, 240_000);

  for (const viewport of Object.keys(VIEWPORTS) as (keyof typeof VIEWPORTS)[]) {
    test(`OCR tab (${viewport}): models load with badges, the sample is read and boxed`, async () => {
      const page = await openApp('ocr', viewport);
      await page.locator('#ocr-models-state').filter({ hasText: 'ready' }).waitFor({ timeout: 120_000 });
      await page.click('#ocr-sample');
      await waitForResult(page, 'ocr-result');
      await expectVisible(page, [
        '#tab-ocr[aria-selected="true"]',
        '#network',
        'label[for="ocr-backend"]',
        '#ocr-models .badge.wasm',
        '#ocr-reasons .reason',
        'label[for="ocr-file"]',
        '#ocr-sample',
        '#ocr-canvas',
        '#ocr-lines li',
        '#ocr-copy',
        '#ocr-timings',
      ]);
      expect(await page.locator('#ocr-lines li').count()).toBe(6);
      await expectFitsWidth(page);
      await page.screenshot({ path: `${SCREENSHOTS}/app-ocr-${viewport}.png`, fullPage: true });
      expect(session.errors).toEqual([]);
      await page.close();
    });

    test(`Voice activity tab (${viewport}): the sample clip's segments on the timeline`, async () => {
      const page = await openApp('vad', viewport);
      await page.locator('#vad-models-state').filter({ hasText: 'ready' }).waitFor({ timeout: 120_000 });
      await page.click('#vad-sample');
      await waitForResult(page, 'vad-result');
      await expectVisible(page, [
        '#tab-vad[aria-selected="true"]',
        'label[for="vad-backend"]',
        '#vad-models .badge.wasm',
        'label[for="vad-file"]',
        '#vad-mic',
        '#vad-timeline',
        '#vad-audio',
        '#vad-segments tbody tr',
        '#vad-timings',
      ]);
      expect(await page.locator('#vad-segments tbody tr').count()).toBe(4);
      await expectFitsWidth(page);
      await page.screenshot({ path: `${SCREENSHOTS}/app-vad-${viewport}.png`, fullPage: true });
      expect(session.errors).toEqual([]);
      await page.close();
    });

    test(`Playground tab (${viewport}): a dropped model runs on WASM, WebGPU's absence is explained`, async () => {
      const page = await openApp('playground', viewport);
      await page.setInputFiles('#pg-file', 'public/models/tiny-mlp.onnx');
      await page.locator('#pg-io tbody tr').first().waitFor({ timeout: 60_000 });
      expect(await page.locator('#pg-io tbody').textContent()).toMatch(/x.*float32.*\[batch, 16\].*probs/s);
      await page.click('#pg-run');
      await waitForResult(page, 'pg-compare');
      const table = (await page.textContent('#pg-compare'))!;
      expect(table).toMatch(/Median of 5 runs\s*[\d.]+ ms/);
      expect(table).toMatch(/WebGPU failed.*not available in this browser.*BACKEND_UNAVAILABLE/s);
      await page.locator('#model option[value="tiny-mlp"]').waitFor({ state: 'attached' });
      await expectVisible(page, [
        '#tab-playground[aria-selected="true"]',
        'label[for="pg-file"]',
        '#pg-io',
        '#pg-dims input',
        '#pg-run',
        '#pg-store',
        '#pg-compare',
        '#model',
        '#load',
      ]);
      await expectFitsWidth(page);
      await page.screenshot({ path: `${SCREENSHOTS}/app-playground-${viewport}.png`, fullPage: true });
      expect(session.errors).toEqual([]);
      await page.close();
    });
  }

  test('tabs work from the keyboard and follow the URL hash', async () => {
    const page = await openApp('ocr', 'desktop');
    await page.focus('#tab-ocr');
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => [document.activeElement?.id, location.hash])).toEqual(['tab-vad', '#vad']);
    expect(await page.isVisible('#panel-vad')).toBe(true);
    expect(await page.isVisible('#panel-ocr')).toBe(false);
    await page.keyboard.press('End');
    expect(await page.evaluate(() => location.hash)).toBe('#playground');
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => location.hash)).toBe('#ocr');
    await page.evaluate(() => (location.hash = '#vad'));
    await page.locator('#tab-vad[aria-selected="true"]').waitFor();
    expect(session.errors).toEqual([]);
    await page.close();
  });

  test('a dropped model kept on the device is listed under Stored models and opens again after a reload', async () => {
    const page = await openApp('playground', 'desktop');
    await page.setInputFiles('#pg-file', 'public/models/tiny-mlp.onnx');
    await page.locator('#pg-io tbody tr').first().waitFor({ timeout: 60_000 });
    await page.click('#pg-store');
    await page.locator('#pg-status').filter({ hasText: 'kept on this device' }).waitFor({ timeout: 30_000 });
    await page.reload();
    expect(await page.getAttribute('#storage-panel', 'open')).not.toBeNull(); // the cache manager is open on every tab
    const open = page.getByRole('button', { name: 'Open local:tiny-mlp.onnx in the playground' });
    await open.waitFor({ timeout: 30_000 });
    await open.click();
    await page.locator('#pg-io tbody tr').first().waitFor({ timeout: 60_000 });
    expect(await page.textContent('#pg-status')).toContain('tiny-mlp.onnx');
    await page.getByRole('button', { name: 'Delete local:tiny-mlp.onnx' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Delete local:tiny-mlp.onnx' }).count()).toBe(0);
    expect(session.errors).toEqual([]);
    await page.close();
  });

  test('a failure inside the pipeline worker reaches the page as OnDeviceError with its code', async () => {
    // The VAD model (its pre-optimised copy too) answers 404: loadModel fails in the pipeline worker, and the tab explains the code.
    const context = await session.browser.newContext({ serviceWorkers: 'block' });
    await context.route('**/models/silero_vad_v5*.onnx', (route) => route.fulfill({ status: 404, body: 'gone' }));
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${session.server.url}/#vad`);
    await page.locator('#vad-error[data-code]').waitFor({ timeout: 60_000 });
    expect(await page.getAttribute('#vad-error', 'data-code')).toBe('MODEL_FETCH_FAILED');
    expect(await page.textContent('#vad-error')).toMatch(/could not be downloaded.*MODEL_FETCH_FAILED: .*404/s);
    expect(await page.textContent('#vad-models-state')).toBe('models failed to load');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  test('an error is explained in words for its code, never a blank page', async () => {
    const page = await openApp('playground', 'desktop');
    await page.setInputFiles('#pg-file', {
      name: 'broken.onnx',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from([0x08, 0x07, 0x12, 0xff, 0xff, 0x01, ...Array(200).fill(0x5a)]),
    });
    await page.locator('#pg-error[data-code]').waitFor({ timeout: 30_000 });
    expect(await page.getAttribute('#pg-error', 'data-code')).toBe('MODEL_LOAD_FAILED');
    expect(await page.textContent('#pg-error')).toContain('not a model onnxruntime can open');
    expect(session.errors).toEqual([]);
    await page.close();
  });
});
