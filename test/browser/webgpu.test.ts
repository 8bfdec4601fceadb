// WebGPU through SwiftShader (CPU Vulkan). Slow, so the inputs are tiny.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { makeInputs } from '../helpers/inputs';
import { compareOutputs, runReference } from '../helpers/reference';
import { feedsFromWire, feedsToWire, PAGE_WIRE_SOURCE } from '../helpers/wire';
import registry from '../../models/registry.json';

let session: BrowserSession;
let page: Page;

beforeAll(async () => {
  session = await startBrowserSession({ webgpu: true });
  page = await session.open('/test-page.html');
  await page.addScriptTag({ content: PAGE_WIRE_SOURCE });
});

afterAll(async () => {
  await session?.close();
});

describe('WebGPU (SwiftShader)', () => {
  test('auto picks WebGPU and tiny-mlp matches onnxruntime-node', async () => {
    const entry = registry.find((e) => e.id === 'tiny-mlp')!;
    const feeds = makeInputs(entry as never, { seed: 3, dims: { x: [2, 16] } } as never);
    const expected = await runReference(path.join('public/models', entry.file), feeds);
    const r = await page.evaluate(async (feeds) => {
      const w = (window as any).__wire;
      const m = await (window as any).OnDevice.loadModel('tiny-mlp', { warmup: false });
      const out = await m.run(w.feedsFromWire(feeds));
      const r = { backend: m.backend, reason: m.fallbackReason, adapter: m.info.adapter, outputs: w.feedsToWire(out) };
      m.dispose();
      return r;
    }, feedsToWire(feeds));
    expect(r.reason).toBeUndefined();
    expect(r.backend).toBe('webgpu');
    expect(r.adapter).toBeDefined();
    // GPU float math (and SwiftShader's) differs from CPU in the last bits.
    expect(compareOutputs(feedsFromWire(r.outputs), expected, { atol: 1e-4, rtol: 1e-3 })).toEqual([]);
  });

  test('device loss: the model is rebuilt on WASM, pending calls complete there, the event is reported', async () => {
    const r = await page.evaluate(async () => {
      const { loadModel, __testing } = (window as any).OnDevice;
      const m = await loadModel('tiny-mlp', { backend: 'webgpu', warmup: false });
      const events: string[] = [];
      m.addEventListener('backendlost', (e: CustomEvent) => events.push(e.detail.reason));
      const feeds = () => ({ x: { type: 'float32', data: new Float32Array(16).map((_, i) => i / 16), dims: [1, 16] } });
      const before = await m.run(feeds());
      const gpuWorker = __testing.workerId(m);
      const lost = __testing.loseDevice(m);
      const pending = [m.run(feeds()), m.run(feeds()), m.run(feeds())].map((p: Promise<any>) =>
        p.then(
          (o) => Array.from((Object.values(o)[0] as any).data as Float32Array),
          (e) => e.code,
        ),
      );
      await lost;
      const results = await Promise.all(pending);
      const after = await m.run(feeds());
      const r = {
        backend: m.backend,
        reason: m.fallbackReason,
        events,
        newWorker: __testing.workerId(m) !== gpuWorker,
        before: Array.from((Object.values(before)[0] as any).data as Float32Array),
        results,
        after: Array.from((Object.values(after)[0] as any).data as Float32Array),
      };
      m.dispose();
      return r;
    });
    expect(r.backend).toBe('wasm');
    expect(r.reason).toMatch(/device lost/i);
    expect(r.events).toHaveLength(1);
    expect(r.newWorker).toBe(true);
    // tiny-mlp: 4 class probabilities per row. Every call (three pending at the loss, one after) gives them.
    expect(r.before).toHaveLength(4);
    expect(r.results).toHaveLength(3);
    for (const result of [...r.results, r.after]) {
      expect(Array.isArray(result)).toBe(true);
      expect(result).toHaveLength(4);
      (result as number[]).forEach((v, i) => expect(v).toBeCloseTo(r.before[i], 4));
    }
  });

  test('device loss after dispose: released models leave no callback behind and are not rebuilt', async () => {
    const r = await page.evaluate(async () => {
      const { loadModel, __testing } = (window as any).OnDevice;
      const kept = await loadModel('tiny-mlp', { backend: 'webgpu', warmup: false });
      const disposed = await loadModel('tiny-mlp', { backend: 'webgpu', warmup: false });
      const events: string[] = [];
      kept.addEventListener('backendlost', () => events.push('kept'));
      disposed.addEventListener('backendlost', () => events.push('disposed'));
      const sameWorker = __testing.workerId(kept) === __testing.workerId(disposed);
      const callbacksWithBoth = await __testing.deviceLostCallbackCount(kept);
      disposed.dispose();
      const callbacksAfterDispose = await __testing.deviceLostCallbackCount(kept);
      await __testing.loseDevice(kept);
      // The kept model moves to WASM; a run waits for that move.
      const out = await kept.run({ x: { type: 'float32', data: new Float32Array(16).fill(0.5), dims: [1, 16] } });
      const r = {
        sameWorker,
        callbacksWithBoth,
        callbacksAfterDispose,
        events,
        backend: kept.backend,
        probs: (Object.values(out)[0] as any).data.length,
      };
      kept.dispose();
      return r;
    });
    expect(r).toEqual({ sameWorker: true, callbacksWithBoth: 2, callbacksAfterDispose: 1, events: ['kept'], backend: 'wasm', probs: 4 });
  });
});
