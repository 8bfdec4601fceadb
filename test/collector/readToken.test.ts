import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer } from '../helpers/spawnServer';
import { inferenceEvent } from './makeEvents';
import { postEvents, startCollector, type StartedCollector } from './startCollector';

const TOKEN = 'test-read-token-4f1c';
const READ_PATHS = ['/v1/summary', '/v1/alerts', '/metrics', '/dashboard', '/dashboard/data.json'];

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

describe('read-side token on a non-loopback bind', () => {
  let c: StartedCollector;

  beforeAll(async () => {
    // 0.0.0.0 listens on every interface, so it is non-loopback, yet the test can still talk to it over
    // 127.0.0.1 (binding the eth address alone would force traffic to that address).
    c = await startCollector({ env: { HOST: '0.0.0.0', COLLECTOR_READ_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await c?.stop();
    c?.cleanup();
  });

  it('answers 401 without a token and 200 with it', async () => {
    expect(c.server.url).toMatch(/^http:\/\/0\.0\.0\.0:/);
    for (const path of READ_PATHS) {
      const none = await fetch(`${c.url}${path}`);
      expect([path, none.status]).toEqual([path, 401]);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const wrong = await fetch(`${c.url}${path}`, { headers: { authorization: 'Bearer nope' } });
      expect([path, wrong.status]).toEqual([path, 401]);
      const ok = await fetch(`${c.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect([path, ok.status]).toEqual([path, 200]);
    }
  });

  it('accepts ?token= for the dashboard page only', async () => {
    expect((await fetch(`${c.url}/dashboard?token=${TOKEN}`)).status).toBe(200);
    expect((await fetch(`${c.url}/dashboard?token=nope`)).status).toBe(401);
    expect((await fetch(`${c.url}/v1/summary?token=${TOKEN}`)).status).toBe(401);
  });

  it('keeps ingest and the dashboard assets open (the site key gates ingest)', async () => {
    expect((await postEvents(c.url, { siteKey: 'demo', events: [inferenceEvent()] })).status).toBe(200);
    expect((await fetch(`${c.url}/dashboard/uPlot.iife.min.js`)).status).toBe(200);
    expect((await fetch(`${c.url}/v1/health`)).status).toBe(200);
  });
});

describe('read-side token configuration', () => {
  it('refuses to start on a non-loopback address without a token', async () => {
    // No traffic: the process must exit before it listens.
    const host = externalAddress() ?? '0.0.0.0';
    const started = spawnServer(process.execPath, ['--import', 'tsx', 'src/collector/main.ts'], {
      env: { HOST: host, COLLECTOR_READ_TOKEN: '', COLLECTOR_DB_PATH: ':memory:' },
      timeoutMs: 20_000,
    });
    await expect(started).rejects.toThrow(/read token is required/);
  });

  it('leaves the read side open on loopback', async () => {
    const c = await startCollector();
    try {
      for (const path of READ_PATHS) expect([path, (await fetch(`${c.url}${path}`)).status]).toEqual([path, 200]);
    } finally {
      await c.stop();
      c.cleanup();
    }
  });

  it('requires the token on loopback with COLLECTOR_REQUIRE_TOKEN=1', async () => {
    const c = await startCollector({ env: { COLLECTOR_REQUIRE_TOKEN: '1', COLLECTOR_READ_TOKEN: TOKEN } });
    try {
      expect((await fetch(`${c.url}/v1/summary`)).status).toBe(401);
      expect((await fetch(`${c.url}/v1/summary`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    } finally {
      await c.stop();
      c.cleanup();
    }
  });
});
