import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer } from '../helpers/spawnServer';
import { inferenceEvent } from './makeEvents';
import { postEvents, startCollector, type StartedCollector } from './startCollector';

const TOKEN = 'test-read-token-4f1c';
const READ_PATHS = ['/v1/summary', '/v1/alerts', '/metrics', '/dashboard', '/dashboard/data.json'];

/** GET with an explicit Host header (fetch does not let a caller set it), bounded. */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host }, timeout: 15_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

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

  it('answers the open loopback read side only for loopback Host names and COLLECTOR_ALLOWED_HOSTS (DNS rebinding)', async () => {
    const c = await startCollector({ env: { COLLECTOR_ALLOWED_HOSTS: 'collector.internal' } });
    try {
      const port = new URL(c.url).port;
      for (const path of READ_PATHS) {
        const rebound = await getWithHost(`${c.url}${path}`, `attacker.example:${port}`);
        expect([path, rebound.status]).toEqual([path, 403]);
        expect(JSON.parse(rebound.body)).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
        expect(rebound.body).not.toContain('ondevice_');
        for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'collector.internal']) {
          expect([path, host, (await getWithHost(`${c.url}${path}`, host)).status]).toEqual([path, host, 200]);
        }
      }
      // Ingest and health stay open to any Host: the site key gates ingest, health carries no data.
      expect((await getWithHost(`${c.url}/v1/health`, 'attacker.example')).status).toBe(200);
    } finally {
      await c.stop();
      c.cleanup();
    }
  });
});
