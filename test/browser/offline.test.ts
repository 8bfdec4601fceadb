// The demo app offline: after one online visit (service worker installed, model stored), a reload with
// the network off opens the app, loads the model from IndexedDB and runs it, and no request the app makes
// reaches the network: the server's log has none and every page request is answered by the service worker.
// "Off" is both Playwright's offline emulation and a server that drops every connection, like a network
// that is not there. Chromium's own service-worker update check (sw.js, fetched by the browser process
// after a navigation) escapes the emulation: the server sees that attempt, drops it, and nothing else.
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchChromium } from '../helpers/chromium';
import { startRecordingAppServer, type RecordingAppServer } from '../helpers/recordingAppServer';

let server: RecordingAppServer;
let browser: Browser;
let context: BrowserContext;
let networkDown = false;
/** Paths of the requests that reached the server while the network was down (each one dropped). */
const reachedWhileDown: string[] = [];

beforeAll(async () => {
  server = await startRecordingAppServer({
    handlers: [
      (req, _res, url) => {
        if (!networkDown) return false;
        reachedWhileDown.push(url.pathname);
        req.socket.destroy();
        return true;
      },
    ],
  });
  browser = await launchChromium();
  context = await browser.newContext();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Load tiny-mlp in the app's UI and run it on the sample input; returns the output row text. */
async function loadAndRunInApp(page: Page): Promise<{ info: string; output: string }> {
  await page.locator('#model option[value="tiny-mlp"]').waitFor({ state: 'attached', timeout: 30_000 });
  await page.selectOption('#model', 'tiny-mlp');
  await page.selectOption('#backend', 'wasm');
  await page.click('#load');
  await expect.poll(() => page.textContent('#status'), { timeout: 60_000 }).toBe('ready');
  await page.click('#run');
  await page.locator('#outputs th').first().waitFor({ timeout: 30_000 });
  return { info: (await page.textContent('#backend-info')) ?? '', output: (await page.textContent('#outputs')) ?? '' };
}

test('the app opens, loads its model from the store and runs it offline, with zero network requests', async () => {
  const page = await context.newPage();
  await page.goto(`${server.url}/#playground`);
  // The first install claims the page; the host sends COOP/COEP, so no reload is needed.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
  const online = await loadAndRunInApp(page);
  expect(online.info).not.toContain('From the device store');
  expect(server.requestsFor('/models/tiny-mlp.onnx')).toHaveLength(1);

  await context.setOffline(true);
  networkDown = true;
  // The page learns it is offline asynchronously; a real offline browser already knows when the user
  // reloads (the telemetry client then keeps its unload flush in IndexedDB instead of sending it).
  await expect.poll(() => page.evaluate(() => navigator.onLine)).toBe(false);
  // From here the page knows it is offline: a request it sent before (a telemetry batch in the moment between
  // the emulation switching and the page learning of it) may still reach the server, dropped and retried later.
  const downFrom = reachedWhileDown.length;
  const pageRequests: Request[] = [];
  page.on('request', (r) => pageRequests.push(r));
  await page.reload();
  await expect.poll(() => page.textContent('#network')).toBe('offline');
  const offline = await loadAndRunInApp(page);
  expect(offline.info).toContain('From the device store');
  expect(offline.output).toBe(online.output);

  // Counted where they arrive, from the moment the page knew it was offline.
  expect(reachedWhileDown.slice(downFrom).filter((path) => path !== '/sw.js')).toEqual([]);
  const fetched = pageRequests.filter((r) => /^https?:/.test(r.url()));
  // The document, app bundle, library, runtime worker, onnxruntime files and the registry at least.
  expect(fetched.map((r) => new URL(r.url()).pathname)).toEqual(
    expect.arrayContaining(['/', '/ondevice-worker.mjs', '/ort/ort-wasm-simd-threaded.wasm', '/models/registry.json']),
  );
  for (const r of fetched) {
    const response = await r.response();
    expect({ url: r.url(), fromServiceWorker: response?.fromServiceWorker() ?? false }).toEqual({ url: r.url(), fromServiceWorker: true });
  }

  // The app's store panel lists the model with its size and deletes it (offline too).
  const row = page.locator('#stored tr', { hasText: 'tiny-mlp' });
  await expect.poll(() => row.textContent()).toContain('3 kB');
  expect(await page.textContent('#storage')).toMatch(/Storage: .* in models, .* used, .* available/);
  await row.getByRole('button', { name: 'Delete tiny-mlp' }).click();
  await expect.poll(() => row.count()).toBe(0);
  expect(await page.evaluate(() => indexedDB.databases().then((dbs) => dbs.map((d) => d.name)))).toContain('ondevice-models');
});
