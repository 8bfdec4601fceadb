import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, type LaunchChromiumOptions } from './chromium';
import { spawnServer, type SpawnedServer } from './spawnServer';

/**
 * Start the real `npm start` server (src/start/main.ts, built dist/) on a free port.
 * `env` can turn off isolation headers (ONDEVICE_ISOLATION=0) or serve test fixtures (ONDEVICE_FIXTURES_DIR).
 */
export function startAppServer(env: Record<string, string> = {}): Promise<SpawnedServer> {
  // Each server gets its own collector database unless the test names one. A test file drives one browser
  // profile — one install id, shared by its pages and workers — through many runs, so the per-install event
  // limit (600 a minute; tested in test/collector/backdating.test.ts) is off unless the test sets it.
  const dbPath = path.join(mkdtempSync(path.join(tmpdir(), 'ondevice-app-')), 'collector.sqlite');
  return spawnServer(process.execPath, ['--import', 'tsx', 'src/start/main.ts'], {
    // No retraining unless the test configures it: a test's wrong feedback on digits must not start a
    // trainer (minutes of CPU) behind its back.
    env: {
      COLLECTOR_DB_PATH: dbPath,
      COLLECTOR_INSTALL_EVENTS_PER_MINUTE: '0',
      ONDEVICE_RETRAIN_CONFIG: 'test/fixtures/retrain-off.json',
      ...env,
    },
  });
}

export interface BrowserSession {
  server: SpawnedServer;
  browser: Browser;
  context: BrowserContext;
  /** Console errors and page errors seen so far. */
  errors: string[];
  /** A page at `path` on the app server, with console errors collected. */
  open(path?: string): Promise<Page>;
  close(): Promise<void>;
}

export async function startBrowserSession(options: LaunchChromiumOptions & { env?: Record<string, string> } = {}): Promise<BrowserSession> {
  const server = await startAppServer(options.env);
  const browser = await launchChromium(options);
  const context = await browser.newContext();
  const errors: string[] = [];
  return {
    server,
    browser,
    context,
    errors,
    async open(path = '/test-page.html') {
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      await page.goto(server.url + path);
      return page;
    },
    async close() {
      await browser.close().catch(() => undefined);
      await server.stop();
    },
  };
}
