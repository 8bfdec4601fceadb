// Faster pipelines: WebGPU outputs kept on the GPU between two models (`model.runThen` with
// `webgpu: { keepOutputsOnGpu: true }`) and graph capture (`webgpu: { graphCapture: true }`), checked
// against onnxruntime-node through SwiftShader (CPU Vulkan): correctness only, the inputs are tiny.
// Speed on a real GPU is not measured here (no GPU on the test machines).
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { makeInputs } from '../helpers/inputs';
import { compareOutputs, runReference } from '../helpers/reference';
import { feedsFromWire, feedsToWire, PAGE_WIRE_SOURCE } from '../helpers/wire';
import type { Feeds } from '../../src/index';
import registry from '../../models/registry.json';

let session: BrowserSession;
let page: Page;
const entryOf = (id: string) => registry.find((e) => e.id === id)!;

beforeAll(async () => {
  session = await startBrowserSession({ webgpu: true });
  page = await session.open('/test-page.html');
  await page.addScriptTag({ content: PAGE_WIRE_SOURCE });
});

afterAll(async () => {
  await session?.close();
});

/** counter twice in onnxruntime-node, the first's outputs fed to the second in order (y → x, state_out → state). */
async function counterTwice(feeds: Feeds): Promise<Feeds> {
  const file = path.join('public/models', entryOf('counter').file);
  const first = await runReference(file, feeds);
  return runReference(file, { x: first.y, state: first.state_out });
}

describe('WebGPU pipelines (SwiftShader)', () => {
  for (const backend of ['webgpu', 'wasm'] as const) {
    test(`runThen on ${backend}: counter → counter in one worker matches onnxruntime-node`, async () => {
      const feeds: Feeds = {
        x: { type: 'float32', data: Float32Array.from([1, -2, 3.5, 0.25]), dims: [1, 4] },
        state: { type: 'float32', data: Float32Array.from([10, 20, -30, 0.5]), dims: [1, 4] },
      };
      const expected = await counterTwice(feeds);
      const r = await page.evaluate(
        async ({ feeds, backend }) => {
          const w = (window as any).__wire;
          const { loadModel } = (window as any).OnDevice;
          const options = { backend, warmup: false };
          const first = await loadModel('counter', { ...options, webgpu: { keepOutputsOnGpu: true } });
          const second = await loadModel('counter', options);
          const chained = await first.runThen(second, w.feedsFromWire(feeds));
          // A plain run of a model whose outputs stay on the GPU still hands them back.
          const plain = await first.run(w.feedsFromWire(feeds));
          const r = { backends: [first.backend, second.backend], chained: w.feedsToWire(chained), plain: w.feedsToWire(plain) };
          first.dispose();
          second.dispose();
          return r;
        },
        { feeds: feedsToWire(feeds), backend },
      );
      expect(r.backends).toEqual([backend, backend]);
      expect(compareOutputs(feedsFromWire(r.chained), expected, { atol: 1e-5, rtol: 1e-5 })).toEqual([]);
      const once = await runReference(path.join('public/models', entryOf('counter').file), feeds);
      expect(compareOutputs(feedsFromWire(r.plain), once, { atol: 1e-5, rtol: 1e-5 })).toEqual([]);
    });
  }

  test('runThen refuses models in different workers, with a code', async () => {
    const code = await page.evaluate(async () => {
      const { loadModel } = (window as any).OnDevice;
      const gpu = await loadModel('counter', { backend: 'webgpu', warmup: false });
      const cpu = await loadModel('counter', { backend: 'wasm', warmup: false });
      const feeds = {
        x: { type: 'float32', data: new Float32Array(4), dims: [1, 4] },
        state: { type: 'float32', data: new Float32Array(4), dims: [1, 4] },
      };
      const outcome = await gpu.runThen(cpu, feeds).then(
        () => 'resolved',
        (e: { code: string }) => e.code,
      );
      gpu.dispose();
      cpu.dispose();
      return outcome;
    });
    expect(code).toBe('INVALID_INPUT');
  });

  test('graph capture: tiny-mlp replays on new values and matches onnxruntime-node; other dims are refused', async () => {
    const entry = entryOf('tiny-mlp');
    const batches = [1, 2, 3].map((seed) => makeInputs(entry as never, { seed, dims: { x: [2, 16] } } as never));
    const expected = await Promise.all(batches.map((feeds) => runReference(path.join('public/models', entry.file), feeds)));
    const r = await page.evaluate(async (batches) => {
      const w = (window as any).__wire;
      const { loadModel } = (window as any).OnDevice;
      // The warm-up (on WebGPU there is always one smoke run) is the first run, so it fixes the dims.
      const warmup = w.feedsFromWire(batches[2]);
      const m = await loadModel('tiny-mlp', { backend: 'webgpu', warmup, webgpu: { graphCapture: true } });
      const outputs = [];
      for (const feeds of batches) outputs.push(w.feedsToWire(await m.run(w.feedsFromWire(feeds))));
      const otherDims = await m.run({ x: { type: 'float32', data: new Float32Array(48), dims: [3, 16] } }).then(
        () => 'resolved',
        (e: { code: string }) => e.code,
      );
      const r = { backend: m.backend, reason: m.fallbackReason, outputs, otherDims };
      m.dispose();
      return r;
    }, batches.map(feedsToWire));
    expect(r.reason).toBeUndefined();
    expect(r.backend).toBe('webgpu');
    r.outputs.forEach((out, i) => expect(compareOutputs(feedsFromWire(out), expected[i], { atol: 1e-4, rtol: 1e-3 })).toEqual([]));
    // Replays read the new inputs: three different batches, three different results.
    expect(compareOutputs(feedsFromWire(r.outputs[0]), expected[1])).not.toEqual([]);
    expect(r.otherDims).toBe('INVALID_INPUT');
  });
});
