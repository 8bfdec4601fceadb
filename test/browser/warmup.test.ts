// The warm-up in real headless Chromium (WASM): `loadModel` waits for one smoke run only and the rest runs in
// the worker between calls (a call waits for at most the warm-up run in flight, seen through the worker's own
// counters, never timing); the dims of a load's first calls are remembered per model version (IndexedDB, no
// input values) and the next load warms up on them; inputs a model refused are not tried again.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';

let session: BrowserSession;
let page: Page;

// Page helpers: the `warmedup` event (bounded wait), and the warm-up memory as IndexedDB holds it.
const PAGE_HELPERS = `window.__warm = {
  warmedUp(model, timeoutMs = 60000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no warmedup event within ' + timeoutMs + ' ms')), timeoutMs);
      model.addEventListener('warmedup', (e) => { clearTimeout(timer); resolve(e.detail); }, { once: true });
    });
  },
  records() {
    return new Promise((resolve, reject) => {
      const open = indexedDB.open('ondevice-warmup');
      open.onerror = () => reject(open.error);
      open.onupgradeneeded = () => open.transaction.abort();
      open.onsuccess = () => {
        const db = open.result;
        const get = db.transaction('models').objectStore('models').getAll();
        get.onsuccess = () => { db.close(); resolve(get.result); };
        get.onerror = () => { db.close(); reject(get.error); };
      };
    });
  },
  async waitForRecord(file, check, timeoutMs = 30000) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const record = (await this.records().catch(() => [])).find((r) => r.key.endsWith(file));
      if (record && check(record)) return record;
      if (performance.now() > deadline) throw new Error('warm-up memory never held what was expected: ' + JSON.stringify(record));
      await new Promise((r) => setTimeout(r, 50));
    }
  },
};`;

beforeAll(async () => {
  session = await startBrowserSession();
  page = await session.open('/test-page.html');
  await page.addScriptTag({ content: PAGE_HELPERS });
});

afterAll(async () => {
  await session?.close();
});

describe('the warm-up continues after loadModel resolved', () => {
  test('loadModel waits for one smoke run; calls made during the warm-up each wait for at most the one warm-up run in flight', async () => {
    const r = await page.evaluate(async () => {
      const { loadModel, __testing } = (window as any).OnDevice;
      // det runs for tens of ms at its registry sample (1×3×320×320): its warm-up (≥ 10 runs) outlasts the calls below.
      const m = await loadModel('ppocr-v4-det', { backend: 'wasm', cache: false });
      const warmedUpAtLoad = m.info.warmedUp;
      const warmed = (window as any).__warm.warmedUp(m);
      const x = () => ({ x: { type: 'float32', data: new Float32Array(3 * 320 * 320).fill(0.2), dims: [1, 3, 320, 320] } });
      // Back to back, as a page's first calls come: each may find a warm-up run in flight, none more.
      for (let i = 0; i < 3; i++) await m.run(x());
      const afterCalls = await __testing.warmupOf(m);
      const detail = await warmed;
      const done = await __testing.warmupOf(m);
      const r = { warmedUpAtLoad, afterCalls, detail, done, warmedUpAfter: m.info.warmedUp };
      m.dispose();
      return r;
    });
    // The load resolved after the smoke run alone.
    expect(r.warmedUpAtLoad).toBe(false);
    expect(r.afterCalls.runsAtLoad).toBe(1);
    // All three calls came while the warm-up was still going, and none waited for more than the run in flight.
    expect(r.afterCalls.callsDuringWarmup).toHaveLength(3);
    for (const call of r.afterCalls.callsDuringWarmup) {
      expect(call.warmupRunsEndedWhileWaiting).toBeLessThanOrEqual(1);
      expect(call.warmupRunsStartedWhileWaiting).toBe(0);
    }
    // The rest ran between calls, then the event came, on the registry's sample dims.
    expect(r.done.backgroundRuns).toBeGreaterThan(0);
    expect(r.detail).toMatchObject({ on: 'sample', dims: { x: [1, 3, 320, 320] } });
    expect(r.detail.runs).toBe(r.done.runs);
    expect(r.warmedUpAfter).toBe(true);
  });

  test('warm-up with caller feeds: they are used (and not detached); the event says so', async () => {
    const r = await page.evaluate(async () => {
      const { loadModel, __testing } = (window as any).OnDevice;
      const warmup = {
        input: { type: 'float32', data: new Float32Array(576).fill(0.01), dims: [1, 576] },
        state: { type: 'float32', data: new Float32Array(256), dims: [2, 1, 128] },
        sr: { type: 'int64', data: BigInt64Array.of(16000n), dims: [] },
      };
      const m = await loadModel('/models/silero_vad_v5.onnx', { backend: 'wasm', cache: false, warmup });
      const atLoad = { warmedUp: m.info.warmedUp, worker: await __testing.warmupOf(m) };
      const detail = await (window as any).__warm.warmedUp(m);
      const r = { atLoad, detail, warmedUp: m.info.warmedUp, kept: warmup.input.data.length };
      m.dispose();
      return r;
    });
    expect(r.atLoad.warmedUp).toBe(false);
    expect(r.atLoad.worker).toMatchObject({ on: 'caller', runsAtLoad: 1, failedAttempts: 0 });
    expect(r.detail).toMatchObject({ on: 'caller', dims: { input: [1, 576], state: [2, 1, 128], sr: [] } });
    expect(r.warmedUp).toBe(true);
    expect(r.kept).toBe(576);
  });

  test('the page path is warmed too (after the worker), unreported: no inference event, and none once a call was made', async () => {
    const r = await page.evaluate(async () => {
      const { loadModel, __testing } = (window as any).OnDevice;
      const eventsBefore = __testing.workerRunMs().length;
      const warm = await loadModel('tiny-mlp', { backend: 'wasm', cache: false });
      await (window as any).__warm.warmedUp(warm);
      const atWarm = { runs: await __testing.runsOf(warm), events: __testing.workerRunMs().length - eventsBefore };
      await warm.run({ x: { type: 'float32', data: new Float32Array(16).fill(0.5), dims: [1, 16] } });
      const afterRun = { runs: await __testing.runsOf(warm), events: __testing.workerRunMs().length - eventsBefore };
      const cold = await loadModel('tiny-mlp', { backend: 'wasm', cache: false, warmup: false });
      const withoutWarmup = await __testing.runsOf(cold);
      warm.dispose();
      cold.dispose();
      return { atWarm, afterRun, withoutWarmup };
    });
    // A sub-millisecond model gets at least one such run (as many as fit in the few ms it may add); none is an inference event.
    expect(r.atWarm.runs).toBeGreaterThanOrEqual(1);
    expect(r.atWarm.events).toBe(0);
    expect(r.afterRun).toEqual({ runs: r.atWarm.runs + 1, events: 1 });
    expect(r.withoutWarmup).toBe(0);
  });
});

