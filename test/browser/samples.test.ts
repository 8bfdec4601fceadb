// Consented samples end to end: a real page in headless Chromium, the real `npm start` server with its
// collector and SQLite. What left the page is read off the wire (every POST /v1/events body the page
// sent) and what arrived is read from the collector's database and its dataset export.
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LIMITS } from '../../src/core/eventSchema';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { waitFor } from '../helpers/waitFor';

const dbPath = path.join(mkdtempSync(path.join(tmpdir(), 'ondevice-samples-')), 'collector.sqlite');
let session: BrowserSession;

beforeAll(async () => {
  // One profile is one install for the whole file: the per-install sample limit is tested in
  // test/collector/samples.test.ts, so it is off here.
  session = await startBrowserSession({
    env: { COLLECTOR_DB_PATH: dbPath, COLLECTOR_INSTALL_EVENTS_PER_MINUTE: '0', COLLECTOR_INSTALL_SAMPLES_PER_MINUTE: '0' },
  });
});
afterAll(async () => {
  await session?.close();
});

function query<T>(sql: string, ...params: unknown[]): T[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Every event body the page POSTs to the collector, parsed, with its size in bytes. */
function recordWire(page: Page): { bytes: number; events: any[] }[] {
  const bodies: { bytes: number; events: any[] }[] = [];
  page.on('request', (request) => {
    if (request.method() !== 'POST' || !request.url().includes('/v1/events')) return;
    const raw = request.postDataBuffer();
    if (raw) bodies.push({ bytes: raw.byteLength, events: JSON.parse(raw.toString('utf8')).events });
  });
  return bodies;
}

/** Load tiny-mlp (input x float32 [1, 16]), run it once with `fill`, report feedback with its input. */
async function runAndReport(page: Page, shareInputs: boolean | undefined, fill: number): Promise<string> {
  return page.evaluate(
    async ({ shareInputs, fill }) => {
      const { configure, loadModel, reportFeedback, flushTelemetry } = (window as any).OnDevice;
      configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo', ...(shareInputs === undefined ? {} : { shareInputs }) } });
      const model = await loadModel('tiny-mlp', { backend: 'wasm', warmup: false });
      const x = { type: 'float32', data: new Float32Array(16).fill(fill), dims: [1, 16] };
      // The input is reported after the run, so it must not be transferred (detached) to the worker.
      await model.run({ x }, { transfer: false });
      const predictionId = model.lastPredictionId;
      // A single `input` is named after the model's input of that prediction ("x").
      reportFeedback({ modelId: model.id, modelVersion: model.version, predictionId, label: 2, predicted: 1, input: x });
      await flushTelemetry();
      return predictionId;
    },
    { shareInputs, fill },
  );
}

describe('consented samples', () => {
  test('without consent only the label travels: no sample event, no input on the wire or in the collector', async () => {
    const page = await session.open('/test-page.html');
    const wire = recordWire(page);
    const predictionId = await runAndReport(page, undefined, 0.25);
    await waitFor(
      'the feedback event in the collector',
      () => query(`SELECT id FROM events WHERE type = 'feedback' AND prediction_id = ?`, predictionId).length === 1,
      { timeoutMs: 15_000 },
    );
    const sent = wire.flatMap((b) => b.events);
    expect(sent.filter((e) => e.predictionId === predictionId).map((e) => e.type)).toEqual(['feedback']);
    expect(sent.some((e) => e.type === 'sample' || 'inputs' in e)).toBe(false);
    expect(query(`SELECT id FROM samples WHERE prediction_id = ?`, predictionId)).toHaveLength(0);
    // shareInputs: false says the same.
    const explicit = await runAndReport(page, false, 0.5);
    await waitFor('feedback', () => query(`SELECT id FROM events WHERE prediction_id = ? AND type = 'feedback'`, explicit).length === 1, {
      timeoutMs: 15_000,
    });
    expect(wire.flatMap((b) => b.events).some((e) => e.type === 'sample')).toBe(false);
    await page.close();
  });

  test('with shareInputs the input arrives as a sample (named after the model input), and in the dataset export', async () => {
    const page = await session.open('/test-page.html');
    const wire = recordWire(page);
    const predictionId = await runAndReport(page, true, 0.75);
    await waitFor('the sample in the collector', () => query(`SELECT id FROM samples WHERE prediction_id = ?`, predictionId).length === 1, {
      timeoutMs: 15_000,
    });
    const sent = wire.flatMap((b) => b.events).filter((e) => e.predictionId === predictionId);
    expect(sent.map((e) => e.type).sort()).toEqual(['feedback', 'sample']);
    const res = await fetch(`${session.server.url}/v1/datasets/tiny-mlp`);
    expect(res.status).toBe(200);
    const lines = (await res.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const line = lines.find((l) => l.predictionId === predictionId);
    expect(line).toMatchObject({ modelId: 'tiny-mlp', modelVersion: '1', label: 2, predicted: 1 });
    expect(line.inputs).toEqual({ x: { type: 'float32', dims: [1, 16], data: new Array(16).fill(0.75) } });
    // The deprecated alias still means consent.
    const alias = await page.evaluate(async () => {
      const { configure, reportFeedback, flushTelemetry } = (window as any).OnDevice;
      configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo', includeInputs: true } });
      const predictionId = 'alias-prediction-1';
      reportFeedback({
        modelId: 'tiny-mlp',
        modelVersion: '1',
        predictionId,
        label: 0,
        inputs: { x: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } },
      });
      await flushTelemetry();
      return predictionId;
    });
    await waitFor(
      'the sample sent under includeInputs',
      () => query(`SELECT id FROM samples WHERE prediction_id = ?`, alias).length === 1,
      { timeoutMs: 15_000 },
    );
    await page.close();
  });

  test('a bad or too big input is INVALID_INPUT and nothing at all is sent for it', async () => {
    const page = await session.open('/test-page.html');
    const wire = recordWire(page);
    const errors = await page.evaluate(async (maxElements) => {
      const { configure, reportFeedback, flushTelemetry } = (window as any).OnDevice;
      configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo', shareInputs: true } });
      const attempt = (input: unknown, predictionId: string) => {
        try {
          reportFeedback({ modelId: 'tiny-mlp', modelVersion: '1', predictionId, label: 1, inputs: { x: input } });
          return null;
        } catch (e: any) {
          return { name: e.name, code: e.code, reason: e.details?.reason ?? null, message: e.message };
        }
      };
      const out = {
        nan: attempt({ type: 'float32', data: new Float32Array([1, NaN]), dims: [2] }, 'bad-nan'),
        dims: attempt({ type: 'float32', data: new Float32Array(3), dims: [2] }, 'bad-dims'),
        type: attempt({ type: 'int64', data: new BigInt64Array(1), dims: [1] }, 'bad-type'),
        // Within the element bound, but 1/3-like float64s are ~19 bytes each: over the byte bound.
        big: attempt(
          { type: 'float64', data: Float64Array.from({ length: maxElements }, (_, i) => 1 / (i + 3)), dims: [maxElements] },
          'bad-big',
        ),
        detached: (() => {
          const data = new Float32Array(16);
          structuredClone(data.buffer, { transfer: [data.buffer] });
          return attempt({ type: 'float32', data, dims: [1, 16] }, 'bad-detached');
        })(),
        many: attempt({ type: 'uint8', data: new Uint8Array(maxElements + 1), dims: [maxElements + 1] }, 'bad-many'),
      };
      await flushTelemetry();
      return out;
    }, LIMITS.maxSampleElements);
    for (const [what, error] of Object.entries(errors)) {
      expect(error, what).toMatchObject({ name: 'OnDeviceError', code: 'INVALID_INPUT' });
    }
    expect(errors.nan!.message).toMatch(/data\[1\]/);
    expect(errors.big!.reason).toBe('SAMPLE_TOO_LARGE');
    expect(errors.detached!.message).toMatch(/transfer: false/);
    expect(errors.many!.reason).toBe('SAMPLE_TOO_LARGE');
    const sent = wire.flatMap((b) => b.events);
    expect(sent.some((e) => String(e.predictionId).startsWith('bad-'))).toBe(false);
    expect(query(`SELECT id FROM events WHERE prediction_id LIKE 'bad-%'`)).toHaveLength(0);
    await page.close();
  });

  test('many large samples are split into bodies within maxBodyBytes, all delivered, none dropped', async () => {
    const page = await session.open('/test-page.html');
    const wire = recordWire(page);
    const count = 24;
    const status = await page.evaluate(async (count) => {
      const { configure, reportFeedback, flushTelemetry, telemetryStatus } = (window as any).OnDevice;
      configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo', shareInputs: true } });
      for (let i = 0; i < count; i++) {
        // ~60 KiB of JSON each: 3 or 4 fit a 256 KiB body, none fits the 60 KiB keepalive budget.
        const data = Float32Array.from({ length: 3500 }, (_, j) => Math.fround(1 / (i + j + 3)));
        reportFeedback({
          modelId: 'tiny-mlp',
          modelVersion: '1',
          predictionId: `big-${i}`,
          label: i % 4,
          inputs: { x: { type: 'float32', data, dims: [1, 3500] } },
        });
      }
      await flushTelemetry();
      return telemetryStatus();
    }, count);
    expect(status.dropped).toBe(0);
    await waitFor(
      `${count} samples in the collector`,
      () => query(`SELECT id FROM samples WHERE prediction_id LIKE 'big-%'`).length === count,
      { timeoutMs: 15_000 },
    );
    const bodies = wire.filter((b) => b.events.some((e) => e.type === 'sample'));
    expect(bodies.length).toBeGreaterThan(1);
    for (const body of bodies) expect(body.bytes).toBeLessThanOrEqual(LIMITS.maxBodyBytes);
    await page.close();
  });

  test('a sample too big for the keepalive budget is kept at page close and delivered by the next page', async () => {
    const page = await session.open('/test-page.html');
    const wire = recordWire(page);
    await page.evaluate(async () => {
      const { configure, reportFeedback, flushTelemetry } = (window as any).OnDevice;
      configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo', shareInputs: true } });
      await flushTelemetry(); // the session event: what is pending below is only the feedback and its sample
      // ~70 KiB of JSON: over the 60 KiB the page-close flush may send, under the 128 KiB a sample may be.
      const data = Float32Array.from({ length: 4000 }, (_, j) => Math.fround(1 / (j + 3)));
      reportFeedback({
        modelId: 'tiny-mlp',
        modelVersion: '1',
        predictionId: 'unload-1',
        label: 1,
        inputs: { x: { type: 'float32', data, dims: [1, 4000] } },
      });
    });
    // Well inside the 5 s flush interval: only the page-close flush sends anything.
    await page.close({ runBeforeUnload: true });
    await waitFor(
      'the feedback sent at close',
      () => query(`SELECT id FROM events WHERE type = 'feedback' AND prediction_id = 'unload-1'`).length === 1,
      { timeoutMs: 15_000 },
    );
    const closing = wire.filter((b) => b.events.some((e) => e.predictionId === 'unload-1'));
    for (const body of closing) {
      expect(body.bytes).toBeLessThanOrEqual(LIMITS.maxKeepaliveBytes);
      expect(body.events.some((e) => e.type === 'sample')).toBe(false);
    }
    expect(query(`SELECT id FROM samples WHERE prediction_id = 'unload-1'`)).toHaveLength(0);
    // The next page of this profile replays what is still queued in IndexedDB: the sample.
    const next = await session.open('/test-page.html');
    await next.evaluate(() => (window as any).OnDevice.configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo' } }));
    // The next page loads, reads the queue from IndexedDB and sends at once; a generous bound for loaded cores.
    await waitFor(
      'the sample replayed by the next page',
      () => query(`SELECT id FROM samples WHERE prediction_id = 'unload-1'`).length === 1,
      {
        timeoutMs: 60_000,
      },
    );
    await next.close();
  });

  test('a sample recorded in the same task as the page goes away (pagehide) is kept and delivered by the next page', async () => {
    // The queue's IndexedDB write must be committed without the page: before the queue asked for the
    // commit itself, about half of these were lost (the page went away before the browser's answer to
    // the put, so the transaction was never committed).
    const rounds = 8;
    for (let round = 0; round < rounds; round++) {
      const page = await session.open('/test-page.html');
      await page.evaluate(async (round) => {
        const { configure, reportFeedback, flushTelemetry } = (window as any).OnDevice;
        configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo', shareInputs: true } });
        await flushTelemetry(); // the queue's database is open
        const data = Float32Array.from({ length: 4000 }, (_, j) => Math.fround(1 / (j + round + 3)));
        addEventListener('pagehide', () =>
          reportFeedback({
            modelId: 'tiny-mlp',
            modelVersion: '1',
            predictionId: `pagehide-${round}`,
            label: 1,
            inputs: { x: { type: 'float32', data, dims: [1, 4000] } },
          }),
        );
      }, round);
      // Closing the tab, and navigating to another page of the site, both fire pagehide and then discard the document.
      if (round % 2 === 1) await page.goto(`${session.server.url}/test-page.html?after=${round}`);
      await page.close({ runBeforeUnload: true });
    }
    const next = await session.open('/test-page.html');
    await next.evaluate(() => (window as any).OnDevice.configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo' } }));
    const delivered = () => query<{ prediction_id: string }>(`SELECT prediction_id FROM samples WHERE prediction_id LIKE 'pagehide-%'`);
    await waitFor(
      () => `${rounds} samples replayed by the next page; delivered: ${JSON.stringify(delivered().map((r) => r.prediction_id))}`,
      () => delivered().length === rounds,
      { timeoutMs: 60_000 },
    );
    await next.close();
  });
});
