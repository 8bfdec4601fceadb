// Issue 2 benchmark: (A) ondevice, (B) naive onnxruntime-web (ort.all bundle on the main thread,
// defaults), (C) onnxruntime-node native with the same thread count — same inputs, one run.
import path from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { launchChromium } from '../test/helpers/chromium';
import { startAppServer } from '../test/helpers/appServer';

const RUNS = 30;

interface Case {
  id: string;
  file: string;
  /** Inputs are built the same way in Node and in the page from this recipe. */
  recipe: { name: string; type: 'float32' | 'int64'; dims: number[]; kind: 'wave' | 'zeros' | 'sr' }[];
}

const CASES: Case[] = [
  {
    id: 'ppocr-v4-det',
    file: 'ch_PP-OCRv4_det_infer.onnx',
    recipe: [{ name: 'x', type: 'float32', dims: [1, 3, 320, 320], kind: 'wave' }],
  },
  {
    id: 'silero-vad-v5',
    file: 'silero_vad_v5.onnx',
    recipe: [
      { name: 'input', type: 'float32', dims: [1, 512], kind: 'wave' },
      { name: 'state', type: 'float32', dims: [2, 1, 128], kind: 'zeros' },
      { name: 'sr', type: 'int64', dims: [], kind: 'sr' },
    ],
  },
];

// Shared with the page (stringified): deterministic, non-constant inputs.
const BUILD_FEEDS = `(recipe) => Object.fromEntries(recipe.map((r) => {
  const size = r.dims.reduce((a, b) => a * b, 1);
  if (r.type === 'int64') return [r.name, { type: 'int64', dims: r.dims, data: BigInt64Array.of(16000n) }];
  const data = new Float32Array(size);
  if (r.kind === 'wave') for (let i = 0; i < size; i++) data[i] = 0.5 * Math.sin(i * 0.013) + 0.25 * Math.sin(i * 0.29);
  return [r.name, { type: 'float32', dims: r.dims, data }];
}))`;

export interface Measurement {
  loadMs: number;
  firstRunMs: number;
  steadyMedianMs: number;
  longTasks: number;
  threads: number;
  backend?: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The steady state: the median of the last two thirds of the timed runs (after tier-up). */
const steady = (times: number[]) => median(times.slice(Math.floor(times.length / 3)));

async function measureNode(c: Case, threads: number): Promise<Measurement> {
  const build = (0, eval)(BUILD_FEEDS) as (
    r: Case['recipe'],
  ) => Record<string, { type: string; dims: number[]; data: Float32Array | BigInt64Array }>;
  const t0 = performance.now();
  const session = await ortNode.InferenceSession.create(path.join('public/models', c.file), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const loadMs = performance.now() - t0;
  const feeds = () =>
    Object.fromEntries(
      Object.entries(build(c.recipe)).map(([k, v]) => [k, new ortNode.Tensor(v.type as 'float32', v.data as Float32Array, v.dims)]),
    );
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const f = feeds();
    const s = performance.now();
    await session.run(f);
    times.push(performance.now() - s);
  }
  await session.release();
  return { loadMs, firstRunMs: times[0], steadyMedianMs: steady(times), longTasks: 0, threads };
}

async function measureOndevice(baseUrl: string, c: Case): Promise<Measurement> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/test-page.html`);
    return await page.evaluate(
      async ({ c, RUNS, BUILD_FEEDS }) => {
        const build = (0, eval)(BUILD_FEEDS);
        const longTasks: PerformanceEntry[] = [];
        new PerformanceObserver((l) => longTasks.push(...l.getEntries())).observe({ type: 'longtask' });
        const t0 = performance.now();
        const model = await (window as any).OnDevice.loadModel(c.id, { backend: 'wasm' });
        const loadMs = performance.now() - t0;
        // Inputs are built before the observed window: only the library's own main-thread work counts.
        const inputs = Array.from({ length: RUNS }, () => build(c.recipe));
        const tasksBefore = longTasks.length;
        const times: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const feeds = inputs[i];
          const s = performance.now();
          await model.run(feeds);
          times.push(performance.now() - s);
        }
        await new Promise((r) => setTimeout(r, 100));
        const sorted = times.slice(Math.floor(times.length / 3)).sort((a, b) => a - b);
        const r = {
          loadMs,
          firstRunMs: times[0],
          steadyMedianMs:
            sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2,
          longTasks: longTasks.length - tasksBefore,
          threads: model.info.threads,
          backend: model.backend,
        };
        model.dispose();
        return r;
      },
      { c, RUNS, BUILD_FEEDS },
    );
  } finally {
    await browser.close();
  }
}

async function measureNaive(baseUrl: string, c: Case): Promise<Measurement> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/test-page.html`);
    return await page.evaluate(
      async ({ c, RUNS, BUILD_FEEDS }) => {
        const build = (0, eval)(BUILD_FEEDS);
        const longTasks: PerformanceEntry[] = [];
        new PerformanceObserver((l) => longTasks.push(...l.getEntries())).observe({ type: 'longtask' });
        // What tutorials show: the combined bundle, imported on the main thread, default settings.
        const ort = await import('/fixtures/ort.all.bundle.min.mjs' as string);
        const t0 = performance.now();
        const session = await ort.InferenceSession.create(`/models/${c.file}`);
        const loadMs = performance.now() - t0;
        const inputs = Array.from({ length: RUNS }, () =>
          Object.fromEntries(Object.entries(build(c.recipe)).map(([k, v]: [string, any]) => [k, new ort.Tensor(v.type, v.data, v.dims)])),
        );
        const tasksBefore = longTasks.length;
        const times: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const feeds = inputs[i];
          const s = performance.now();
          await session.run(feeds);
          times.push(performance.now() - s);
        }
        await new Promise((r) => setTimeout(r, 100));
        const sorted = times.slice(Math.floor(times.length / 3)).sort((a, b) => a - b);
        await session.release();
        return {
          loadMs,
          firstRunMs: times[0],
          steadyMedianMs:
            sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2,
          longTasks: longTasks.length - tasksBefore,
          threads: ort.env.wasm.numThreads ?? 0,
          backend: 'wasm (ort.all, main thread)',
        };
      },
      { c, RUNS, BUILD_FEEDS },
    );
  } finally {
    await browser.close();
  }
}