describe('remembered shapes', () => {
  test("a model's next load warms up on the dims of its first calls (remembered as dims only)", async () => {
    const file = 'ch_PP-OCRv4_det_infer.onnx';
    const r = await page.evaluate(async (file) => {
      const { loadModel, modelStore, __testing } = (window as any).OnDevice;
      const warm = (window as any).__warm;
      await modelStore.clear();
      // By URL there is no registry sample: the first load guesses (free dims of 32).
      const first = await loadModel(`/models/${file}`, { backend: 'wasm' });
      const firstWarmup = await __testing.warmupOf(first);
      const x = { x: { type: 'float32', data: new Float32Array(3 * 64 * 96).fill(0.3), dims: [1, 3, 64, 96] } };
      await first.run(x);
      const record = await warm.waitForRecord(file, (r: any) => r.shapes.length === 1);
      first.dispose();
      const second = await loadModel(`/models/${file}`, { backend: 'wasm' });
      const secondWarmup = await __testing.warmupOf(second);
      const detail = await warm.warmedUp(second);
      second.dispose();
      return { firstWarmup, record, secondWarmup, detail };
    }, file);
    expect(r.firstWarmup).toMatchObject({ on: 'sample', dims: { x: [1, 3, 32, 32] }, runsAtLoad: 1 });
    // What is stored: the call's dims, nothing of its values.
    expect(Object.keys(r.record).sort()).toEqual(['failed', 'key', 'lastUsed', 'shapes']);
    expect(r.record.shapes).toEqual([{ x: [1, 3, 64, 96] }]);
    expect(r.record.failed).toEqual([]);
    // The second load's smoke run, and the rest of its warm-up, ran on exactly those dims.
    expect(r.secondWarmup).toMatchObject({ on: 'remembered', dims: { x: [1, 3, 64, 96] }, runsAtLoad: 1, failedAttempts: 0 });
    expect(r.detail).toMatchObject({ on: 'remembered', dims: { x: [1, 3, 64, 96] } });
  });

  test('a model whose generated warm-up inputs always fail is not tried with them again: the next load has no warm-up cost', async () => {
    const file = 'silero_vad_v5.onnx';
    const errorsBefore = session.errors.length;
    const r = await page.evaluate(async (file) => {
      const { loadModel, modelStore, __testing } = (window as any).OnDevice;
      const warm = (window as any).__warm;
      await modelStore.clear();
      // By URL there is no registry sample: generated inputs give sr = 0, which Silero refuses, whatever the dims.
      const first = await loadModel(`/models/${file}`, { backend: 'wasm' });
      const firstWarmup = await __testing.warmupOf(first);
      first.dispose();
      const record = await warm.waitForRecord(file, (r: any) => r.failed.length === firstWarmup.failedAttempts);
      const second = await loadModel(`/models/${file}`, { backend: 'wasm' });
      const secondWarmup = await __testing.warmupOf(second);
      // It is warmed on its first call's inputs instead (in the worker only: they are not stored).
      const warmed = warm.warmedUp(second);
      const out = await second.run({
        input: { type: 'float32', data: new Float32Array(512).fill(0.01), dims: [1, 512] },
        state: { type: 'float32', data: new Float32Array(256), dims: [2, 1, 128] },
        sr: { type: 'int64', data: BigInt64Array.of(16000n), dims: [] },
      });
      const detail = await warmed;
      const afterCall = await warm.waitForRecord(file, (r: any) => r.shapes.length === 1);
      second.dispose();
      return { firstWarmup, record, secondWarmup, outputDims: out.output.dims, detail, afterCall };
    }, file);
    // The first load tried both guesses (free dims of 32, then 1), both refused; the load still resolved.
    expect(r.firstWarmup).toMatchObject({ warm: false, runsAtLoad: 0, failedAttempts: 2 });
    expect(r.record.failed).toHaveLength(2);
    // The second load tried nothing.
    expect(r.secondWarmup).toMatchObject({ warm: false, runsAtLoad: 0, failedAttempts: 0 });
    expect(r.outputDims).toEqual([1, 1]);
    expect(r.detail).toMatchObject({ on: 'first-call', dims: { input: [1, 512], state: [2, 1, 128], sr: [] } });
    expect(r.afterCall.shapes).toEqual([{ input: [1, 512], state: [2, 1, 128], sr: [] }]);
    // onnxruntime's kernel errors ("Invalid input shape", …) never reach the page's console.
    expect(session.errors.slice(errorsBefore)).toEqual([]);
  });
});

test('no console errors were logged by the page', () => {
  expect(session.errors.filter((e) => !/404|Failed to load resource/.test(e))).toEqual([]);
});
