// Session creation is most of a load: registry models' pre-optimised copies (registry `optimized`, `npm run models:optimize`) vs
// their originals in headless Chromium — session creation inside the runtime worker (WASM, default threads),
// and load → first result — alternating original / copy per round, so load from elsewhere hits both alike.
// `npm run bench -- optimized` (after the build) writes bench-results/optimized.json.
import type { Page } from 'playwright-core';
import { startAppServer } from '../test/helpers/appServer';
import { launchChromium } from '../test/helpers/chromium';
import registry from '../models/registry.json';
import { median } from '../src/collector/percentile';

const ROUNDS = Number(process.env.BENCH_OPTIMIZED_ROUNDS ?? 5);

export interface OptimizedModelTiming {
  model: string;
  bytes: { original: number; optimized: number };
  /** Medians over the rounds, milliseconds. */
  sessionMs: { original: number; optimized: number };
  /** Load (bytes and session; no warm-up, whose length is set by its time budget) and one run on the sample input. */
  firstResultMs: { original: number; optimized: number };
  /** optimized / original. */
  sessionRatio: number;
  firstResultRatio: number;
  /** Whether every load of the copy reported `info.optimized` (and none of the original's did). */
  usedCopy: boolean;
}

function loadTwice(page: Page, id: string, rounds: number) {
  return page.evaluate(
    async ({ id, rounds }) => {
      const O = (window as any).OnDevice;
      const entries = await (await fetch('/models/registry.json')).json();
      const entry = entries.find((e: any) => e.id === id);
      const { optimized: _drop, ...original } = entry;
      const out = { original: [] as any[], optimized: [] as any[] };
      for (let round = 0; round < rounds; round++) {
        for (const [label, which] of [
          ['original', original],
          ['optimized', entry],
        ] as const) {
          const started = performance.now();
          const model = await O.loadModel(which, { backend: 'wasm', cache: false, warmup: false });
          const feeds: Record<string, unknown> = {};
          for (const spec of model.inputs) {
            const dims = entry.sample?.dims?.[spec.name] ?? spec.shape.map((d: any) => (typeof d === 'number' && d > 0 ? d : 1));
            const size = dims.reduce((a: number, b: number) => a * b, 1);
            const fill = entry.sample?.fill?.[spec.name];
            feeds[spec.name] =
              spec.type === 'int64'
                ? { type: 'int64', dims, data: BigInt64Array.from({ length: size }, () => BigInt(fill ?? 1)) }
                : { type: 'float32', dims, data: Float32Array.from({ length: size }, (_, i) => fill ?? Math.sin(i * 0.01)) };
          }
          await model.run(feeds);
          const firstResultMs = performance.now() - started;
          out[label].push({ sessionMs: model.info.timings.sessionMs, firstResultMs, optimized: model.info.optimized === true });
          model.dispose();
        }
      }
      return out;
    },
    { id, rounds },
  );
}

export async function runOptimizedModelsBench(): Promise<OptimizedModelTiming[]> {
  const server = await startAppServer();
  const browser = await launchChromium();
  const results: OptimizedModelTiming[] = [];
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/test-page.html`);
    // Keeps the WASM worker (and its started onnxruntime) alive between loads, so each load times only its model.
    await page.evaluate(async () => {
      (window as any).__keeper = await (window as any).OnDevice.loadModel('tiny-mlp', { backend: 'wasm', cache: false });
    });
    for (const entry of registry) {
      if (!('optimized' in entry) || !entry.optimized) continue;
      await loadTwice(page, entry.id, 1); // untimed: the first load of each model compiles its kernels' code paths
      const times = await loadTwice(page, entry.id, ROUNDS);
      const m = (side: 'original' | 'optimized', key: 'sessionMs' | 'firstResultMs') => median(times[side].map((t: any) => t[key]));
      const sessionMs = { original: m('original', 'sessionMs'), optimized: m('optimized', 'sessionMs') };
      const firstResultMs = { original: m('original', 'firstResultMs'), optimized: m('optimized', 'firstResultMs') };
      results.push({
        model: entry.id,
        bytes: { original: entry.bytes, optimized: entry.optimized.bytes },
        sessionMs,
        firstResultMs,
        sessionRatio: sessionMs.optimized / sessionMs.original,
        firstResultRatio: firstResultMs.optimized / firstResultMs.original,
        usedCopy: times.optimized.every((t: any) => t.optimized) && times.original.every((t: any) => !t.optimized),
      });
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  return results;
}

export function printOptimizedModelsBench(rows: OptimizedModelTiming[]): void {
  console.log(`\npre-optimised copies vs originals (WASM, medians of ${ROUNDS}, alternating; ms)`);
  console.log('model            |  session orig    copy  ratio | load→first run   orig    copy  ratio | copy used');
  for (const r of rows) {
    const f = (x: number) => x.toFixed(0).padStart(7);
    console.log(
      `${r.model.padEnd(16)} | ${f(r.sessionMs.original)} ${f(r.sessionMs.optimized)}  ${r.sessionRatio.toFixed(2)} |           ${f(r.firstResultMs.original)} ${f(r.firstResultMs.optimized)}  ${r.firstResultRatio.toFixed(2)} | ${r.usedCopy}`,
    );
  }
}