export interface RuntimeBenchResult {
  model: string;
  ondevice: Measurement;
  naive: Measurement;
  native: Measurement;
  ratios: { steadyAoverB: number; steadyAoverC: number; firstRunAoverB: number };
  targets: { steadyAoverB: string; steadyAoverC: string; longTasksA: string };
}

export async function runRuntimeBench(): Promise<RuntimeBenchResult[]> {
  const server = await startAppServer({ ONDEVICE_FIXTURES_DIR: path.resolve('node_modules/onnxruntime-web/dist') });
  const results: RuntimeBenchResult[] = [];
  try {
    for (const c of CASES) {
      const ondevice = await measureOndevice(server.url, c);
      const naive = await measureNaive(server.url, c);
      const native = await measureNode(c, ondevice.threads);
      const ratios = {
        steadyAoverB: ondevice.steadyMedianMs / naive.steadyMedianMs,
        steadyAoverC: ondevice.steadyMedianMs / native.steadyMedianMs,
        firstRunAoverB: ondevice.firstRunMs / naive.firstRunMs,
      };
      results.push({
        model: c.id,
        ondevice,
        naive,
        native,
        ratios,
        targets: {
          steadyAoverB: `${ratios.steadyAoverB <= 0.8 ? 'met' : 'MISSED'} (≤ 0.8)`,
          steadyAoverC: `${ratios.steadyAoverC <= 2.5 ? 'met' : 'MISSED'} (≤ 2.5)`,
          longTasksA: `${ondevice.longTasks === 0 ? 'met' : 'MISSED'} (0)`,
        },
      });
    }
  } finally {
    await server.stop();
  }
  return results;
}

export function printRuntimeBench(results: RuntimeBenchResult[]): void {
  const f = (n: number) => n.toFixed(1).padStart(8);
  console.log('\nInference runtime (median of steady runs, ms) — A ondevice · B naive ort.all main thread · C onnxruntime-node');
  console.log(
    'model            |     A load   A first  A steady A longT |     B load   B first  B steady B longT |     C load  C steady | A/B steady  A/C steady',
  );
  for (const r of results) {
    console.log(
      `${r.model.padEnd(16)} | ${f(r.ondevice.loadMs)} ${f(r.ondevice.firstRunMs)} ${f(r.ondevice.steadyMedianMs)} ${String(r.ondevice.longTasks).padStart(6)} | ` +
        `${f(r.naive.loadMs)} ${f(r.naive.firstRunMs)} ${f(r.naive.steadyMedianMs)} ${String(r.naive.longTasks).padStart(6)} | ` +
        `${f(r.native.loadMs)} ${f(r.native.steadyMedianMs)} | ${r.ratios.steadyAoverB.toFixed(2).padStart(10)} ${r.ratios.steadyAoverC.toFixed(2).padStart(11)}`,
    );
    console.log(
      `${''.padEnd(16)}   targets: A/B ${r.targets.steadyAoverB}, A/C ${r.targets.steadyAoverC}, long tasks ${r.targets.longTasksA}; threads ${r.ondevice.threads}`,
    );
  }
}
