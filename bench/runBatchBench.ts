// Does a pool of workers use the cores? The browser's `model.runBatch` (a pool of workers, each with its own session) vs a
// sequential `model.run` loop on a compute-bound model, in real Chromium against the `npm start` server.
// Baselines in the same run: sequential at 1 thread (the default on 2 cores) and, when the page is
// cross-origin isolated, sequential with every core as intra-op threads — the other way to use the cores.
import { cpus } from 'node:os';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/helpers/chromium';
import { startAppServer } from '../test/helpers/appServer';

const ITEMS = Number(process.env.BENCH_BATCH_ITEMS ?? 24);
const ROUNDS = Number(process.env.BENCH_BATCH_ROUNDS ?? 3);
/** PaddleOCR det at 320×320: ~80 ms of convolution per run on this machine, no I/O to speak of. */
const MODEL = 'ppocr-v4-det';
const DIMS = [1, 3, 320, 320];

export interface RunBatchBenchResult {
  model: string;
  items: number;
  rounds: number;
  cores: number;
  hardwareConcurrency: number;
  crossOriginIsolated: boolean;
  /** Items per second, median over rounds. */
  sequential1Thread: number;
  sequentialAllThreads: number | undefined;
  runBatch: number;
  /** The pool's first call, which starts and loads its extra sessions. */
  runBatchFirstCallItemsPerSecond: number;
  poolWorkers: number;
  threadsPerWorker: number;
  runBatchVsSequential: number;
  runBatchVsAllThreads: number | undefined;
  loadAverage: number[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// Runs in the page: build the items once (copied on every call, so every mode sends the same bytes).
const SETUP = `(async ({ MODEL, DIMS, ITEMS }) => {
  const size = DIMS.reduce((a, b) => a * b, 1);
  const items = Array.from({ length: ITEMS }, (_, k) => {
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = 0.5 * Math.sin(i * 0.013 + k) + 0.25 * Math.sin(i * 0.29);
    return { x: { type: 'float32', data, dims: DIMS } };
  });
  const models = {};
  window.__bench = {
    async load(name, threads) {
      models[name] = await window.OnDevice.loadModel(MODEL, { backend: 'wasm', threads });
      return { threads: models[name].info.threads, isolated: crossOriginIsolated, hc: navigator.hardwareConcurrency };
    },
    async sequential(name) {
      const t0 = performance.now();
      for (const item of items) await models[name].run(item, { transfer: false });
      return performance.now() - t0;
    },
    async batch(name) {
      const t0 = performance.now();
      const results = await models[name].runBatch(items, { transfer: false });
      const failed = results.filter((r) => !r.ok);
      if (failed.length) throw new Error(failed.length + ' items failed: ' + failed[0].error.message);
      return { ms: performance.now() - t0, workers: window.OnDevice.__testing.workerCount() };
    },
  };
})`;

export async function runRunBatchBench(): Promise<RunBatchBenchResult> {
  const server = await startAppServer();
  const browser = await launchChromium();
  let page: Page | undefined;
  try {
    page = await browser.newPage();
    await page.goto(`${server.url}/test-page.html`);
    await page.evaluate(({ SETUP, MODEL, DIMS, ITEMS }) => (0, eval)(SETUP)({ MODEL, DIMS, ITEMS }), { SETUP, MODEL, DIMS, ITEMS });
    const p = page;
    const one = await p.evaluate(() => (window as any).__bench.load('one', 1));
    const cores = one.hc as number;
    const all = one.isolated && cores > 1 ? await p.evaluate((n) => (window as any).__bench.load('all', n), cores) : undefined;
    const first = await p.evaluate(() => (window as any).__bench.batch('one'));
    const seq1: number[] = [];
    const seqAll: number[] = [];
    const batch: number[] = [];
    let workers = first.workers as number;
    // Interleaved round by round, so load from elsewhere on the shared machine hits every mode alike.
    for (let round = 0; round < ROUNDS; round++) {
      seq1.push(await p.evaluate(() => (window as any).__bench.sequential('one')));
      if (all) seqAll.push(await p.evaluate(() => (window as any).__bench.sequential('all')));
      const b = await p.evaluate(() => (window as any).__bench.batch('one'));
      batch.push(b.ms);
      workers = b.workers;
    }
    const perSecond = (ms: number) => (ITEMS * 1000) / ms;
    const result: RunBatchBenchResult = {
      model: `${MODEL} ${DIMS.join('×')}`,
      items: ITEMS,
      rounds: ROUNDS,
      cores: cpus().length,
      hardwareConcurrency: cores,
      crossOriginIsolated: one.isolated,
      sequential1Thread: perSecond(median(seq1)),
      sequentialAllThreads: all ? perSecond(median(seqAll)) : undefined,
      runBatch: perSecond(median(batch)),
      runBatchFirstCallItemsPerSecond: perSecond(first.ms),
      // The 'all' model's worker is counted too when it exists.
      poolWorkers: all ? workers - 1 : workers,
      threadsPerWorker: one.threads,
      runBatchVsSequential: median(seq1) / median(batch),
      runBatchVsAllThreads: all ? median(seqAll) / median(batch) : undefined,
      loadAverage: (await import('node:os')).loadavg(),
    };
    return result;
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
  }
}

export function printRunBatchBench(r: RunBatchBenchResult): void {
  const f = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(2));
  console.log(
    `\nrunBatch (${r.model}, ${r.items} items, median of ${r.rounds} rounds, ${r.hardwareConcurrency} cores, isolated: ${r.crossOriginIsolated})`,
  );
  console.log(`| mode | items/s | vs sequential 1 thread |`);
  console.log(`| --- | --- | --- |`);
  console.log(`| sequential run, 1 thread | ${f(r.sequential1Thread)} | 1.00 |`);
  if (r.sequentialAllThreads !== undefined)
    console.log(
      `| sequential run, ${r.hardwareConcurrency} threads | ${f(r.sequentialAllThreads)} | ${f(r.sequentialAllThreads / r.sequential1Thread)} |`,
    );
  console.log(`| runBatch, ${r.poolWorkers} workers × ${r.threadsPerWorker} thread | ${f(r.runBatch)} | ${f(r.runBatchVsSequential)} |`);
  console.log(
    `| runBatch first call (starts the pool) | ${f(r.runBatchFirstCallItemsPerSecond)} | ${f(r.runBatchFirstCallItemsPerSecond / r.sequential1Thread)} |`,
  );
  console.log(`load average ${r.loadAverage.map((x) => x.toFixed(1)).join(' ')}`);
}
