// The warm-up in real headless Chromium (WASM): `loadModel` waits for one smoke run only and the rest runs in
// the worker between calls (a call waits for at most the warm-up run in flight, seen through the worker's own
// counters, never timing); the dims of a load's first calls are remembered per model version (IndexedDB, no
// input values) and the next load warms up on them; inputs a model refused are not tried again; an integer input
// the graph compares with a constant gets that constant.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { encodeModel } from '../../src/node/onnx/encodeModel';

// A model that refuses every generated input: x's two dims are free, but it reshapes x to 7 × 11, so only
// inputs of 77 values run (generated ones have 1, 32, 256 or 1 per row). Its calls are { x: [1, 77] }.
const fixtures = mkdtempSync(path.join(tmpdir(), 'ondevice-warmup-'));
writeFileSync(
  path.join(fixtures, 'reshape-77.onnx'),
  encodeModel({
    irVersion: 8,
    opsets: [{ domain: '', version: 17 }],
    producerName: 'ondevice',
    producerVersion: 'test',
    graph: {
      name: 'reshape_77',
      inputs: [{ name: 'x', type: 'float32', shape: ['rows', 'values'] }],
      outputs: [{ name: 'y', type: 'float32', shape: [7, 11] }],
      initializers: [{ name: 'shape', type: 'int64', dims: [2], values: [7, 11] }],
      nodes: [{ opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
    },
  }),
);

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
  session = await startBrowserSession({ env: { ONDEVICE_FIXTURES_DIR: fixtures } });
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
      // This load's warm-up moves to the call's dims too (the guess was not what the page runs).
      const firstAfterCall = await __testing.warmupOf(first);
      const record = await warm.waitForRecord(file, (r: any) => r.shapes.length === 1);
      first.dispose();
      const second = await loadModel(`/models/${file}`, { backend: 'wasm' });
      const secondWarmup = await __testing.warmupOf(second);
      const detail = await warm.warmedUp(second);
      second.dispose();
      return { firstWarmup, firstAfterCall, record, secondWarmup, detail };
    }, file);
    expect(r.firstWarmup).toMatchObject({ on: 'sample', dims: { x: [1, 3, 32, 32] }, runsAtLoad: 1 });
    expect(r.firstAfterCall).toMatchObject({ on: 'first-call', dims: { x: [1, 3, 64, 96] } });
    // What is stored: the call's dims, nothing of its values.
    expect(Object.keys(r.record).sort()).toEqual(['failed', 'key', 'lastUsed', 'shapes']);
    expect(r.record.shapes).toEqual([{ x: [1, 3, 64, 96] }]);
    expect(r.record.failed).toEqual([]);
    // The second load's smoke run, and the rest of its warm-up, ran on exactly those dims.
    expect(r.secondWarmup).toMatchObject({ on: 'remembered', dims: { x: [1, 3, 64, 96] }, runsAtLoad: 1, failedAttempts: 0 });
    expect(r.detail).toMatchObject({ on: 'remembered', dims: { x: [1, 3, 64, 96] } });
  });

  test("only calls are remembered: the page's own warm-up runs (on the warm-up's dims) are not", async () => {
    const r = await page.evaluate(async () => {
      const { loadModel, modelStore, __testing } = (window as any).OnDevice;
      const warm = (window as any).__warm;
      await modelStore.clear();
      const model = await loadModel('/models/tiny-mlp.onnx', { backend: 'wasm' });
      await warm.warmedUp(model);
      // The page path was warmed on the warm-up's [1, 16] by now; the page's own call is [3, 16].
      const pageRuns = await __testing.runsOf(model);
      await model.run({ x: { type: 'float32', data: new Float32Array(48).fill(0.5), dims: [3, 16] } });
      const record = await warm.waitForRecord('tiny-mlp.onnx', (r: any) => r.shapes.length > 0);
      model.dispose();
      return { pageRuns, shapes: record.shapes };
    });
    expect(r.pageRuns).toBeGreaterThan(0);
    expect(r.shapes).toEqual([{ x: [3, 16] }]);
  });

  test('a model whose generated warm-up inputs always fail is not tried with them again: the next load has no warm-up cost', async () => {
    const errorsBefore = session.errors.length;
    const r = await page.evaluate(async () => {
      const { loadModel, modelStore, __testing } = (window as any).OnDevice;
      const warm = (window as any).__warm;
      await modelStore.clear();
      const first = await loadModel('/fixtures/reshape-77.onnx', { backend: 'wasm' });
      const firstWarmup = await __testing.warmupOf(first);
      first.dispose();
      const record = await warm.waitForRecord('reshape-77.onnx', (r: any) => r.failed.length === firstWarmup.failedAttempts);
      const second = await loadModel('/fixtures/reshape-77.onnx', { backend: 'wasm' });
      const secondWarmup = await __testing.warmupOf(second);
      // It is warmed on its first call's inputs instead (in the worker only: they are not stored).
      const warmed = warm.warmedUp(second);
      const out = await second.run({ x: { type: 'float32', data: new Float32Array(77).fill(0.5), dims: [1, 77] } });
      const detail = await warmed;
      const afterCall = await warm.waitForRecord('reshape-77.onnx', (r: any) => r.shapes.length === 1);
      second.dispose();
      return { firstWarmup, record, secondWarmup, outputDims: out.y.dims, detail, afterCall };
    });
    // The first load tried each guess (free dims of 32, 256, then 1: x has no other symbolic dim), all refused;
    // the load still resolved.
    expect(r.firstWarmup).toMatchObject({ warm: false, runsAtLoad: 0, failedAttempts: 3 });
    expect(r.record.failed).toHaveLength(3);
    // The second load tried nothing.
    expect(r.secondWarmup).toMatchObject({ warm: false, runsAtLoad: 0, failedAttempts: 0 });
    expect(r.outputDims).toEqual([7, 11]);
    expect(r.detail).toMatchObject({ on: 'first-call', dims: { x: [1, 77] } });
    expect(r.afterCall.shapes).toEqual([{ x: [1, 77] }]);
    // onnxruntime's kernel errors never reach the page's console.
    expect(session.errors.slice(errorsBefore)).toEqual([]);
  });

  test('a model that refuses generated values gets the constant its graph compares an input with: Silero VAD by URL warms up at load', async () => {
    const r = await page.evaluate(async () => {
      const { loadModel, modelStore, __testing } = (window as any).OnDevice;
      await modelStore.clear();
      // No registry sample by URL: the graph's Equal(sr, 16000) gives sr, so the warm-up takes the 16 kHz branch the
      // calls take (a generated 0 would take the 8 kHz one). 32 samples are too few, and the unnamed dim of state
      // [2, ?, 128] must be the batch (1): three guesses are refused before 256 samples with a batch of 1 run.
      const first = await loadModel('/models/silero_vad_v5.onnx', { backend: 'wasm' });
      const firstWarmup = await __testing.warmupOf(first);
      first.dispose();
      await (window as any).__warm.waitForRecord('silero_vad_v5.onnx', (r: any) => r.failed.length === 3);
      const second = await loadModel('/models/silero_vad_v5.onnx', { backend: 'wasm' });
      const secondWarmup = await __testing.warmupOf(second);
      second.dispose();
      return { firstWarmup, secondWarmup };
    });
    const dims = { input: [1, 256], state: [2, 1, 128], sr: [] };
    expect(r.firstWarmup).toMatchObject({ on: 'sample', dims, fill: { sr: 16000 }, runsAtLoad: 1, failedAttempts: 3 });
    // The refused guesses are not tried again.
    expect(r.secondWarmup).toMatchObject({ on: 'sample', dims, runsAtLoad: 1, failedAttempts: 0 });
  });
});

test('no console errors were logged by the page', () => {
  expect(session.errors.filter((e) => !/404|Failed to load resource/.test(e))).toEqual([]);
});
