// Is the worker runtime as fast as the alternatives? (A) ondevice, (B) naive onnxruntime-web (ort.all bundle on the main thread,
// defaults), (C) onnxruntime-node native with the same thread count — same inputs, one run.
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import * as ortNode from 'onnxruntime-node';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../test/helpers/chromium';
import { startAppServer } from '../test/helpers/appServer';
import { median } from '../src/collector/percentile';

const RUNS = 30;

interface Case {
  id: string;
  /** WASM threads for ondevice (and so for native); default: the library's default. */
  threads?: number;
  file: string;
  /** Inputs are built the same way in Node and in the page from this recipe. */
  recipe: { name: string; type: 'float32' | 'int64'; dims: number[]; kind: 'wave' | 'zeros' | 'sr' }[];
  /** ondevice loads `/models/<file>` instead of the registry id. */
  byUrl?: boolean;
  /**
   * Also measure the round trip's floor on this page: this many interleaved rounds of an ondevice run,
   * a raw postMessage ping-pong with a plain worker (the same feeds and outputs, transferred) and a
   * trivial comlink call to ondevice's own worker.
   */
  roundTripFloor?: { rounds: number; outputs: { name: string; size: number; dims: number[] }[] };
}

const THREADS = process.env.BENCH_THREADS ? Number(process.env.BENCH_THREADS) : undefined;
const CASES: Case[] = [
  {
    id: 'ppocr-v4-det',
    threads: THREADS,
    file: 'ch_PP-OCRv4_det_infer.onnx',
    recipe: [{ name: 'x', type: 'float32', dims: [1, 3, 320, 320], kind: 'wave' }],
  },
  {
    // A tiny model: what is left is the worker round trip (page wall time minus the time inside the worker).
    id: 'tiny-mlp',
    threads: THREADS,
    file: 'tiny-mlp.onnx',
    recipe: [{ name: 'x', type: 'float32', dims: [1, 16], kind: 'wave' }],
    roundTripFloor: { rounds: 300, outputs: [{ name: 'probs', size: 4, dims: [1, 4] }] },
  },
  {
    id: 'silero-vad-v5',
    threads: THREADS,
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
  /** ondevice only: median of (page wall time − time inside the worker) over the steady runs. */
  roundTripMs?: number;
  /** ondevice only: steady median of the time inside the worker (session.run and the outputs' copy). */
  insideWorkerMs?: number;
  longTasks: number;
  threads: number;
  backend?: string;
}

/** Medians over the interleaved rounds of `Case.roundTripFloor` (ms), all on the same page. */
export interface RoundTripFloor {
  rounds: number;
  /** ondevice: page wall time of `model.run` minus the time inside the worker. */
  ondeviceMs: number;
  /** A raw postMessage ping-pong with a plain dedicated worker, no comlink, payload transferred both ways. */
  rawPingPongMs: number;
  /** A comlink call to ondevice's worker that does nearly nothing (`memory()`), through WorkerLink. */
  comlinkCallMs: number;
  /** ondevice − raw ping-pong: what our code adds over the platform's floor. */
  oursOverRawMs: number;
  /**
   * The timed runs above, one per driver call with the page idle in between (threads asleep): ondevice's
   * round trip (steady), and the steady raw ping-pong of driver calls interleaved with them the same way.
   */
  afterIdle: { ondeviceMs: number; rawPingPongMs: number };
}

/** The steady state: the median of the last two thirds of the timed runs (after tier-up). */
const steady = (times: number[]) => median(times.slice(Math.floor(times.length / 3)));

// The machine is noisy (2 shared cores), so A, B and C are interleaved run by run: a burst of load
// from elsewhere hits all three alike instead of whichever happened to be measured at that moment.
interface Side {
  /** Load the model; returns load time and threads. */
  load(): Promise<{ loadMs: number; threads: number; backend?: string; isolated?: boolean }>;
  /** One timed run (timed where it runs, so the driver's round trip is not counted). */
  run(i: number): Promise<number>;
  /** Long tasks on the page's main thread since `load` finished. */
  longTasks(): Promise<number>;
  /** ondevice only: per run, page wall time minus the time inside the worker; and the time inside. */
  roundTrips?(): Promise<number[]>;
  insideWorker?(): Promise<number[]>;
  roundTripFloor?(): Promise<RoundTripFloor>;
  ping?(): Promise<void>;
  close(): Promise<void>;
}

function nodeSide(c: Case, threads: () => number): Side {
  const build = (0, eval)(BUILD_FEEDS) as (
    r: Case['recipe'],
  ) => Record<string, { type: string; dims: number[]; data: Float32Array | BigInt64Array }>;
  let session: ortNode.InferenceSession;
  return {
    async load() {
      const t0 = performance.now();
      session = await ortNode.InferenceSession.create(path.join('public/models', c.file), {
        intraOpNumThreads: threads(),
        interOpNumThreads: 1,
      });
      return { loadMs: performance.now() - t0, threads: threads(), backend: 'onnxruntime-node (CPU)' };
    },
    async run() {
      const feeds = Object.fromEntries(
        Object.entries(build(c.recipe)).map(([k, v]) => [k, new ortNode.Tensor(v.type as 'float32', v.data as Float32Array, v.dims)]),
      );
      const s = performance.now();
      await session.run(feeds);
      return performance.now() - s;
    },
    longTasks: async () => 0,
    close: async () => session?.release(),
  };
}

/** A page side: `setup` (page script) defines window.__bench = { load(), run(i), longTasks() }. */
async function pageSide(browser: Browser, baseUrl: string, setup: string, c: Case): Promise<Side> {
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/test-page.html`);
  await page.evaluate(({ setup, c, RUNS, BUILD_FEEDS }) => (0, eval)(setup)(c, RUNS, (0, eval)(BUILD_FEEDS)), {
    setup,
    c,
    RUNS,
    BUILD_FEEDS,
  });
  return {
    load: () => page.evaluate(() => (window as any).__bench.load()),
    run: (i) => page.evaluate((i) => (window as any).__bench.run(i), i),
    longTasks: () => page.evaluate(() => (window as any).__bench.longTasks()),
    roundTrips: () => page.evaluate(() => (window as any).__bench.roundTrips?.() ?? []),
    insideWorker: () => page.evaluate(() => (window as any).__bench.insideWorker?.() ?? []),
    roundTripFloor: () => page.evaluate(() => (window as any).__bench.roundTripFloor()),
    ping: () => page.evaluate(() => (window as any).__bench.ping()),
    close: () => page.close(),
  };
}

// (A) ondevice: the classic-script build already on the test page (its __testing hooks report the time
// each run took inside the worker). \`c.byUrl\`: loaded by URL, so without the registry's sample hint.
const ONDEVICE_SETUP = `(c, RUNS, build) => {
  const tasks = [];
  new PerformanceObserver((l) => tasks.push(...l.getEntries())).observe({ type: 'longtask' });
  let model, inputs, mark = 0;
  const roundTrips = [], insideWorker = [], rawAfterIdle = [];
  // c.roundTripFloor: a plain worker that answers each message with outputs the size of the model's.
  let echo;
  const ping = () => new Promise((resolve) => {
    const feeds = build(inputs);
    const s = performance.now();
    echo.onmessage = () => resolve(performance.now() - s);
    echo.postMessage(feeds, Object.values(feeds).map((f) => f.data.buffer));
  });
  window.__bench = {
    async load() {
      const t0 = performance.now();
      model = await OnDevice.loadModel(c.byUrl ? '/models/' + c.file : c.id, { backend: 'wasm', cache: false, ...(c.threads ? { threads: c.threads } : {}) });
      const loadMs = performance.now() - t0;
      inputs = c.recipe;
      if (c.roundTripFloor) {
        const outputs = JSON.stringify(c.roundTripFloor.outputs);
        echo = new Worker(URL.createObjectURL(new Blob(['const outputs = ' + outputs + '; onmessage = () => { const value = {}, buffers = [];' +
          ' for (const o of outputs) { const data = new Float32Array(o.size); buffers.push(data.buffer); value[o.name] = { type: "float32", dims: o.dims, data }; }' +
          ' postMessage({ ok: true, value, ms: 0 }, buffers); };'], { type: 'text/javascript' })));
      }
      mark = tasks.length;
      return { loadMs, threads: model.info.threads, backend: model.backend, isolated: crossOriginIsolated };
    },
    // Inputs are built per run (a few ms, outside the timing): 30 prebuilt 1.2 MB arrays cost a major GC.
    async run() {
      const feeds = build(inputs);
      const s = performance.now();
      await model.run(feeds);
      const wall = performance.now() - s;
      const inside = OnDevice.__testing.workerRunMs().at(-1);
      roundTrips.push(wall - inside);
      insideWorker.push(inside);
      return wall;
    },
    async longTasks() { return tasks.length - mark; },
    // A raw ping-pong driven like a timed run (its own driver call, the page and the plain worker idle before it).
    async ping() { rawAfterIdle.push(await ping()); },
    roundTrips: () => roundTrips,
    insideWorker: () => insideWorker,
    // The platform's floor, interleaved round by round with ondevice on this page (after a warm-up).
    async roundTripFloor() {
      const times = { ondevice: [], raw: [], comlink: [] };
      const warmUp = 50;
      for (let i = 0; i < warmUp + c.roundTripFloor.rounds; i++) {
        const feeds = build(inputs);
        const s = performance.now();
        await model.run(feeds);
        const ondevice = performance.now() - s - OnDevice.__testing.workerRunMs().at(-1);
        const raw = await ping();
        const s2 = performance.now();
        await OnDevice.__testing.memory(model);
        const comlink = performance.now() - s2;
        if (i >= warmUp) { times.ondevice.push(ondevice); times.raw.push(raw); times.comlink.push(comlink); }
      }
      const med = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
      const steady = (a) => med(a.slice(Math.floor(a.length / 3)));
      const ondeviceMs = med(times.ondevice), rawPingPongMs = med(times.raw);
      echo.terminate();
      return {
        rounds: c.roundTripFloor.rounds, ondeviceMs, rawPingPongMs, comlinkCallMs: med(times.comlink), oursOverRawMs: ondeviceMs - rawPingPongMs,
        afterIdle: { ondeviceMs: steady(roundTrips), rawPingPongMs: steady(rawAfterIdle) },
      };
    },
  };
}`;

// (B) what tutorials show: the combined bundle imported on the main thread, default settings.
const NAIVE_SETUP = `(c, RUNS, build) => {
  const tasks = [];
  new PerformanceObserver((l) => tasks.push(...l.getEntries())).observe({ type: 'longtask' });
  let ort, session, inputs, mark = 0;
  window.__bench = {
    async load() {
      ort = await import('/fixtures/ort.all.bundle.min.mjs');
      const t0 = performance.now();
      session = await ort.InferenceSession.create('/models/' + c.file);
      const loadMs = performance.now() - t0;
      inputs = () => Object.fromEntries(Object.entries(build(c.recipe)).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, v.dims)]));
      mark = tasks.length;
      return { loadMs, threads: ort.env.wasm.numThreads ?? 0, backend: 'ort.all on the main thread' };
    },
    async run() { const feeds = inputs(); const s = performance.now(); await session.run(feeds); return performance.now() - s; },
    async longTasks() { return tasks.length - mark; },
  };
}`;

async function measureCase(
  browsers: { a: Browser; b: Browser },
  baseUrl: string,
  c: Case,
): Promise<{
  ondevice: Measurement;
  ondeviceByUrl: Measurement;
  naive: Measurement;
  native: Measurement;
  roundTripFloor?: RoundTripFloor;
}> {
  // Separate browsers: B's main-thread work must not show up as long tasks in A's renderer.
  const a = await pageSide(browsers.a, baseUrl, ONDEVICE_SETUP, c);
  const aUrl = await pageSide(browsers.a, baseUrl, ONDEVICE_SETUP, { ...c, byUrl: true });
  const b = await pageSide(browsers.b, baseUrl, NAIVE_SETUP, c);
  const times = { a: [] as number[], aUrl: [] as number[], b: [] as number[], c: [] as number[] };
  // Each side's first run comes right after its own load, as a user's first call does, before the next side loads:
  // a model loading elsewhere (its wasm compile and tier-up, its warm-up) would share the 2 cores with that run.
  const loadA = await a.load();
  times.a.push(await a.run(0));
  const loadAUrl = await aUrl.load();
  times.aUrl.push(await aUrl.run(0));
  const loadB = await b.load();
  times.b.push(await b.run(0));
  const cSide = nodeSide(c, () => loadA.threads);
  const loadC = await cSide.load();
  times.c.push(await cSide.run(0));
  for (let i = 1; i < RUNS; i++) {
    times.a.push(await a.run(i));
    times.aUrl.push(await aUrl.run(i));
    times.b.push(await b.run(i));
    // On A's page, idle since its run like before each of its timed runs.
    if (c.roundTripFloor) await a.ping!();
    times.c.push(await cSide.run(i));
  }
  const result = (load: { loadMs: number; threads: number; backend?: string }, t: number[], longTasks: number): Measurement => ({
    loadMs: load.loadMs,
    firstRunMs: t[0],
    steadyMedianMs: steady(t),
    longTasks,
    threads: load.threads,
    backend: load.backend,
  });
  const measured = {
    ondevice: {
      ...result(loadA, times.a, await a.longTasks()),
      roundTripMs: steady(await a.roundTrips!()),
      insideWorkerMs: steady(await a.insideWorker!()),
    },
    ondeviceByUrl: { ...result(loadAUrl, times.aUrl, await aUrl.longTasks()), roundTripMs: steady(await aUrl.roundTrips!()) },
    naive: result(loadB, times.b, await b.longTasks()),
    native: result(loadC, times.c, 0),
    // After the timed runs, so the first-run and steady figures above are as before.
    roundTripFloor: c.roundTripFloor ? await a.roundTripFloor!() : undefined,
  };
  await Promise.all([a.close(), aUrl.close(), b.close(), cSide.close()]);
  return measured;
}

export interface RuntimeBenchResult {
  model: string;
  ondevice: Measurement;
  /** The same model loaded by URL (warm-up without the registry's sample hint). */
  ondeviceByUrl: Measurement;
  naive: Measurement;
  native: Measurement;
  /** Only for the case that measures it (tiny-mlp). */
  roundTripFloor?: RoundTripFloor;
  ratios: {
    steadyAoverB: number;
    steadyAoverC: number;
    firstRunAoverB: number;
    /** The first run after `loadModel` resolved / steady: registry id, and by URL. */
    firstOverSteadyA: number;
    firstOverSteadyAByUrl: number;
  };
  targets: { steadyAoverB: string; steadyAoverC: string; longTasksA: string; firstOverSteady: string; roundTrip: string };
}

export async function runRuntimeBench(): Promise<RuntimeBenchResult[]> {
  const server = await startAppServer({ ONDEVICE_FIXTURES_DIR: path.resolve('node_modules/onnxruntime-web/dist') });
  const results: RuntimeBenchResult[] = [];
  const browsers = { a: await launchChromium(), b: await launchChromium() };
  try {
    // BENCH_MODELS=tiny-mlp,… runs only those cases.
    const only = process.env.BENCH_MODELS?.split(',');
    for (const c of CASES.filter((c) => !only || only.includes(c.id))) {
      const { ondevice, ondeviceByUrl, naive, native, roundTripFloor } = await measureCase(browsers, server.url, c);
      const ratios = {
        steadyAoverB: ondevice.steadyMedianMs / naive.steadyMedianMs,
        steadyAoverC: ondevice.steadyMedianMs / native.steadyMedianMs,
        firstRunAoverB: ondevice.firstRunMs / naive.firstRunMs,
        firstOverSteadyA: ondevice.firstRunMs / ondevice.steadyMedianMs,
        firstOverSteadyAByUrl: ondeviceByUrl.firstRunMs / ondeviceByUrl.steadyMedianMs,
      };
      const firstMet = Math.max(ratios.firstOverSteadyA, ratios.firstOverSteadyAByUrl) <= 1.3;
      results.push({
        model: c.id,
        ondevice,
        ondeviceByUrl,
        naive,
        native,
        roundTripFloor,
        ratios,
        targets: {
          steadyAoverB: `${ratios.steadyAoverB <= 0.8 ? 'met' : 'MISSED'} (≤ 0.8)`,
          steadyAoverC: `${ratios.steadyAoverC <= 2.5 ? 'met' : 'MISSED'} (≤ 2.5)`,
          longTasksA: `${ondevice.longTasks === 0 ? 'met' : 'MISSED'} (0)`,
          firstOverSteady: `${firstMet ? 'met' : 'MISSED'} (≤ 1.3, id and URL)`,
          roundTrip: `${(ondevice.roundTripMs ?? Infinity) <= 0.3 ? 'met' : 'MISSED'} (≤ 0.3 ms)`,
        },
      });
    }
  } finally {
    await Promise.all([browsers.a.close(), browsers.b.close()]);
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
    console.log(
      `${''.padEnd(16)}   first run after ready / steady: ${r.ratios.firstOverSteadyA.toFixed(2)} by id, ${r.ratios.firstOverSteadyAByUrl.toFixed(2)} by URL ` +
        `(first ${r.ondeviceByUrl.firstRunMs.toFixed(1)} ms, steady ${r.ondeviceByUrl.steadyMedianMs.toFixed(1)} ms) ${r.targets.firstOverSteady}; ` +
        `worker round trip ${r.ondevice.roundTripMs?.toFixed(3)} ms ${r.targets.roundTrip}; ` +
        `A inside the worker ${r.ondevice.insideWorkerMs?.toFixed(2)} ms = ${((r.ondevice.insideWorkerMs ?? NaN) / r.naive.steadyMedianMs).toFixed(2)}× B steady`,
    );
    const floor = r.roundTripFloor;
    if (floor) {
      console.log(
        `${''.padEnd(16)}   round trip floor (median of ${floor.rounds} interleaved rounds): ondevice ${floor.ondeviceMs.toFixed(3)} ms, ` +
          `raw postMessage ping-pong ${floor.rawPingPongMs.toFixed(3)} ms, comlink call to ondevice's worker ${floor.comlinkCallMs.toFixed(3)} ms; ` +
          `ondevice − raw ${floor.oursOverRawMs.toFixed(3)} ms; ` +
          `after idle (the timed runs): ondevice ${floor.afterIdle.ondeviceMs.toFixed(3)} ms, raw ping-pong ${floor.afterIdle.rawPingPongMs.toFixed(3)} ms`,
      );
    }
  }
}

