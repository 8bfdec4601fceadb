// Time to the first result (`npm run bench -- first-result`): models by URL with default options on a blank page in
// headless Chromium, against onnxruntime-web in the same run.
//   cold: a fresh on-disk profile; warm: the same profile reloaded once the page's work is done (ondevice's warm-up
//   finished, then 3 s: V8 writes a wasm module's code cache ~2 s after its last tier-up); at once: reloaded right
//   after the first result. The same three visits of the bare onnxruntime-web page (the floor) and of the naive one.
//   first 10: a fresh profile, `loadModel` resolves, the page waits 200 ms, then the mean of 10 calls / the median
//   of the next 20; the naive page the same way, and steady = the two medians of the next 20.
// Each start's five profiles run one after another, the order turning start by start, so load from elsewhere hits
// every side alike. BENCH_FIRST_STARTS (default 3), BENCH_FIRST_MODELS (names, comma-separated).
import { cpus, loadavg, tmpdir } from 'node:os';
import { link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { startAppServer } from '../test/helpers/appServer';
import { BASE_FLAGS, CHROMIUM_PATH } from '../test/helpers/chromium';
import { median } from '../src/collector/percentile';
import type { StartupTimeline } from '../src/core/startupTimeline';
import { PAGES, type RecipeName } from './firstResultPages';

const STARTS = Number(process.env.BENCH_FIRST_STARTS ?? 3);
/** After ondevice's warm-up (and as long on the other pages) before the warm reload: V8 writes its code cache then. */
const SETTLE_MS = 3000;
const VAD_WEB_DIST = 'node_modules/@ricky0123/vad-web/dist';
const ORT_DIST = 'node_modules/onnxruntime-web/dist';
const ORT_FILES = [
  'ort.wasm.min.mjs',
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort.all.bundle.min.mjs',
  'ort-wasm-simd-threaded.jsep.mjs',
  'ort-wasm-simd-threaded.jsep.wasm',
];

interface Case {
  name: string;
  url: string;
  recipe: RecipeName;
}

const CASES: Case[] = [
  { name: 'silero-vad-v5', url: '/models/silero_vad_v5.onnx', recipe: 'vad' },
  { name: 'ppocr-v4-det', url: '/models/ch_PP-OCRv4_det_infer.onnx', recipe: 'det' },
  { name: 'tiny-mlp', url: '/models/tiny-mlp.onnx', recipe: 'tiny' },
  // Unnamed dims, and not in the registry: @ricky0123/vad-web's newest Silero.
  { name: 'silero-vad-v6 (unnamed dims)', url: '/fixtures/silero_vad_v6.onnx', recipe: 'vad' },
];

/** Milliseconds since navigation when each step of a start was reached (the page's clock). */
export type Steps = Record<string, number>;

export interface Visit {
  firstResultMs: number;
  steps: Steps;
  /** ondevice only: long tasks (ms) on the page's main thread from navigation to the first result. */
  longTasks?: number[];
}

export interface Side {
  cold: Visit[];
  atOnce: Visit[];
  warm: Visit[];
}

export interface FirstResultCase {
  name: string;
  url: string;
  ondevice: Side;
  bare: Side;
  naive: Side;
  /** Per start: the 30 call times after the 200 ms wait. */
  first10: { ondevice: number[][]; naive: number[][] };
  /** Per start: when ondevice's warmedup event came (ms after the load resolved), or the call it had not come by. */
  first10WarmedUp: unknown[];
  medians: Record<'ondevice' | 'bare' | 'naive', Record<'cold' | 'atOnce' | 'warm', number>>;
  ratios: {
    /** ondevice warm / ondevice cold (target ≤ 0.35), and at once / cold. */
    warmOverCold: number;
    atOnceOverCold: number;
    /** ondevice warm − the bare floor's warm (ms; target ≤ 100). */
    warmOverFloorMs: number;
    atOnceOverFloorMs: number;
    /** ondevice / naive first result, cold and warm (target ≤ 1). */
    coldOverNaive: number;
    warmOverNaive: number;
    /** Mean of the first 10 calls / median of the next 20 (target ≤ 1.3), median over starts; naive's for scale. */
    first10: number;
    first10Naive: number;
    /** ondevice steady / naive steady (median of the next 20 each; target ≤ 0.6). */
    steadyOverNaive: number;
  };
  /** Medians of the warm visits' steps (ms since navigation). */
  warmSteps: { ondevice: Steps; bare: Steps };
  loadAverage: number[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** ondevice's steps, from the page's and its model worker's marks, on the page's clock. */
function ondeviceSteps(r: {
  loadCalled: number;
  loaded: number;
  firstResult: number;
  timelines: { page: StartupTimeline; workers: StartupTimeline[] };
}): Steps {
  const { page, workers } = r.timelines;
  const steps: Steps = {};
  for (const m of page.marks) steps[m.name.replace('ondevice:', 'page:')] ??= m.startTime;
  const wasm = page.resources.find((x) => x.name.endsWith('.wasm'));
  if (wasm) steps['page:wasm-fetched'] = wasm.responseEnd;
  const worker = workers.find((w) => w.marks.some((m) => m.name === 'ondevice:session-ready'));
  if (worker) {
    const shift = worker.timeOrigin - page.timeOrigin;
    steps['worker:start'] = shift;
    for (const m of worker.marks) steps[m.name.replace('ondevice:', 'worker:')] ??= shift + m.startTime;
  }
  return { ...steps, loadCalled: r.loadCalled, loaded: r.loaded, firstResult: r.firstResult };
}

async function visit(page: Page, url: string | 'reload'): Promise<unknown> {
  if (url === 'reload') await page.reload();
  else await page.goto(url);
  return page.evaluate(() => (window as unknown as { __result: Promise<unknown> }).__result);
}

async function withProfile<T>(fn: (page: Page) => Promise<T>): Promise<T> {
  const profile = await mkdtemp(path.join(tmpdir(), 'ondevice-first-result-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...BASE_FLAGS, '--disable-gpu'],
  });
  try {
    return await fn(context.pages()[0] ?? (await context.newPage()));
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}

interface First10 {
  ondevice: number[][];
  naive: number[][];
  warmedUp: unknown[];
}

type Runner = (base: string, c: Case, side: Side, first10: First10) => Promise<void>;

const query = (c: Case, mode?: string) => `?model=${encodeURIComponent(c.url)}&recipe=${c.recipe}${mode ? `&mode=${mode}` : ''}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const RUNNERS: Record<'ondevice' | 'bare' | 'naive' | 'first10', Runner> = {
  async ondevice(base, c, side) {
    await withProfile(async (page) => {
      for (const [kind, target] of [
        ['cold', `${base}/fixtures/ondevice.html${query(c)}`],
        ['atOnce', 'reload'],
        ['warm', 'reload'],
      ] as const) {
        if (kind === 'warm') {
          await page.evaluate(() =>
            Promise.race([
              (window as unknown as { __warmedUp: Promise<void> }).__warmedUp,
              new Promise((_, reject) => setTimeout(() => reject(new Error('no warmedup event in 60 s')), 60_000)),
            ]),
          );
          await sleep(SETTLE_MS);
        }
        const r = (await visit(page, target)) as Parameters<typeof ondeviceSteps>[0] & { longTasks: number[] };
        side[kind].push({ firstResultMs: r.firstResult, steps: ondeviceSteps(r), longTasks: r.longTasks });
      }
    });
  },
  async bare(base, c, side) {
    await withProfile(async (page) => {
      for (const kind of ['cold', 'atOnce', 'warm'] as const) {
        if (kind === 'warm') await sleep(SETTLE_MS);
        const r = (await visit(page, kind === 'cold' ? `${base}/fixtures/bare.html${query(c)}` : 'reload')) as { marks: Steps };
        side[kind].push({ firstResultMs: r.marks.firstResult, steps: r.marks });
      }
    });
  },
  async naive(base, c, side) {
    await withProfile(async (page) => {
      for (const kind of ['cold', 'atOnce', 'warm'] as const) {
        if (kind === 'warm') await sleep(SETTLE_MS);
        const r = (await visit(page, kind === 'cold' ? `${base}/fixtures/naive.html${query(c)}` : 'reload')) as { firstResult: number };
        side[kind].push({ firstResultMs: r.firstResult, steps: { firstResult: r.firstResult } });
      }
    });
  },
  async first10(base, c, _side, first10) {
    for (const which of ['ondevice', 'naive'] as const) {
      const r = (await withProfile((page) => visit(page, `${base}/fixtures/${which}.html${query(c, 'first10')}`))) as {
        times: number[];
        warmedUp?: unknown;
      };
      first10[which].push(r.times);
      if (which === 'ondevice') first10.warmedUp.push(r.warmedUp);
    }
  },
};

const emptySide = (): Side => ({ cold: [], atOnce: [], warm: [] });

function medianSteps(visits: Visit[]): Steps {
  const names = [...new Set(visits.flatMap((v) => Object.keys(v.steps)))];
  return Object.fromEntries(names.map((n) => [n, median(visits.map((v) => v.steps[n]).filter((x) => x !== undefined))]));
}

export async function runFirstResultBench(): Promise<FirstResultCase[]> {
  const fixtures = path.resolve('bench-results/first-result-fixtures');
  await rm(fixtures, { recursive: true, force: true });
  await mkdir(path.join(fixtures, 'ort'), { recursive: true });
  // Hard links: the app server refuses symlinks that lead out of the folder it serves.
  for (const file of ORT_FILES) await link(path.join(ORT_DIST, file), path.join(fixtures, 'ort', file));
  await link(path.join(VAD_WEB_DIST, 'silero_vad_v6.onnx'), path.join(fixtures, 'silero_vad_v6.onnx'));
  for (const [file, html] of Object.entries(PAGES)) await writeFile(path.join(fixtures, file), html);
  const server = await startAppServer({ ONDEVICE_FIXTURES_DIR: fixtures });
  const only = process.env.BENCH_FIRST_MODELS?.split(',');
  const results: FirstResultCase[] = [];
  try {
    for (const c of CASES.filter((x) => !only || only.some((o) => x.name.startsWith(o)))) {
      const sides = { ondevice: emptySide(), bare: emptySide(), naive: emptySide() };
      const first10: First10 = { ondevice: [], naive: [], warmedUp: [] };
      const loadAverage = [loadavg()[0]];
      const order = ['ondevice', 'bare', 'naive', 'first10'] as const;
      for (let start = 0; start < STARTS; start++) {
        for (let i = 0; i < order.length; i++) {
          const which = order[(i + start) % order.length];
          await RUNNERS[which](server.url, c, which === 'first10' ? emptySide() : sides[which], first10);
        }
        loadAverage.push(loadavg()[0]);
      }
      const medians = Object.fromEntries(
        Object.entries(sides).map(([name, side]) => [
          name,
          {
            cold: median(side.cold.map((v) => v.firstResultMs)),
            atOnce: median(side.atOnce.map((v) => v.firstResultMs)),
            warm: median(side.warm.map((v) => v.firstResultMs)),
          },
        ]),
      ) as FirstResultCase['medians'];
      const first10Ratio = (runs: number[][]) => median(runs.map((t) => mean(t.slice(0, 10)) / median(t.slice(10))));
      const steady = (runs: number[][]) => median(runs.map((t) => median(t.slice(10))));
      const { ondevice, bare, naive } = medians;
      results.push({
        name: c.name,
        url: c.url,
        ...sides,
        first10: { ondevice: first10.ondevice, naive: first10.naive },
        first10WarmedUp: first10.warmedUp,
        medians,
        ratios: {
          warmOverCold: ondevice.warm / ondevice.cold,
          atOnceOverCold: ondevice.atOnce / ondevice.cold,
          warmOverFloorMs: ondevice.warm - bare.warm,
          atOnceOverFloorMs: ondevice.atOnce - bare.atOnce,
          coldOverNaive: ondevice.cold / naive.cold,
          warmOverNaive: ondevice.warm / naive.warm,
          first10: first10Ratio(first10.ondevice),
          first10Naive: first10Ratio(first10.naive),
          steadyOverNaive: steady(first10.ondevice) / steady(first10.naive),
        },
        warmSteps: { ondevice: medianSteps(sides.ondevice.warm), bare: medianSteps(sides.bare.warm) },
        loadAverage,
      });
      printFirstResultCase(results.at(-1)!);
    }
  } finally {
    await server.stop();
  }
  return results;
}

const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : `${Math.round(x)}`);
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

/** Each part of a warm start (ms, the spans between the steps' medians): ondevice, and the bare floor. */
export function warmStartParts(r: FirstResultCase): { part: string; ondevice?: number; bare?: number }[] {
  const o = r.warmSteps.ondevice;
  const b = r.warmSteps.bare;
  const span = (s: Steps, from: string, to: string) => (s[from] !== undefined && s[to] !== undefined ? s[to] - s[from] : undefined);
  return [
    { part: 'navigation → script evaluated', ondevice: o['page:script'], bare: b.script },
    { part: 'worker start (loadModel → worker evaluated)', ondevice: span(o, 'loadCalled', 'worker:worker') },
    { part: 'onnxruntime-web imported', ondevice: span(o, 'worker:worker', 'worker:ort-imported'), bare: span(b, 'script', 'ortImported') },
    // ondevice compiles onnxruntime's wasm on the page (src/client/compileRuntime.ts) while the worker starts.
    {
      part: 'wasm fetched (from loadModel / the import)',
      ondevice: span(o, 'loadCalled', 'page:wasm-fetched'),
      bare: span(b, 'ortImported', 'wasmFetched'),
    },
    {
      part: 'wasm compiled',
      ondevice: span(o, 'page:wasm-fetched', 'page:runtime-compiled'),
      bare: span(b, 'wasmFetched', 'wasmCompiled'),
    },
    {
      part: 'instantiated, onnxruntime started',
      ondevice: (o['worker:wasm-ready'] ?? NaN) - Math.max(o['page:runtime-compiled'] ?? NaN, o['worker:ort-imported'] ?? NaN),
      bare: span(b, 'wasmCompiled', 'wasmReady'),
    },
    {
      part: 'model bytes (store read + sha256; in parallel)',
      ondevice: span(o, 'worker:load', 'worker:bytes-ready'),
      bare: span(b, 'bytesStart', 'bytesReady'),
    },
    {
      part: 'session (after runtime and bytes)',
      ondevice: span(o, 'worker:wasm-ready', 'worker:session-ready'),
      bare: (b.sessionReady ?? NaN) - Math.max(b.wasmReady ?? NaN, b.bytesReady ?? NaN),
    },
    { part: 'smoke run', ondevice: span(o, 'worker:session-ready', 'worker:smoke-run') },
    { part: 'load resolved → first result', ondevice: span(o, 'loaded', 'firstResult'), bare: span(b, 'sessionReady', 'firstResult') },
    { part: 'navigation → first result', ondevice: o.firstResult, bare: b.firstResult },
  ];
}

export function printFirstResultCase(r: FirstResultCase): void {
  const { ondevice: o, bare: b, naive: n } = r.medians;
  const x = r.ratios;
  console.log(
    `\nfirst result — ${r.name} by URL, default options, medians of ${r.ondevice.cold.length}; load average ${r.loadAverage.map((l) => l.toFixed(1)).join(' → ')} (${cpus().length} cores)`,
  );
  console.log(`  navigation → first result (ms):  cold / at once / warm`);
  console.log(`    ondevice   ${ms(o.cold)} / ${ms(o.atOnce)} / ${ms(o.warm)}`);
  console.log(`    bare floor ${ms(b.cold)} / ${ms(b.atOnce)} / ${ms(b.warm)}`);
  console.log(`    naive      ${ms(n.cold)} / ${ms(n.atOnce)} / ${ms(n.warm)}`);
  console.log(
    `  warm / cold ${x.warmOverCold.toFixed(2)} (at once ${x.atOnceOverCold.toFixed(2)}); warm − floor ${ms(x.warmOverFloorMs)} ms (at once ${ms(x.atOnceOverFloorMs)} ms) → ` +
      `${verdict(x.warmOverCold <= 0.35 || x.warmOverFloorMs <= 100)} (≤ 0.35 or ≤ floor + 100 ms)`,
  );
  console.log(
    `  ondevice / naive: cold ${x.coldOverNaive.toFixed(2)}, warm ${x.warmOverNaive.toFixed(2)} → ${verdict(x.coldOverNaive <= 1 && x.warmOverNaive <= 1)} (≤ 1)`,
  );
  const longTasks = [...r.ondevice.cold, ...r.ondevice.atOnce, ...r.ondevice.warm].flatMap((v) => v.longTasks ?? []);
  console.log(
    `  long tasks on ondevice's page until the first result: ${longTasks.length} in ${r.ondevice.cold.length * 3} starts${longTasks.length ? ` (${longTasks.join(', ')} ms)` : ''}`,
  );
  console.log(`  first 10 / next 20: ${x.first10.toFixed(2)} → ${verdict(x.first10 <= 1.3)} (≤ 1.3); naive ${x.first10Naive.toFixed(2)}`);
  console.log(`  steady ondevice / naive ${x.steadyOverNaive.toFixed(2)} → ${verdict(x.steadyOverNaive <= 0.6)} (≤ 0.6)`);
  console.log('  warm start, part by part (ms):  ondevice | bare floor');
  for (const p of warmStartParts(r)) console.log(`    ${p.part.padEnd(50)} ${ms(p.ondevice).padStart(6)} | ${ms(p.bare).padStart(6)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const results = await runFirstResultBench();
  await mkdir('bench-results', { recursive: true });
  await writeFile('bench-results/first-result.json', JSON.stringify(results, null, 2));
  console.log('wrote bench-results/first-result.json');
}
