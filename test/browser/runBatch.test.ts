// Many inputs on every core: model.runBatch over a pool of workers, in real Chromium against the real `npm start` server.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { makeInputs } from '../helpers/inputs';
import { closeReferenceSessions, compareOutputs, runReference } from '../helpers/reference';
import { feedsFromWire, feedsToWire, PAGE_WIRE_SOURCE, type WireTensor } from '../helpers/wire';
import registry from '../../models/registry.json';
import type { ModelEntry } from '../../src/registry/ModelEntry';

let session: BrowserSession;
let page: Page;
const tinyMlp = registry.find((e) => e.id === 'tiny-mlp')! as unknown as ModelEntry;
const items = Array.from({ length: 12 }, (_, i) => makeInputs(tinyMlp, { seed: 100 + i, dims: { x: [i + 1, 16] } }));

beforeAll(async () => {
  session = await startBrowserSession();
  const context = session.context;
  // 4 logical cores for these pages, whatever the machine has: the pool size is derived from it.
  await context.addInitScript({ content: `Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => 4 });` });
  page = await session.open('/test-page.html');
  await page.addScriptTag({ content: PAGE_WIRE_SOURCE });
});

afterAll(async () => {
  await session?.close();
  await closeReferenceSessions();
});

type Outcome = { ok: true; outputs: Record<string, WireTensor> } | { ok: false; error: { name: string; code: string; message: string } };

describe('runBatch', () => {
  test('answers in input order over a pool within the cores; a bad item fails alone; dispose ends the pool', async () => {
    const wire = items.map((f) => feedsToWire(f));
    const r = await page.evaluate(async (wire) => {
      const w = (window as any).__wire;
      const { loadModel, __testing } = (window as any).OnDevice;
      const m = await loadModel('tiny-mlp', { backend: 'wasm', warmup: false });
      const feeds = wire.map((f: any) => w.feedsFromWire(f));
      // Item 4 has the wrong width: INVALID_INPUT for it, the others go on.
      feeds[4] = { x: { type: 'float32', data: new Float32Array(15), dims: [1, 15] } };
      const progress: number[] = [];
      let workersDuring = 0;
      const results = await m.runBatch(feeds, {
        onProgress: ({ done, total }: any) => {
          progress.push(done / total);
          workersDuring = Math.max(workersDuring, __testing.workerCount());
        },
      });
      const workersAfter = __testing.workerCount();
      const threads = m.info.threads;
      m.dispose();
      // Released workers terminate once their release message went out.
      const until = Date.now() + 10_000;
      while (__testing.workerCount() > 0) {
        if (Date.now() > until) throw new Error(`${__testing.workerCount()} workers still alive 10 s after dispose`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return {
        threads,
        workersDuring,
        workersAfter,
        progress,
        results: results.map((x: any) =>
          x.ok
            ? { ok: true, outputs: w.feedsToWire(x.outputs) }
            : { ok: false, error: { name: x.error.name, code: x.error.code, message: x.error.message } },
        ),
      };
    }, wire);
    expect(r.results).toHaveLength(items.length);
    for (const [i, result] of (r.results as Outcome[]).entries()) {
      if (i === 4) {
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.error).toMatchObject({ name: 'OnDeviceError', code: 'INVALID_INPUT' });
        continue;
      }
      expect(result.ok, `item ${i}`).toBe(true);
      if (!result.ok) continue;
      const expected = await runReference(path.join('public/models', tinyMlp.file), items[i]);
      // In order: item i has i+1 rows.
      expect(compareOutputs(feedsFromWire(result.outputs), expected, { atol: 1e-5, rtol: 1e-4 }), `item ${i}`).toEqual([]);
    }
    expect(r.progress).toHaveLength(items.length);
    expect(r.progress.at(-1)).toBe(1);
    // 4 cores at the model's thread count: a pool of 4 / threads workers (the model's own among them).
    expect(r.workersAfter).toBe(Math.floor(4 / r.threads));
    expect(r.workersDuring * r.threads).toBeLessThanOrEqual(4);
  });

  test('concurrency bounds the pool; a signal aborts what has not run yet and keeps what has', async () => {
    const r = await page.evaluate(async () => {
      const { loadModel, __testing } = (window as any).OnDevice;
      const m = await loadModel('tiny-mlp', { backend: 'wasm', warmup: false });
      const item = () => ({ x: { type: 'float32', data: new Float32Array(16).fill(0.25), dims: [1, 16] } });
      await m.runBatch([item(), item(), item()], { concurrency: 1 });
      const workersWithOne = __testing.workerCount();
      const controller = new AbortController();
      const results = await m.runBatch(Array.from({ length: 10 }, item), {
        concurrency: 1,
        signal: controller.signal,
        onProgress: ({ done }: any) => {
          if (done === 3) controller.abort();
        },
      });
      const invalid = await m.runBatch([item()], { concurrency: 0 }).then(
        () => 'resolved',
        (e: any) => e.code,
      );
      m.dispose();
      return { workersWithOne, codes: results.map((x: any) => (x.ok ? 'ok' : x.error.code)), invalid };
    });
    expect(r.workersWithOne).toBe(1);
    expect(r.codes).toEqual(['ok', 'ok', 'ok', ...Array(7).fill('ABORTED')]);
    expect(r.invalid).toBe('INVALID_INPUT');
  });

  test('a server-backed model batches over /v2 in input order', async () => {
    const wire = items.slice(0, 6).map((f) => feedsToWire(f));
    const r = await page.evaluate(async (wire) => {
      const w = (window as any).__wire;
      const m = await (window as any).OnDevice.loadModel('tiny-mlp', { location: 'server' });
      const results = await m.runBatch(
        wire.map((f: any) => w.feedsFromWire(f)),
        { concurrency: 3 },
      );
      m.dispose();
      return results.map((x: any) => (x.ok ? w.feedsToWire(x.outputs) : x.error.code));
    }, wire);
    for (const [i, outputs] of r.entries()) {
      const expected = await runReference(path.join('public/models', tinyMlp.file), items[i]);
      expect(compareOutputs(feedsFromWire(outputs), expected, { atol: 1e-5, rtol: 1e-4 }), `item ${i}`).toEqual([]);
    }
  });
});
