// The core runtime in real headless Chromium (WASM; this browser has no WebGPU adapter), checked
// against native onnxruntime-node on the same inputs.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { makeInputs } from '../helpers/inputs';
import { compareOutputs, runReference } from '../helpers/reference';
import { feedsFromWire, feedsToWire, PAGE_WIRE_SOURCE, type WireTensor } from '../helpers/wire';
import registry from '../../models/registry.json';

type Entry = (typeof registry)[number];
const fixtures = mkdtempSync(path.join(tmpdir(), 'ondevice-fixtures-'));
writeFileSync(path.join(fixtures, 'not-a-model.onnx'), '<!doctype html><title>SPA fallback</title>');
// Passes the cheap content check (starts like a protobuf) but is not a model.
writeFileSync(
  path.join(fixtures, 'garbage.onnx'),
  Buffer.from([0x08, 0x07, 0x12, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, ...Array(500).fill(0x5a)]),
);

let session: BrowserSession;
let page: Page;

beforeAll(async () => {
  session = await startBrowserSession({ env: { ONDEVICE_FIXTURES_DIR: fixtures } });
  page = await session.open('/test-page.html');
  await page.addScriptTag({ content: PAGE_WIRE_SOURCE });
});

afterAll(async () => {
  await session?.close();
});

// No test leaves an error in the page's console (the 404s the missing-file tests ask for aside).
let errorsChecked = 0;
afterEach(() => {
  const fresh = session.errors.slice(errorsChecked).filter((e) => !/404|Failed to load resource/.test(e));
  errorsChecked = session.errors.length;
  expect(fresh, 'console errors during this test').toEqual([]);
});

/** Load a model in the page, run it once, dispose it. */
async function runInPage(id: string, feeds: Record<string, WireTensor>, backend = 'wasm') {
  return page.evaluate(
    async ({ id, feeds, backend }) => {
      const w = (window as any).__wire;
      const model = await (window as any).OnDevice.loadModel(id, { backend, warmup: false });
      try {
        const out = await model.run(w.feedsFromWire(feeds));
        return { backend: model.backend, optimized: model.info.optimized === true, outputs: w.feedsToWire(out) };
      } finally {
        model.dispose();
      }
    },
    { id, feeds, backend },
  );
}

/** Run something in the page and return the OnDeviceError's code (or 'resolved'). */
async function codeOf(fn: string, arg?: unknown): Promise<string> {
  return page.evaluate(
    async ({ fn, arg }) => {
      try {
        await (0, eval)(`(${fn})`)(arg);
        return 'resolved';
      } catch (e: any) {
        return e?.name === 'OnDeviceError' ? e.code : `not an OnDeviceError: ${e}`;
      }
    },
    { fn, arg },
  );
}

describe('test hooks are test-only', () => {
  test('the production bundles and worker carry no test hook; the test-only build does', () => {
    const read = (file: string) => readFileSync(path.join('dist', file), 'utf8');
    const production = ['ondevice.js', 'ondevice.mjs', 'ondevice-worker.mjs', ...readdirSync('dist/chunks').map((f) => `chunks/${f}`)];
    for (const file of production)
      expect(`${file}: ${/__testing|deviceLostCallbackCount|warmupOf/.test(read(file))}`).toBe(`${file}: false`);
    expect(read('testing/ondevice.js')).toContain('__testing');
    expect(read('testing/ondevice-worker.mjs')).toContain('deviceLostCallbackCount');
  });
});

describe('every registry model on WASM matches onnxruntime-node', () => {
  for (const entry of registry as Entry[]) {
    test(`${entry.id}`, async () => {
      const feeds = makeInputs(entry as never, { seed: 7 });
      const expected = await runReference(path.join('public/models', entry.file), feeds);
      const { backend, optimized, outputs } = await runInPage(entry.id, feedsToWire(feeds));
      expect(backend).toBe('wasm');
      // An entry with a pre-optimised copy runs the copy on WASM; the reference is the original file.
      expect(optimized).toBe('optimized' in entry);
      const actual = feedsFromWire(outputs);
      expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
      // Float tolerance: the same kernels, but wasm SIMD vs native may order sums differently.
      const mismatches = compareOutputs(actual, expected, { atol: 1e-4, rtol: 1e-3 });
      expect(mismatches).toEqual([]);
    });
  }
});

