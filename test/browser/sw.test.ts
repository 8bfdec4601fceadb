// The app's service worker in real Chromium against the real app server in-process on 127.0.0.1:
// cross-origin isolation on a host without COOP/COEP, the update prompt for a new deployment, and an
// installable web app manifest.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { BASE_FLAGS, CHROMIUM_PATH, launchChromium } from '../helpers/chromium';
import { DIST, startRecordingAppServer, type RecordingAppServer } from '../helpers/recordingAppServer';
import { waitFor } from '../helpers/waitFor';

let browser: Browser;
let server: RecordingAppServer | undefined;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A page expression, or undefined while the page is between two documents (the app reloads on its own). */
async function evaluateAcrossReloads<T>(page: Page, fn: () => T): Promise<T | undefined> {
  return page.evaluate(fn).catch(() => undefined);
}

describe('service worker', () => {
  test('on a host without COOP/COEP the page becomes cross-origin isolated once the worker controls it', async () => {
    server = await startRecordingAppServer({ isolation: false });
    const direct = await fetch(`${server.url}/`);
    expect(direct.headers.get('cross-origin-opener-policy')).toBeNull();
    expect(direct.headers.get('cross-origin-embedder-policy')).toBeNull();

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    // Not isolated on the first load; the app reloads once when the new worker takes control.
    await waitFor(
      'the worker to control an isolated page',
      () => evaluateAcrossReloads(page, () => navigator.serviceWorker.controller !== null && crossOriginIsolated),
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(await page.evaluate(() => typeof SharedArrayBuffer)).toBe('function');

    // Any page of the app is isolated now, and WASM threads work in the runtime worker.
    const other = await context.newPage();
    await other.goto(`${server.url}/test-page.html`);
    const result = await other.evaluate(async () => {
      const model = await (window as any).OnDevice.loadModel('tiny-mlp', { backend: 'wasm', threads: 2, warmup: false });
      const threads = model.info.threads;
      model.dispose();
      return { isolated: crossOriginIsolated, threads };
    });
    expect(result).toEqual({ isolated: true, threads: 2 });
    await context.close();
  });

  test('a new deployment shows an update prompt; the new code runs only after the user reloads', async () => {
    // Deployment 2 changes one precached file and, with it, the revision in sw.js.
    const swV1 = readFileSync(path.join(DIST, 'sw.js'), 'utf8');
    const revision = /"revision":"([0-9a-f]+)","url":"test-page\.html"/;
    expect(swV1).toMatch(revision);
    const swV2 = swV1.replace(revision, '"revision":"deployment-2","url":"test-page.html"');
    const pageV2 = readFileSync(path.join(DIST, 'test-page.html'), 'utf8').replace('</body>', '<p id="deployment">deployment 2</p></body>');
    let deployed = 1;
    server = await startRecordingAppServer({
      handlers: [
        (_req, res, url) => {
          if (deployed !== 2 || !['/sw.js', '/test-page.html'].includes(url.pathname)) return false;
          const isSw = url.pathname === '/sw.js';
          res.writeHead(200, { 'Content-Type': isSw ? 'text/javascript' : 'text/html', 'Cache-Control': 'no-cache' });
          res.end(isSw ? swV2 : pageV2);
          return true;
        },
      ],
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
    const servedPage = () => page.evaluate(() => fetch('/test-page.html').then((r) => r.text()));
    expect(await servedPage()).not.toContain('deployment 2');

    deployed = 2;
    await page.reload();
    const prompt = page.getByRole('alert').filter({ hasText: 'Update available' });
    await prompt.waitFor({ timeout: 60_000 });
    // Not swapped silently: until the user agrees, the old worker keeps serving the old build.
    expect(await servedPage()).not.toContain('deployment 2');

    await Promise.all([page.waitForEvent('load', { timeout: 30_000 }), prompt.getByRole('button', { name: 'Reload' }).click()]);
    await waitFor(
      'the update prompt to be gone after the reload',
      async () => (await evaluateAcrossReloads(page, () => document.querySelector('#update')?.textContent ?? null)) === '',
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(await servedPage()).toContain('deployment 2');
    await context.close();
  });

  test('the app is installable: manifest with name, start URL, standalone display, theme colour and PNG icons', async () => {
    server = await startRecordingAppServer();
    // Chromium never offers to install from an off-the-record profile (Playwright's newContext): use a real one.
    const profile = mkdtempSync(path.join(tmpdir(), 'ondevice-pwa-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...BASE_FLAGS, '--disable-gpu'],
    });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
    const cdp = await context.newCDPSession(page);
    const manifest = (await cdp.send('Page.getAppManifest')) as { errors: unknown[]; data?: string };
    expect(manifest.errors).toEqual([]);
    const parsed = JSON.parse(manifest.data!);
    expect(parsed).toMatchObject({ short_name: 'ondevice', start_url: '/', display: 'standalone', theme_color: '#2563eb' });
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: unknown[] };
    expect(installabilityErrors).toEqual([]);
    for (const icon of parsed.icons as { src: string; sizes: string }[]) {
      const response = await fetch(new URL(icon.src, `${server.url}/`));
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(bytes.subarray(1, 4).toString()).toBe('PNG');
      const size = Number(icon.sizes.split('x')[0]);
      expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([size, size]);
    }
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
});
