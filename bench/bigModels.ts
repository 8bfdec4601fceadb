// Real-size models (`npm run bench -- big`): transformer-shaped fp32 models of 400 MB (one file, and weights in 3
// external data files) and 2.5 GB (3 data files), written by scripts/onnx/transformer, loaded in headless Chromium on WASM by (A) ondevice by URL — cold (fresh
// profile, network → model store → first result) and warm (reload: store → first result) — and by (B) naive
// onnxruntime-web on the page (`InferenceSession.create(url, { externalData: [{ path, data: url }] })`, no store), from
// the same localhost server, each in a browser of its own. Also: the model store's read throughput (verified), and
// the renderer processes' memory (page + worker, Pss) before, at the peak during the load and after it (2 s after
// the first result, then after a forced GC), as ratios of the set's bytes.
// BENCH_BIG_SETS=400e6/1,400e6/4,2.5e9/4 picks sizes / files; BENCH_BIG_DIR keeps the generated sets (default
// bench-results/big).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { freemem, tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { resolveUnderRoot, serveFile } from '../src/start/staticFiles';
import { writeTransformerModel, type TransformerSet } from '../scripts/onnx/transformer/writeTransformerModel';
import { BASE_FLAGS, CHROMIUM_PATH } from '../test/helpers/chromium';
import { startRecordingAppServer } from '../test/helpers/recordingAppServer';
import { rendererBytes, trackRendererMemory } from './rendererMemory';

const SETS = (process.env.BENCH_BIG_SETS ?? '400e6/1,400e6/4,2.5e9/4').split(',').map((s) => {
  const [bytes, files] = s.split('/').map(Number);
  return { bytes, shards: (files || 4) - 1 };
});
const DIR = path.resolve(process.env.BENCH_BIG_DIR ?? 'bench-results/big');
const ORT_DIST = path.resolve('node_modules/onnxruntime-web/dist');
const SETTLE_MS = 2000;
/** Rounds per set (each: naive, then ondevice cold and warm, in alternating order); medians are reported. */
const ROUNDS = Number(process.env.BENCH_BIG_ROUNDS ?? 3);
const ROUNDS_LARGE = Number(process.env.BENCH_BIG_ROUNDS_LARGE ?? 1);
/** BENCH_BIG_SIDES=floor measures the floor alone (the other sides' figures are then absent). */
const SIDES = (process.env.BENCH_BIG_SIDES ?? 'ondevice,naive,floor').split(',');

export interface LoadMeasurement {
  /** Navigation-independent: from the call that loads to the first result. */
  firstResultMs: number;
  /** Bytes (fetch or store read, with verification) and session creation, where the loader says. */
  fetchMs?: number;
  sessionMs?: number;
  fromCache?: boolean;
  /** The wasm heap after the load (ondevice's worker, or the page's onnxruntime), bytes. */
  wasmHeapBytes?: number;
  /** Renderer Pss (page + workers) before the load, at its peak during it, after it, and after a forced GC. */
  baselineBytes: number;
  peakBytes: number;
  afterBytes: number;
  afterGcBytes: number;
}

export interface BigModelResult {
  bytes: number;
  files: number;
  layers: number;
  hidden: number;
  cold: LoadMeasurement;
  warm: LoadMeasurement;
  naive: LoadMeasurement;
  coldOverNaive: number;
  warmOverNaiveCold: number;
  /** Store read incl. sha256 of every file, MB/s (1e6 bytes). */
  storeReadMBps: number;
  /** Memory growth over the set's bytes: peak during the load, after it, after a GC. */
  memory: Record<'cold' | 'warm' | 'naive', { during: number; after: number; afterGc: number; heap: number }>;
  rounds: number;
  /** The floor's parts (ms), medians over rounds: fetch into memory, sha256, session from memory, first run. */
  floor: FloorParts;
  /** Every round's measurements (`cold`, `warm`, `naive` above are the median rounds by time). */
  all: { cold: LoadMeasurement; warm: LoadMeasurement; naive: LoadMeasurement }[];
}