describe('pre-optimised copies (registry `optimized`)', () => {
  const digits = registry.find((e) => e.id === 'digits')!;

  /** Load `entry` (a registry entry object) on WASM; its info and one output. */
  const loadEntry = (entry: unknown) =>
    page.evaluate(async (entry) => {
      const model = await (window as any).OnDevice.loadModel(entry, { backend: 'wasm', warmup: false, cache: false });
      try {
        const out = await model.run({ image: { type: 'float32', data: new Float32Array(784).fill(0.5), dims: [1, 1, 28, 28] } });
        const { optimized, optimizedError } = model.info;
        return { optimized: optimized === true, optimizedError: optimizedError ?? null, first: out.probabilities.data[0] as number };
      } finally {
        model.dispose();
      }
    }, entry);

  test('a copy that fails its sha256 is never run: the original loads, and info says why', async () => {
    expect('optimized' in digits).toBe(true);
    const good = await loadEntry(digits);
    expect(good).toMatchObject({ optimized: true, optimizedError: null });
    const tampered = { ...digits, optimized: { ...(digits as any).optimized, sha256: '0'.repeat(64) } };
    const fallback = await loadEntry(tampered);
    expect(fallback.optimized).toBe(false);
    expect(fallback.optimizedError).toMatchObject({ code: 'INTEGRITY_MISMATCH' });
    expect(fallback.first).toBeCloseTo(good.first, 5);
  });

  test('a copy that is missing (404) leaves the original; one written by another onnxruntime is not fetched', async () => {
    const missing = { ...digits, optimized: { ...(digits as any).optimized, file: 'no-such-copy.onnx' } };
    expect(await loadEntry(missing)).toMatchObject({ optimized: false, optimizedError: { code: 'MODEL_FETCH_FAILED' } });
    const requested: string[] = [];
    const onRequest = (r: { url(): string }) => requested.push(r.url());
    page.context().on('request', onRequest);
    try {
      const other = { ...digits, optimized: { ...(digits as any).optimized, onnxruntime: '1.29.0' } };
      expect(await loadEntry(other)).toMatchObject({ optimized: false, optimizedError: null });
    } finally {
      page.context().off('request', onRequest);
    }
    expect(requested.filter((u) => u.includes('/models/digits-1'))).toEqual([expect.stringMatching(/\/models\/digits-1\.onnx$/)]);
  });
});

