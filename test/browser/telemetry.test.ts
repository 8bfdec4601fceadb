// Field telemetry end to end: a real page, the real `npm start` server with its collector, events
// counted in the collector's SQLite database.
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';

const dbPath = path.join(mkdtempSync(path.join(tmpdir(), 'ondevice-telemetry-')), 'collector.sqlite');
let session: BrowserSession;

beforeAll(async () => {
  session = await startBrowserSession({ env: { COLLECTOR_DB_PATH: dbPath } });
});
afterAll(async () => {
  await session?.close();
});

function countEvents(sessionIds: string[]): { total: number; distinct: number; byType: Record<string, number> } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const marks = sessionIds.map(() => '?').join(',');
    const rows = db
      .prepare(`SELECT type, count(*) AS n, count(DISTINCT id) AS d FROM events WHERE session_id IN (${marks}) GROUP BY type`)
      .all(...sessionIds) as {
      type: string;
      n: number;
      d: number;
    }[];
    return {
      total: rows.reduce((a, r) => a + r.n, 0),
      distinct: rows.reduce((a, r) => a + r.d, 0),
      byType: Object.fromEntries(rows.map((r) => [r.type, r.n])),
    };
  } finally {
    db.close();
  }
}

async function waitFor<T>(fn: () => T, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let value = fn();
  while (!ok(value) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    value = fn();
  }
  return value;
}

/** Configure telemetry, load tiny-mlp and run it `runs` times; returns the telemetry session id. */
async function runModel(page: Page, runs: number): Promise<string> {
  return page.evaluate(async (runs) => {
    const { configure, loadModel } = (window as any).OnDevice;
    configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo' } });
    const m = await loadModel('tiny-mlp', { backend: 'wasm', warmup: false });
    (window as any).__model = m;
    for (let i = 0; i < runs; i++) await m.run({ x: { type: 'float32', data: new Float32Array(16).fill(i / 10), dims: [1, 16] } });
    // The telemetry client of this page (one per endpoint).
    return (window as any).OnDevice.__testing.telemetrySessionIds()[0];
  }, runs);
}

describe('telemetry', () => {
  test('a page that runs a model and is closed delivers its events (pagehide beacon)', async () => {
    const page = await session.open('/test-page.html');
    const sessionId = await runModel(page, 5);
    // Well inside the 5 s flush interval: only the pagehide flush can deliver them.
    await page.close({ runBeforeUnload: true });
    const counts = await waitFor(
      () => countEvents([sessionId]),
      (c) => (c.byType.inference ?? 0) >= 5 && (c.byType.model_load ?? 0) >= 1,
    );
    expect(counts.byType.inference).toBe(5);
    expect(counts.byType.model_load).toBe(1);
    expect(counts.total).toBe(counts.distinct);
  });

  test('offline: events are queued and delivered after reconnect and reload, 0 lost, 0 duplicated', async () => {
    const page = await session.open('/test-page.html');
    // Load while online (the model is fetched), then lose the network.
    const sessionId = await runModel(page, 0);
    await session.context.setOffline(true);
    const runs = 12;
    try {
      const queued = await page.evaluate(async (runs) => {
        const model = (window as any).__model;
        for (let i = 0; i < runs; i++) await model.run({ x: { type: 'float32', data: new Float32Array(16).fill(i), dims: [1, 16] } });
        await (window as any).OnDevice.flushTelemetry(); // fails: offline
        // What IndexedDB holds now is what survives this page.
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const r = indexedDB.open('ondevice-telemetry');
          r.onsuccess = () => resolve(r.result);
          r.onerror = () => reject(r.error);
        });
        const events = await new Promise<any[]>((resolve) => {
          const r = db.transaction('events').objectStore('events').getAll();
          r.onsuccess = () => resolve(r.result);
        });
        db.close();
        return events.filter((e) => e.type === 'inference').length;
      }, runs);
      expect(queued).toBe(runs);
      expect(countEvents([sessionId]).byType.inference ?? 0).toBe(0);
    } finally {
      await session.context.setOffline(false);
    }
    await page.reload();
    await page.evaluate(async () => {
      (window as any).OnDevice.configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo' } });
      await new Promise((r) => setTimeout(r, 500));
      await (window as any).OnDevice.flushTelemetry();
    });
    const counts = await waitFor(
      () => countEvents([sessionId]),
      (c) => (c.byType.inference ?? 0) >= runs,
    );
    expect(counts.byType.inference).toBe(runs);
    expect(counts.byType.model_load).toBe(1);
    expect(counts.total).toBe(counts.distinct);
    // Everything acknowledged has left the queue.
    const left = await page.evaluate(async () => {
      await (window as any).OnDevice.flushTelemetry();
      const db = await new Promise<IDBDatabase>((resolve) => {
        const r = indexedDB.open('ondevice-telemetry');
        r.onsuccess = () => resolve(r.result);
      });
      const n = await new Promise<number>((resolve) => {
        const r = db.transaction('events').objectStore('events').count();
        r.onsuccess = () => resolve(r.result);
      });
      db.close();
      return n;
    });
    expect(left).toBe(0);
    await page.close();
  });

  test('opt-out: a model loaded with telemetry: false reports nothing', async () => {
    const page = await session.open('/test-page.html');
    const sessionId = await page.evaluate(async () => {
      const { configure, loadModel, flushTelemetry, __testing } = (window as any).OnDevice;
      configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo' } });
      const m = await loadModel('tiny-mlp', { backend: 'wasm', warmup: false, telemetry: false });
      for (let i = 0; i < 3; i++) await m.run({ x: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } });
      await flushTelemetry();
      return __testing.telemetrySessionIds()[0];
    });
    await new Promise((r) => setTimeout(r, 500));
    const counts = countEvents([sessionId]);
    expect(counts.byType.inference ?? 0).toBe(0);
    expect(counts.byType.model_load ?? 0).toBe(0);
    await page.close();
  });
});