/** The measurement whose `key` is the median (the lower middle for an even count). */
function medianBy<T>(items: T[], key: (item: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor((items.length - 1) / 2)];
}

function setFor(bytes: number, shards: number): TransformerSet {
  const dir = path.join(DIR, shards === 3 ? `fp32-${bytes}` : `fp32-${bytes}-${shards}`);
  const marker = path.join(dir, 'set.json');
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, 'utf8')) as TransformerSet;
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const set = writeTransformerModel({ dir, bytes, shards });
  console.log(
    `  wrote ${(set.totalBytes / 1e6).toFixed(0)} MB in ${set.files.length + 1} files in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  writeFileSync(marker, JSON.stringify(set));
  return set;
}

// The page's WebAssembly.Memory objects, so the naive page's heap can be read (onnxruntime keeps its module private).
const TRACK_MEMORY = `(() => {
  const Original = WebAssembly.Memory;
  window.__memories = [];
  WebAssembly.Memory = function (d) { const m = new Original(d); window.__memories.push(m); return m; };
  WebAssembly.Memory.prototype = Original.prototype;
})();`;

async function launch(): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const profile = await mkdtemp(path.join(tmpdir(), 'ondevice-big-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...BASE_FLAGS, '--disable-gpu', '--js-flags=--expose-gc'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.addInitScript(TRACK_MEMORY);
  return {
    context,
    page,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Run `load` in the page while sampling renderer memory; then settle, then GC the page and its workers. */
async function measure(page: Page, load: () => Promise<Partial<LoadMeasurement> & { firstResultMs: number }>): Promise<LoadMeasurement> {
  await gc(page);
  const baselineBytes = rendererBytes();
  const tracker = trackRendererMemory();
  const result = await load();
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const { peakBytes, lastBytes: afterBytes } = tracker.stop();
  await gc(page);
  const afterGcBytes = rendererBytes();
  return { ...result, baselineBytes, peakBytes, afterBytes, afterGcBytes };
}

async function gc(page: Page): Promise<void> {
  // Chromium runs with --js-flags=--expose-gc: a measurement, not something the product can do.
  await page.evaluate('globalThis.gc?.()').catch(() => undefined);
  for (const worker of page.workers()) await worker.evaluate('globalThis.gc?.()').catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 500));
}

/**
 * Navigate and check that the page has `window.OnDevice`: a page whose script did not load (a 404 while dist/ is
 * rebuilt, a crashed renderer) fails here with what went wrong, not later as "reading 'loadModel'".
 */
async function openTestPage(page: Page, navigate: () => Promise<unknown>): Promise<void> {
  const problems: string[] = [];
  const onResponse = (r: { url(): string; status(): number }) => {
    if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
  };
  const onFailed = (r: { url(): string; failure(): { errorText: string } | null }) =>
    problems.push(`failed ${r.url()}: ${r.failure()?.errorText}`);
  const onError = (e: Error) => problems.push(`page error: ${e.message}`);
  const onCrash = () => problems.push('renderer crashed');
  page.on('response', onResponse);
  page.on('requestfailed', onFailed);
  page.on('pageerror', onError);
  page.on('crash', onCrash);
  try {
    await navigate();
    if (!(await page.evaluate(() => typeof (window as any).OnDevice?.loadModel === 'function')))
      throw new Error(`the test page has no window.OnDevice (${problems.join('; ') || 'no failed request seen'})`);
  } finally {
    page.off('response', onResponse);
    page.off('requestfailed', onFailed);
    page.off('pageerror', onError);
    page.off('crash', onCrash);
  }
}

function ondeviceFirstResult(page: Page, url: string, hidden: number) {
  return page.evaluate(
    async ({ url, hidden }) => {
      const O = (window as any).OnDevice;
      const t0 = performance.now();
      const model = await O.loadModel(url, { backend: 'wasm', warmup: false });
      const data = Float32Array.from({ length: 4 * hidden }, (_, i) => Math.sin(i / 3));
      await model.run({ input: { type: 'float32', data, dims: [1, 4, hidden] } });
      const firstResultMs = performance.now() - t0;
      (window as any).__model = model; // keep it loaded while memory is measured
      const { fetchMs, sessionMs } = model.info.timings;
      const { wasmHeapBytes } = await O.__testing.memory(model);
      return { firstResultMs, fetchMs, sessionMs, fromCache: model.info.fromCache, wasmHeapBytes };
    },
    { url, hidden },
  );
}

function naiveFirstResult(page: Page, url: string, locations: string[], hidden: number) {
  return page.evaluate(
    async ({ url, locations, hidden }) => {
      const ort = await import('/ort/ort.wasm.bundle.min.mjs' as string);
      const t0 = performance.now();
      const base = new URL(url, window.location.href);
      const externalData = locations.map((location) => ({ path: location, data: new URL(location, base).href }));
      const session = await ort.InferenceSession.create(url, {
        executionProviders: ['wasm'],
        ...(externalData.length ? { externalData } : {}),
      });
      const sessionMs = performance.now() - t0;
      const data = Float32Array.from({ length: 4 * hidden }, (_, i) => Math.sin(i / 3));
      await session.run({ input: new ort.Tensor('float32', data, [1, 4, hidden]) });
      (window as any).__session = session;
      const firstResultMs = performance.now() - t0;
      const wasmHeapBytes = ((window as any).__memories as WebAssembly.Memory[]).reduce((sum, m) => sum + m.buffer.byteLength, 0);
      return { firstResultMs, sessionMs, wasmHeapBytes };
    },
    { url, locations, hidden },
  );
}

/**
 * The floor, step by step, in a browser of its own: the set fetched into memory (the network alone), sha256 of every
 * file (`crypto.subtle.digest`, what the store verifies with), and onnxruntime-web's session from those bytes already
 * in memory (`externalData` as Uint8Arrays: no fetch inside onnxruntime), then the first run. Times only.
 */
function floorParts(page: Page, url: string, locations: string[], hidden: number) {
  return page.evaluate(
    async ({ url, locations, hidden }) => {
      const ort = await import('/ort/ort.wasm.bundle.min.mjs' as string);
      const base = new URL(url, window.location.href);
      let t = performance.now();
      const model = new Uint8Array(await (await fetch(base)).arrayBuffer());
      const files = await Promise.all(
        locations.map(async (location) => new Uint8Array(await (await fetch(new URL(location, base))).arrayBuffer())),
      );
      const fetchMs = performance.now() - t;
      t = performance.now();
      for (const bytes of [model, ...files]) await crypto.subtle.digest('SHA-256', bytes);
      const sha256Ms = performance.now() - t;
      // Writing the same bytes into IndexedDB as the store does (4 MiB Blob chunks, one transaction each, awaited in
      // order) into a database of its own, then deleting it. Only up to 1 GB: with a 2.5 GB set held in the page as
      // well, the probe stalled (the page's renderer gone) — not investigated; NaN then.
      let storeWriteMs = NaN;
      if (files.reduce((sum, f) => sum + f.byteLength, model.byteLength) <= 1e9) {
        t = performance.now();
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const open = indexedDB.open('bench-floor', 1);
          open.onupgradeneeded = () => open.result.createObjectStore('chunks');
          open.onsuccess = () => resolve(open.result);
          open.onerror = () => reject(open.error);
        });
        const CHUNK = 4 * 1024 * 1024;
        let key = 0;
        for (const bytes of [model, ...files]) {
          for (let at = 0; at < bytes.byteLength; at += CHUNK) {
            const tx = db.transaction('chunks', 'readwrite');
            tx.objectStore('chunks').put(new Blob([bytes.subarray(at, at + CHUNK)]), key++);
            await new Promise<void>((resolve, reject) => {
              tx.oncomplete = () => resolve();
              tx.onerror = () => reject(tx.error);
              tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
            });
          }
        }
        storeWriteMs = performance.now() - t;
        db.close();
        await new Promise((resolve) => {
          const del = indexedDB.deleteDatabase('bench-floor');
          del.onsuccess = del.onerror = resolve;
        });
      }
      t = performance.now();
      const externalData = locations.map((path, i) => ({ path, data: files[i] }));
      const session = await ort.InferenceSession.create(model, {
        executionProviders: ['wasm'],
        ...(externalData.length ? { externalData } : {}),
      });
      const sessionMs = performance.now() - t;
      t = performance.now();
      const data = Float32Array.from({ length: 4 * hidden }, (_, i) => Math.sin(i / 3));
      await session.run({ input: new ort.Tensor('float32', data, [1, 4, hidden]) });
      const runMs = performance.now() - t;
      await session.release();
      return { fetchMs, sha256Ms, storeWriteMs, sessionMs, runMs };
    },
    { url, locations, hidden },
  );
}

export type FloorParts = Awaited<ReturnType<typeof floorParts>>;

export async function runBigModelsBench(): Promise<BigModelResult[]> {
  const sets = SETS.map(({ bytes, shards }) => ({ bytes, set: setFor(bytes, shards) }));
  const server = await startRecordingAppServer({
    handlers: [
      async (req, res, url) => {
        for (const [prefix, root] of [
          ['/big/', DIR],
          ['/ort/', ORT_DIST],
        ] as const) {
          if (!url.pathname.startsWith(prefix)) continue;
          const file = await resolveUnderRoot(root, url.pathname.slice(prefix.length));
          return !!file && (await serveFile(req, res, file, { 'Cross-Origin-Resource-Policy': 'cross-origin' }));
        }
        return false;
      },
    ],
  });
  const results: BigModelResult[] = [];
  try {
    for (const { bytes, set } of sets) {
      if (freemem() < 3 * set.totalBytes + 2e9)
        console.warn(`  only ${(freemem() / 1e9).toFixed(1)} GB free: memory figures may be pressured`);
      const url = `/big/${path.relative(DIR, set.model)}`;
      const rounds: { cold: LoadMeasurement; warm: LoadMeasurement; naive: LoadMeasurement }[] = [];
      const floors: FloorParts[] = [];
      const count = set.totalBytes > 1e9 ? ROUNDS_LARGE : ROUNDS;
      for (let round = 0; round < count; round++) {
        // Alternate which side goes first, so a burst of load from elsewhere hits both alike.
        const ondeviceFirst = round % 2 === 1;
        const measured: Partial<(typeof rounds)[number]> = {};
        for (const side of (ondeviceFirst ? ['ondevice', 'naive'] : ['naive', 'ondevice']).filter((x) => SIDES.includes(x))) {
          console.log(`  ${(bytes / 1e6).toFixed(0)} MB in ${set.files.length + 1} files, round ${round + 1}/${count}: ${side}…`);
          const browser = await launch();
          try {
            await openTestPage(browser.page, () => browser.page.goto(`${server.url}/test-page.html`));
            if (side === 'ondevice') {
              measured.cold = await measure(browser.page, () => ondeviceFirstResult(browser.page, url, set.hidden));
              await openTestPage(browser.page, () => browser.page.reload());
              measured.warm = await measure(browser.page, () => ondeviceFirstResult(browser.page, url, set.hidden));
            } else {
              const locations = set.files.map((f) => f.location);
              measured.naive = await measure(browser.page, () => naiveFirstResult(browser.page, url, locations, set.hidden));
            }
          } finally {
            await browser.close();
          }
        }
        if (SIDES.includes('floor')) {
          console.log(`  ${(bytes / 1e6).toFixed(0)} MB in ${set.files.length + 1} files, round ${round + 1}/${count}: floor…`);
          const browser = await launch();
          try {
            await browser.page.goto(`${server.url}/test-page.html`);
            floors.push(
              await floorParts(
                browser.page,
                url,
                set.files.map((f) => f.location),
                set.hidden,
              ),
            );
          } finally {
            await browser.close();
          }
        }
        rounds.push(measured as (typeof rounds)[number]);
      }
      if (!SIDES.includes('ondevice') || !SIDES.includes('naive')) {
        console.log(`  ${(bytes / 1e6).toFixed(0)} MB floor, each round: ${JSON.stringify(floors)}`);
        continue;
      }
      const pick = (side: 'cold' | 'warm' | 'naive') =>
        medianBy(
          rounds.map((r) => r[side]),
          (m) => m.firstResultMs,
        );
      const [cold, warm, naive] = [pick('cold'), pick('warm'), pick('naive')];
      const growth = (m: LoadMeasurement) => ({
        during: (m.peakBytes - m.baselineBytes) / set.totalBytes,
        after: (m.afterBytes - m.baselineBytes) / set.totalBytes,
        afterGc: (m.afterGcBytes - m.baselineBytes) / set.totalBytes,
        heap: (m.wasmHeapBytes ?? 0) / set.totalBytes,
      });
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
      results.push({
        bytes: set.totalBytes,
        files: set.files.length + 1,
        layers: set.layers,
        hidden: set.hidden,
        rounds: rounds.length,
        cold,
        warm,
        naive,
        coldOverNaive: median(rounds.map((r) => r.cold.firstResultMs)) / median(rounds.map((r) => r.naive.firstResultMs)),
        warmOverNaiveCold: median(rounds.map((r) => r.warm.firstResultMs)) / median(rounds.map((r) => r.naive.firstResultMs)),
        storeReadMBps: set.totalBytes / 1e6 / (median(rounds.map((r) => r.warm.fetchMs!)) / 1000),
        memory: { cold: growth(cold), warm: growth(warm), naive: growth(naive) },
        floor: {
          fetchMs: median(floors.map((f) => f.fetchMs)),
          sha256Ms: median(floors.map((f) => f.sha256Ms)),
          storeWriteMs: median(floors.map((f) => f.storeWriteMs)),
          sessionMs: median(floors.map((f) => f.sessionMs)),
          runMs: median(floors.map((f) => f.runMs)),
        },
        all: rounds,
      });
      printBigModelsBench([results.at(-1)!]);
    }
  } finally {
    await server.close();
  }
  return results;
}

export function printBigModelsBench(results: BigModelResult[]): void {
  const s = (ms: number | undefined) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);
  const x = (r: number) => `${r.toFixed(2)}×`;
  for (const r of results) {
    console.log(
      `\nbig model — ${(r.bytes / 1e6).toFixed(0)} MB fp32 in ${r.files} files (${r.layers} layers, width ${r.hidden}), WASM, 1 thread`,
    );
    for (const [label, m] of [
      ['A cold (network → store → first result)', r.cold],
      ['A warm (store → first result)', r.warm],
      ['B naive onnxruntime-web, externalData', r.naive],
    ] as const) {
      console.log(
        `  ${label}: ${s(m.firstResultMs)} (bytes ${s(m.fetchMs)}, session ${s(m.sessionMs)}); renderer +${((m.peakBytes - m.baselineBytes) / 1e9).toFixed(2)} GB at peak, +${((m.afterBytes - m.baselineBytes) / 1e9).toFixed(2)} GB after, +${((m.afterGcBytes - m.baselineBytes) / 1e9).toFixed(2)} GB after GC`,
      );
    }
    console.log(
      `  cold/naive ${x(r.coldOverNaive)} (target ≤ 1.1); warm/naive cold ${x(r.warmOverNaiveCold)} (target ≤ 0.5); store read ${r.storeReadMBps.toFixed(0)} MB/s verified`,
    );
    const f = r.floor;
    const mbps = (ms: number) => `${(r.bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
    console.log(
      `  floor: fetch into memory ${s(f.fetchMs)} (${mbps(f.fetchMs)}), sha256 ${s(f.sha256Ms)} (${mbps(f.sha256Ms)}), IndexedDB write ${s(f.storeWriteMs)} (${mbps(f.storeWriteMs)}), session from memory ${s(f.sessionMs)}, first run ${s(f.runMs)}`,
    );
    for (const [k, m] of Object.entries(r.memory)) {
      console.log(
        `  memory ${k}: ${x(m.during)} the set's bytes during, ${x(m.after)} after, ${x(m.afterGc)} after GC; wasm heap ${x(m.heap)}`,
      );
    }
  }
}