describe('runtime behaviour', () => {
  test('auto falls back to WASM with a reason when WebGPU is unavailable', async () => {
    const result = await page.evaluate(async () => {
      const m = await (window as any).OnDevice.loadModel('tiny-mlp', { warmup: false });
      const r = { backend: m.backend, reason: m.fallbackReason };
      m.dispose();
      return r;
    });
    expect(result.backend).toBe('wasm');
    expect(result.reason).toMatch(/WebGPU/);
  });

  test('forcing webgpu where there is none → BACKEND_UNAVAILABLE', async () => {
    expect(await codeOf(`() => OnDevice.loadModel('tiny-mlp', { backend: 'webgpu' })`)).toBe('BACKEND_UNAVAILABLE');
  });

  test('a stateful model: the state output fed back accumulates', async () => {
    const states = await page.evaluate(async () => {
      const m = await (window as any).OnDevice.loadModel('counter', { backend: 'wasm' });
      let state: Float32Array = new Float32Array(4);
      const seen: number[][] = [];
      for (let i = 0; i < 3; i++) {
        const out = await m.run({
          x: { type: 'float32', data: Float32Array.of(1, 2, 3, 4), dims: [1, 4] },
          state: { type: 'float32', data: state, dims: [1, 4] },
        });
        const next = Object.entries(out).find(([k]) => k !== 'y' && k.includes('state'))![1] as { data: Float32Array };
        state = next.data;
        seen.push(Array.from(state));
      }
      m.dispose();
      return seen;
    });
    expect(states).toEqual([
      [1, 2, 3, 4],
      [2, 4, 6, 8],
      [3, 6, 9, 12],
    ]);
  });

  test('input buffers are transferred (detached) by default and kept with transfer: false', async () => {
    const r = await page.evaluate(async () => {
      const m = await (window as any).OnDevice.loadModel('tiny-mlp', { backend: 'wasm', warmup: false });
      const a = new Float32Array(16).fill(0.5);
      await m.run({ x: { type: 'float32', data: a, dims: [1, 16] } });
      const b = new Float32Array(16).fill(0.5);
      await m.run({ x: { type: 'float32', data: b, dims: [1, 16] } }, { transfer: false });
      m.dispose();
      return { transferred: a.byteLength, kept: b.byteLength };
    });
    expect(r).toEqual({ transferred: 0, kept: 64 });
  });

  test('metadata comes from the session for a model loaded by URL without a registry entry', async () => {
    const r = await page.evaluate(async () => {
      const m = await (window as any).OnDevice.loadModel('/models/tiny-mlp.onnx', { backend: 'wasm', warmup: false });
      const r = { id: m.id, inputs: m.inputs, outputs: m.outputs };
      m.dispose();
      return r;
    });
    expect(r.id).toBe('tiny-mlp');
    expect(r.inputs).toEqual([expect.objectContaining({ name: 'x', type: 'float32' })]);
    expect(r.inputs[0].shape).toHaveLength(2);
    expect(r.inputs[0].shape[1]).toBe(16);
    expect(r.outputs[0].type).toBe('float32');
  });

  test('bad inputs → INVALID_INPUT, and the worker is still healthy after', async () => {
    const results = await page.evaluate(async () => {
      const m = await (window as any).OnDevice.loadModel('tiny-mlp', { backend: 'wasm', warmup: false });
      const attempt = async (feeds: unknown) => {
        try {
          await m.run(feeds);
          return 'resolved';
        } catch (e: any) {
          return e.code;
        }
      };
      const codes = [
        await attempt({ y: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } }),
        await attempt({ x: { type: 'int32', data: new Int32Array(16), dims: [1, 16] } }),
        await attempt({ x: { type: 'float32', data: new Float32Array(16), dims: [16] } }),
        await attempt({ x: { type: 'float32', data: new Float32Array(15), dims: [1, 16] } }),
        await attempt({ x: { type: 'float32', data: new Float32Array(17), dims: [1, 17] } }),
      ];
      const ok = await m.run({ x: { type: 'float32', data: new Float32Array(16).fill(1), dims: [1, 16] } });
      m.dispose();
      return { codes, okDims: (Object.values(ok)[0] as any).dims };
    });
    expect(results.codes).toEqual(['INVALID_INPUT', 'INVALID_INPUT', 'INVALID_INPUT', 'INVALID_INPUT', 'INVALID_INPUT']);
    expect(results.okDims).toEqual([1, 4]);
  });

  test('worker killed mid-run → WORKER_CRASHED, queued calls too; the next run starts a new worker', async () => {
    const r = await page.evaluate(async () => {
      const { loadModel, __testing } = (window as any).OnDevice;
      const m = await loadModel('ppocr-v4-det', { backend: 'wasm', warmup: false });
      const feeds = () => ({ x: { type: 'float32', data: new Float32Array(3 * 320 * 320).fill(0.3), dims: [1, 3, 320, 320] } });
      const workerBefore = __testing.workerId(m);
      const inFlight = m.run(feeds()).then(
        () => 'resolved',
        (e: any) => e.code,
      );
      const queued = m.run(feeds()).then(
        () => 'resolved',
        (e: any) => e.code,
      );
      // Kill only once the first call has been sent to the worker (its reply pending), not on a timer.
      const deadline = performance.now() + 10_000;
      while (__testing.pendingCalls(m) === 0) {
        if (performance.now() > deadline) throw new Error('the first run never reached the worker');
        await new Promise((r) => setTimeout(r, 0));
      }
      __testing.killWorker(m);
      const codes = [await inFlight, await queued];
      const after = await m.run(feeds());
      const r = { codes, dims: (Object.values(after)[0] as any).dims, newWorker: __testing.workerId(m) !== workerBefore };
      m.dispose();
      return r;
    });
    expect(r.codes).toEqual(['WORKER_CRASHED', 'WORKER_CRASHED']);
    expect(r.dims).toEqual([1, 1, 320, 320]);
    expect(r.newWorker).toBe(true);
  });

  test('a model URL that 404s → MODEL_FETCH_FAILED', async () => {
    expect(await codeOf(`() => OnDevice.loadModel('/models/does-not-exist.onnx', { backend: 'wasm' })`)).toBe('MODEL_FETCH_FAILED');
  });

  test('an HTML page at a model URL → MODEL_FETCH_FAILED; bytes that are not ONNX → MODEL_LOAD_FAILED', async () => {
    expect(await codeOf(`() => OnDevice.loadModel('/fixtures/not-a-model.onnx', { backend: 'wasm' })`)).toBe('MODEL_FETCH_FAILED');
    expect(await codeOf(`() => OnDevice.loadModel('/fixtures/garbage.onnx', { backend: 'wasm' })`)).toBe('MODEL_LOAD_FAILED');
  });

  test('an unknown registry id → INVALID_INPUT naming the known ids', async () => {
    const message = await page.evaluate(() => (window as any).OnDevice.loadModel('nope').catch((e: any) => `${e.code}: ${e.message}`));
    expect(message).toMatch(/^INVALID_INPUT: .*tiny-mlp/);
  });

  test('dispose then run → DISPOSED; queued calls on dispose → DISPOSED', async () => {
    expect(
      await codeOf(`async () => {
        const m = await OnDevice.loadModel('tiny-mlp', { backend: 'wasm', warmup: false });
        m.dispose();
        await m.run({ x: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } });
      }`),
    ).toBe('DISPOSED');
  });

  test('an aborted signal rejects queued calls with ABORTED, others still complete', async () => {
    const r = await page.evaluate(async () => {
      const m = await (window as any).OnDevice.loadModel('ppocr-v4-det', { backend: 'wasm', warmup: false });
      const feeds = () => ({ x: { type: 'float32', data: new Float32Array(3 * 160 * 160).fill(0.2), dims: [1, 3, 160, 160] } });
      const controller = new AbortController();
      const first = m.run(feeds()).then(
        () => 'resolved',
        (e: any) => e.code,
      );
      const second = m.run(feeds(), { signal: controller.signal }).then(
        () => 'resolved',
        (e: any) => e.code,
      );
      const third = m.run(feeds()).then(
        () => 'resolved',
        (e: any) => e.code,
      );
      controller.abort();
      const r = [await first, await second, await third];
      m.dispose();
      return r;
    });
    expect(r).toEqual(['resolved', 'ABORTED', 'resolved']);
  });

  test('disposing the last model terminates its worker', async () => {
    const counts = await page.evaluate(async () => {
      const { loadModel, __testing } = (window as any).OnDevice;
      // Earlier tests' workers go away asynchronously after their last dispose; wait (bounded) for that.
      const settle = async (want: number) => {
        for (let i = 0; i < 100 && __testing.workerCount() !== want; i++) await new Promise((r) => setTimeout(r, 50));
        return __testing.workerCount();
      };
      const before = await settle(0);
      const m = await loadModel('tiny-mlp', { backend: 'wasm', warmup: false });
      const during = __testing.workerCount();
      m.dispose();
      return { before, during, after: await settle(before) };
    });
    expect(counts.before).toBe(0);
    expect(counts.during).toBe(1);
    expect(counts.after).toBe(0);
  });

  test('loading and disposing a model 20 times does not grow the worker memory unboundedly', async () => {
    const heaps = await page.evaluate(async () => {
      const { loadModel, __testing } = (window as any).OnDevice;
      // An anchor model keeps the worker alive across the cycles.
      const anchor = await loadModel('tiny-mlp', { backend: 'wasm', warmup: false });
      const sizes: number[] = [];
      for (let i = 0; i < 20; i++) {
        const m = await loadModel('ppocr-v4-det', { backend: 'wasm', warmup: false });
        await m.run({ x: { type: 'float32', data: new Float32Array(3 * 64 * 64).fill(0.1), dims: [1, 3, 64, 64] } });
        m.dispose();
        sizes.push((await __testing.memory(anchor)).wasmHeapBytes);
      }
      const sessions = (await __testing.memory(anchor)).sessions;
      anchor.dispose();
      return { sizes, sessions };
    });
    expect(heaps.sessions).toBe(1);
    expect(heaps.sizes[2]).toBeGreaterThan(0);
    // A leaked det session is ~5 MB of weights; 17 leaks would add ~85 MB. Allow one 16 MiB heap step.
    expect(heaps.sizes[19]).toBeLessThanOrEqual(heaps.sizes[2] + 16 * 1024 * 1024);
  });

  test('warmup must be a boolean or feeds → INVALID_INPUT', async () => {
    expect(await codeOf(`() => OnDevice.loadModel('tiny-mlp', { warmup: 'yes' })`)).toBe('INVALID_INPUT');
    expect(await codeOf(`() => OnDevice.loadModel('tiny-mlp', { stallTimeoutMs: -1 })`)).toBe('INVALID_INPUT');
  });

  test("the shared registry fetch is not failed by one caller's abort", async () => {
    const r = await page.evaluate(async () => {
      const { configure, loadModel } = (window as any).OnDevice;
      // A registry URL nobody fetched yet, so both loads share one fresh fetch.
      const previous = configure({}).registryUrl;
      configure({ registryUrl: new URL(`/models/registry.json?fresh=${Date.now()}`, location.href).href });
      try {
        const controller = new AbortController();
        const first = loadModel('tiny-mlp', { backend: 'wasm', warmup: false, signal: controller.signal });
        const second = loadModel('tiny-mlp', { backend: 'wasm', warmup: false });
        controller.abort();
        const codes = await Promise.all(
          [first, second].map((p) =>
            p.then(
              (m: any) => (m.dispose(), 'loaded'),
              (e: any) => e.code,
            ),
          ),
        );
        return codes;
      } finally {
        configure({ registryUrl: previous });
      }
    });
    expect(r).toEqual(['ABORTED', 'loaded']);
  });
});