export interface ThreadsBenchResult {
  model: string;
  crossOriginIsolated: boolean;
  /** Per thread count asked for: what the model got (`info.threads`), its load and steady times. */
  sides: { asked: number; threads: number; loadMs: number; firstRunMs: number; steadyMedianMs: number }[];
  /** Steady at the last thread count / steady at the first. */
  steadyRatio: number;
  loadAverage: number[];
}

/**
 * A speed lever, measured (does a second thread pay on this machine?): ondevice's steady time on `model` at each thread count, the sides interleaved run by
 * run in one browser (`npm run bench -- threads`; BENCH_THREADS_COMPARE=1,2 by default).
 */
export async function runThreadsBench(model = 'ppocr-v4-det', counts = [1, 2]): Promise<ThreadsBenchResult> {
  const c = CASES.find((x) => x.id === model);
  if (!c) throw new Error(`no runtime bench case ${model}`);
  const server = await startAppServer({ ONDEVICE_FIXTURES_DIR: path.resolve('node_modules/onnxruntime-web/dist') });
  const browser = await launchChromium();
  const loadAverage = [loadavg()[0]];
  try {
    const sides = [];
    for (const threads of counts) sides.push(await pageSide(browser, server.url, ONDEVICE_SETUP, { ...c, threads }));
    const loads: { loadMs: number; threads: number; isolated?: boolean }[] = [];
    for (const side of sides) loads.push(await side.load());
    const isolated = loads.every((l) => l.isolated === true);
    const times = sides.map(() => [] as number[]);
    for (let i = 0; i < RUNS; i++) for (const [k, side] of sides.entries()) times[k].push(await side.run(i));
    loadAverage.push(loadavg()[0]);
    await Promise.all(sides.map((s) => s.close()));
    const result = counts.map((asked, k) => ({
      asked,
      threads: loads[k].threads,
      loadMs: loads[k].loadMs,
      firstRunMs: times[k][0],
      steadyMedianMs: steady(times[k]),
    }));
    return {
      model,
      crossOriginIsolated: isolated,
      sides: result,
      steadyRatio: result[result.length - 1].steadyMedianMs / result[0].steadyMedianMs,
      loadAverage,
    };
  } finally {
    await browser.close();
    await server.stop();
  }
}

export function printThreadsBench(r: ThreadsBenchResult): void {
  console.log(
    `\nThreads on ${r.model} (ondevice, WASM, interleaved, ${cpus().length} cores, cross-origin isolated: ${r.crossOriginIsolated}, ` +
      `load average ${r.loadAverage.map((l) => l.toFixed(1)).join(' → ')})`,
  );
  for (const s of r.sides) {
    console.log(
      `asked ${s.asked}, got ${s.threads}: load ${s.loadMs.toFixed(0)} ms, first ${s.firstRunMs.toFixed(1)} ms, steady ${s.steadyMedianMs.toFixed(1)} ms`,
    );
  }
  console.log(`steady ${r.sides.at(-1)?.asked} threads / ${r.sides[0].asked}: ${r.steadyRatio.toFixed(2)}`);
}
