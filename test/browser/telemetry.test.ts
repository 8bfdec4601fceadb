// Field telemetry end to end: a real page, the real `npm start` server with its collector, events
// counted in the collector's SQLite database.
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { waitFor } from '../helpers/waitFor';

const dbPath = path.join(mkdtempSync(path.join(tmpdir(), 'ondevice-telemetry-')), 'collector.sqlite');
let session: BrowserSession;

beforeAll(async () => {
  // One browser context is one install for the whole file, its workers included (one install id per
  // profile), and some tests replay backlogs of ~2000 events: the per-install rate limit (600 a minute by
  // default, tested in test/collector/backdating.test.ts) would only slow them down, so it is off here.
  session = await startBrowserSession({ env: { COLLECTOR_DB_PATH: dbPath, COLLECTOR_INSTALL_EVENTS_PER_MINUTE: '0' } });
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

function countByModel(type: string, modelIds: string[]): Record<string, number> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const marks = modelIds.map(() => '?').join(',');
    const rows = db
      .prepare(`SELECT model_id AS model, count(*) AS n FROM events WHERE type = ? AND model_id IN (${marks}) GROUP BY model_id`)
      .all(type, ...modelIds) as { model: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.model, r.n]));
  } finally {
    db.close();
  }
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
      '5 inference events and 1 model_load after the page closed',
      () => {
        const c = countEvents([sessionId]);
        return (c.byType.inference ?? 0) >= 5 && (c.byType.model_load ?? 0) >= 1 && c;
      },
      { timeoutMs: 10_000 },
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
      // flush waits for the queue the earlier page left to be loaded, then for the collector's answers.
      await (window as any).OnDevice.flushTelemetry();
    });
    const counts = await waitFor(`${runs} replayed inference events`, () => {
      const c = countEvents([sessionId]);
      return (c.byType.inference ?? 0) >= runs && c;
    });
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
    const { sessionId, lastError } = await page.evaluate(async () => {
      const { configure, loadModel, flushTelemetry, telemetryStatus, __testing } = (window as any).OnDevice;
      configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo' } });
      const m = await loadModel('tiny-mlp', { backend: 'wasm', warmup: false, telemetry: false });
      for (let i = 0; i < 3; i++) await m.run({ x: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } });
      // Anything the runs had recorded is pending now; flush resolves after the collector answered it.
      await flushTelemetry();
      return { sessionId: __testing.telemetrySessionIds()[0], lastError: telemetryStatus().lastError };
    });
    expect(lastError).toBeNull();
    // This page's own session event does arrive: delivery works, only the opted-out model is silent.
    const counts = await waitFor('the session event', () => {
      const c = countEvents([sessionId]);
      return (c.byType.session ?? 0) >= 1 && c;
    });
    expect(counts.byType.inference ?? 0).toBe(0);
    expect(counts.byType.model_load ?? 0).toBe(0);
    await page.close();
  });

  test('the demo page (/) delivers its pipeline worker events when it is closed while busy', async () => {
    // A context of its own: the demo registers a service worker for the whole origin.
    const context = await session.browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(session.server.url + '/');
      // Opening the OCR tab loads its models (whether or not the page also does so on its own).
      await page.click('#tab-ocr');
      await page.locator('#ocr-models-state').filter({ hasText: 'ready' }).waitFor({ timeout: 120_000 });
      await page.click('#ocr-sample');
      await page.waitForFunction(() => ['done', 'failed'].includes(document.getElementById('ocr-result')?.dataset.state ?? ''), null, {
        timeout: 60_000,
      });
      expect(await page.locator('#ocr-result').getAttribute('data-state')).toBe('done');
      // OCR ran in the pipeline worker: det once, rec once per line.
      const lines = await page.locator('#ocr-lines li').count();
      expect(lines).toBeGreaterThan(0);
      // Busy: the voice tab starts loading its model in the same worker, and the page closes meanwhile.
      await page.click('#tab-vad');
      const pageInstallId = await page.evaluate(() => localStorage.getItem('ondevice.installId'));
      await page.close({ runBeforeUnload: true });
      const counts = await waitFor(
        `1 det and ${lines} rec inference events after the page closed`,
        () => {
          const c = countByModel('inference', ['ppocr-v4-det', 'ppocr-v4-rec']);
          return c['ppocr-v4-det'] === 1 && c['ppocr-v4-rec'] === lines && c;
        },
        { timeoutMs: 10_000 },
      );
      expect(counts).toEqual({ 'ppocr-v4-det': 1, 'ppocr-v4-rec': lines });
      // One install id per profile: the worker's events carry the page's, not one of their own.
      const db = new Database(dbPath, { readonly: true, fileMustExist: true });
      try {
        const ids = db.prepare(`SELECT DISTINCT install_id AS id FROM events WHERE model_id IN ('ppocr-v4-det', 'ppocr-v4-rec')`).all() as {
          id: string;
        }[];
        expect(pageInstallId).toBeTruthy();
        expect(ids.map((r) => r.id)).toEqual([pageInstallId]);
      } finally {
        db.close();
      }
    } finally {
      await context.close();
    }
  });

  test('a refused site key is said once and kept: fixing the key delivers every event', async () => {
    const page = await session.open('/test-page.html');
    const warnings: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'warning' && m.text().includes('UNKNOWN_SITE_KEY')) warnings.push(m.text());
    });
    const refused = await page.evaluate(async () => {
      const { configure, loadModel, flushTelemetry, telemetryStatus, __testing } = (window as any).OnDevice;
      // No siteKey: allowed by configure (a collector may need none); this collector refuses it.
      configure({ telemetry: { endpoint: '/v1/events' } });
      const m = await loadModel('tiny-mlp', { backend: 'wasm', warmup: false });
      for (let i = 0; i < 3; i++) await m.run({ x: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } });
      await flushTelemetry();
      await flushTelemetry();
      return { sessionId: __testing.telemetrySessionIds()[0], status: telemetryStatus() };
    });
    expect(refused.status).toMatchObject({ sent: 0, dropped: 0, lastError: { code: 'UNKNOWN_SITE_KEY' } });
    expect(refused.status.pending).toBeGreaterThanOrEqual(4); // model_load + 3 inference (+ session)
    expect(refused.status.lastError.message).toContain('siteKey');
    expect(typeof refused.status.lastError.at).toBe('number');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/UNKNOWN_SITE_KEY.*Fix: configure/);
    expect(countEvents([refused.sessionId]).total).toBe(0);

    const fixed = await page.evaluate(async () => {
      const { configure, flushTelemetry, telemetryStatus } = (window as any).OnDevice;
      configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo' } });
      // The new client also records its own session event (after probing the device): flush until
      // nothing is pending, bounded.
      const deadline = Date.now() + 10_000;
      await flushTelemetry();
      while (telemetryStatus().pending > 0) {
        if (Date.now() > deadline) throw new Error(`still pending after 10 s: ${JSON.stringify(telemetryStatus())}`);
        await new Promise((r) => setTimeout(r, 50));
        await flushTelemetry();
      }
      return telemetryStatus();
    });
    expect(fixed).toMatchObject({ pending: 0, dropped: 0, lastError: null });
    expect(fixed.sent).toBeGreaterThanOrEqual(refused.status.pending);
    const counts = countEvents([refused.sessionId]);
    expect(counts.byType).toMatchObject({ model_load: 1, inference: 3 });
    expect(counts.total).toBe(counts.distinct);
    expect(warnings).toHaveLength(1);
    await page.close();
  });

  test('while the site key is refused the queue is bounded: the oldest are dropped and counted, the rest delivered', async () => {
    const page = await session.open('/test-page.html');
    const extra = 150;
    const refused = await page.evaluate(async (extra) => {
      const { configure, flushTelemetry, reportFeedback, telemetryStatus, __testing } = (window as any).OnDevice;
      configure({ telemetry: { endpoint: '/v1/events', siteKey: 'not-a-known-key' } });
      await flushTelemetry();
      const limit = 2000;
      for (let i = 0; i < limit + extra; i++) reportFeedback({ modelId: 'bounded', predictionId: `p-${i}`, label: i });
      return { sessionId: __testing.telemetrySessionIds()[0], status: telemetryStatus(), limit };
    }, extra);
    expect(refused.status.pending).toBe(refused.limit);
    // The extra feedback events, plus whatever this client had recorded before them (its session event).
    expect(refused.status.dropped).toBeGreaterThanOrEqual(extra);
    expect(refused.status.lastError.code).toBe('QUEUE_FULL');

    const fixed = await page.evaluate(async () => {
      const { configure, flushTelemetry, telemetryStatus } = (window as any).OnDevice;
      configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo' } });
      // The new client also records its own session event (after probing the device): flush until
      // nothing is pending, bounded.
      const deadline = Date.now() + 10_000;
      await flushTelemetry();
      while (telemetryStatus().pending > 0) {
        if (Date.now() > deadline) throw new Error(`still pending after 10 s: ${JSON.stringify(telemetryStatus())}`);
        await new Promise((r) => setTimeout(r, 50));
        await flushTelemetry();
      }
      return telemetryStatus();
    });
    expect(fixed.pending).toBe(0);
    expect(fixed.lastError?.code).not.toBe('UNKNOWN_SITE_KEY');
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      const labels = db
        .prepare(`SELECT json_extract(payload, '$.label') AS label FROM events WHERE type = 'feedback' AND model_id = 'bounded'`)
        .all()
        .map((r) => Number((r as { label: number }).label))
        .sort((a, b) => a - b);
      // The newest survived, none twice, none missing in between; the oldest `extra` were dropped. (The
      // fixed client's own session event may push one more old one out: the bound holds for it too.)
      expect(labels.at(-1)).toBe(refused.limit + extra - 1);
      expect(labels).toEqual(Array.from({ length: labels.length }, (_, i) => labels[0] + i));
      expect(labels[0]).toBeGreaterThanOrEqual(extra);
      expect(labels.length).toBeGreaterThanOrEqual(refused.limit - 2);
    } finally {
      db.close();
    }
    await page.close();
  });

  test('one invalid event in the queue (left by an older client) is dropped and counted, the rest of its batch delivered', async () => {
    const page = await session.open('/test-page.html');
    const warnings: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'warning') warnings.push(m.text());
    });
    const status = await page.evaluate(async () => {
      const { configure, flushTelemetry, telemetryStatus } = (window as any).OnDevice;
      configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo' } });
      await flushTelemetry(); // the queue's database exists now
      const base = { ts: Date.now(), installId: 'install-legacy', sessionId: 'legacy-session', modelId: 'legacy', modelVersion: '1' };
      const legacy = [
        { ...base, type: 'error', id: 'legacy-good-1', code: 'INFERENCE_FAILED', message: 'fine' },
        // What `.slice(0, 1024)` used to produce: half an emoji, which the schema refuses.
        { ...base, type: 'error', id: 'legacy-bad-1', code: 'INFERENCE_FAILED', message: 'cut \ud83d' },
        { ...base, type: 'error', id: 'legacy-good-2', code: 'INFERENCE_FAILED', message: 'fine too' },
      ];
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open('ondevice-telemetry');
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction('events', 'readwrite');
        for (const e of legacy) tx.objectStore('events').put(e);
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();
      // A new client (another endpoint spelling) replays the queue.
      configure({ telemetry: { endpoint: `${location.origin}/v1/events`, siteKey: 'demo' } });
      const deadline = Date.now() + 10_000;
      await flushTelemetry();
      while (telemetryStatus().pending > 0) {
        if (Date.now() > deadline) throw new Error(`still pending after 10 s: ${JSON.stringify(telemetryStatus())}`);
        await new Promise((r) => setTimeout(r, 50));
        await flushTelemetry();
      }
      return telemetryStatus();
    });
    expect(status.pending).toBe(0);
    expect(status.dropped).toBe(1);
    expect(status.lastError).not.toBeNull();
    const counts = countEvents(['legacy-session']);
    expect(counts).toMatchObject({ total: 2, distinct: 2 });
    expect(warnings.filter((w) => w.includes('legacy-bad-1'))).toHaveLength(1);
    await page.close();
  });

  test('over the per-install sample limit: the rest is stored at once, exactly the deferred samples are sent again after retryAfterMs', async () => {
    const page = await session.open('/test-page.html');
    // What the page sent (event ids, when) and what the collector deferred (from its answers).
    const sends: { at: number; ids: string[] }[] = [];
    const deferrals: { at: number; deferred: { id: string; retryAfterMs: number }[] }[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().includes('/v1/events'))
        sends.push({ at: Date.now(), ids: JSON.parse(request.postData() ?? '{}').events.map((e: { id: string }) => e.id) });
    });
    page.on('response', async (response) => {
      if (!response.url().includes('/v1/events') || response.status() !== 429) return;
      const at = Date.now();
      const body = await response.json().catch(() => ({}));
      if (Array.isArray(body.deferred)) deferrals.push({ at, deferred: body.deferred });
    });
    const count = 40; // the collector takes 30 samples a minute from one install (its default), one every 2 s after that
    const waiting = await page.evaluate(async (count) => {
      const { configure, reportFeedback, flushTelemetry } = (window as any).OnDevice;
      configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo', shareInputs: true } });
      await flushTelemetry();
      for (let i = 0; i < count; i++) {
        const x = { type: 'float32', data: new Float32Array(16).fill(i), dims: [1, 16] };
        reportFeedback({ modelId: 'tiny-mlp', modelVersion: '1', predictionId: `limited-${i}`, label: i % 10, inputs: { x } });
      }
      return flushTelemetry();
    }, count);
    const stored = () => {
      const db = new Database(dbPath, { readonly: true, fileMustExist: true });
      try {
        const rows = db.prepare(`SELECT type, count(*) AS n FROM events WHERE prediction_id LIKE 'limited-%' GROUP BY type`).all() as {
          type: string;
          n: number;
        }[];
        return Object.fromEntries(rows.map((r) => [r.type, r.n]));
      } finally {
        db.close();
      }
    };
    // flushTelemetry() said the samples over the limit wait, and for how long; every feedback event is stored already.
    expect(waiting.pending).toBeGreaterThanOrEqual(count - 30);
    expect(waiting.dropped).toBe(0);
    expect(waiting.lastError).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number), at: expect.any(Number) });
    expect(waiting.lastError.retryAfterMs).toBeGreaterThan(0);
    expect(waiting.lastError.message).toMatch(/deferred/);
    const first = stored();
    expect(first.feedback).toBe(count);
    expect(first.sample).toBeLessThan(count);

    // The deferred samples go again by themselves; bounded.
    const done = await page.evaluate(async () => {
      const { telemetryStatus } = (window as any).OnDevice;
      const deadline = Date.now() + 90_000;
      while (telemetryStatus().pending > 0) {
        if (Date.now() > deadline) throw new Error(`still pending after 90 s: ${JSON.stringify(telemetryStatus())}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      return telemetryStatus();
    });
    // Once they are delivered, nothing waits and the error is over.
    expect(done).toMatchObject({ pending: 0, dropped: 0, lastError: null });
    expect(stored()).toEqual({ feedback: count, sample: count });
    // Only deferred events were sent more than once, each no sooner than (about) its retryAfterMs.
    const deferredIds = new Set(deferrals.flatMap((d) => d.deferred.map((e) => e.id)));
    expect(deferredIds.size).toBeGreaterThanOrEqual(count - 30);
    const timesSent = new Map<string, number>();
    for (const send of sends) for (const id of send.ids) timesSent.set(id, (timesSent.get(id) ?? 0) + 1);
    const resent = [...timesSent].filter(([, n]) => n > 1).map(([id]) => id);
    expect(resent.length).toBeGreaterThan(0);
    expect(resent.filter((id) => !deferredIds.has(id))).toEqual([]);
    for (const { at, deferred } of deferrals) {
      for (const { id, retryAfterMs } of deferred) {
        const next = sends.find((s) => s.at > at && s.ids.includes(id));
        expect(next, id).toBeDefined();
        // Observed from this process (the answer may be seen late): half the wait is the bound that still tells.
        expect(next!.at - at).toBeGreaterThanOrEqual(retryAfterMs / 2);
      }
    }
    await page.close();
  });
});
