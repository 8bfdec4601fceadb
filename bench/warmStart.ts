// What the offline model store saves: cold start (first visit, empty storage) vs warm start (model in the model store,
// app files precached by the service worker, page reload) and a returning visit (the same profile 10 s later, when
// Chromium has cached onnxruntime's compiled wasm on disk) from navigation to the first result of
// PaddleOCR rec in headless Chromium, and the model store's read throughput vs a localhost fetch of the
// same file. Note: DevTools throttling also slows HTTP-cache hits, so the warm start goes through the
// service worker as the real app does, not through the HTTP cache.
// `npx tsx bench/warmStart.ts` (after `npx tsx scripts/build.ts`) writes bench-results/warm-start.json.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startAppServer } from '../test/helpers/appServer';
import { chromium } from 'playwright-core';
import { BASE_FLAGS, CHROMIUM_PATH, launchChromium } from '../test/helpers/chromium';
import registry from '../models/registry.json';
import { median } from '../src/collector/percentile';

const MODEL_ID = registry.some((e) => e.id === 'ppocr-v4-rec') ? 'ppocr-v4-rec' : 'ppocr-v4-det';
const STARTS = Number(process.env.BENCH_WARM_STARTS ?? 5);
/** How long after the warm start a returning visit comes (V8 tiers up and Chromium writes its code cache meanwhile). */
const RETURN_AFTER_MS = Number(process.env.BENCH_RETURN_AFTER_MS ?? 10_000);
const READS = 7;

/** Localhost makes the first download nearly free; a broadband-like link shows what the store saves in the field. */
export const NETWORKS = [
  { name: 'localhost', throttle: undefined },
  { name: '50 Mbit/s, 20 ms RTT', throttle: { offline: false, latency: 20, downloadThroughput: 50e6 / 8, uploadThroughput: 10e6 / 8 } },
] as const;

export interface StartTiming {
  /** performance.now() at the first result: milliseconds since navigation start. */
  firstResultMs: number;
  fetchMs: number;
  sessionMs: number;
  runMs: number;
  warmupMs: number;
  fromCache: boolean;
}

export interface StartComparison {
  network: string;
  cold: StartTiming[];
  warm: StartTiming[];
  coldMedianMs: number;
  warmMedianMs: number;
  /** Later visits of the same profile (after RETURN_AFTER_MS): what a returning visitor gets, code cache included. */
  returning: StartTiming[];
  returningMedianMs: number;
  /** warm / cold; the targets: ≤ 0.5 (the store must pay for itself), ≤ 0.35 on localhost (start-up target). */
  warmToColdRatio: number;
  returningToColdRatio: number;
}

export interface WarmStartResult {
  model: string;
  bytes: number;
  starts: StartComparison[];
  /** MB/s (1e6 bytes): store read including sha256 verification, and the same without it. */
  storeReadVerifiedMBps: number;
  storeReadRawMBps: number;
  /** MB/s of `fetch(url, { cache: 'no-store' }).arrayBuffer()` from the localhost server. */
  localhostFetchMBps: number;
  /** storeReadVerifiedMBps / localhostFetchMBps; the target is ≥ 1. */
  storeToFetchRatio: number;
}

/**
 * Load the model with the options a user gets by default (backend 'auto', warm-up on) and run it once on
 * a text-line-sized input; timings relative to navigation start.
 */
function firstResult(page: Page): Promise<StartTiming> {
  return page.evaluate(async (id) => {
    const O = (window as any).OnDevice;
    const model = await O.loadModel(id);
    const dims = model.inputs[0].shape.map((d: number | string, i: number) =>
      typeof d === 'number' && d > 0 ? d : i === 0 ? 1 : i === 2 ? 48 : 320,
    );
    const size = dims.reduce((a: number, b: number) => a * b, 1);
    const data = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.01));
    const t = performance.now();
    await model.run({ [model.inputs[0].name]: { type: 'float32', data, dims } });
    const firstResultMs = performance.now();
    const { fetchMs, sessionMs, warmupMs } = model.info.timings;
    model.dispose();
    return { firstResultMs, fetchMs, sessionMs, warmupMs, runMs: firstResultMs - t, fromCache: model.info.fromCache };
  }, MODEL_ID);
}

export async function runWarmStartBench(): Promise<WarmStartResult> {
  const server = await startAppServer();
  const browser = await launchChromium();
  const entry = registry.find((e) => e.id === MODEL_ID)!;
  const stored: { file: string; bytes: number } = ('optimized' in entry && entry.optimized) || entry;
  try {
    const starts: StartComparison[] = [];
    for (const network of NETWORKS) {
      const cold: StartTiming[] = [];
      const warm: StartTiming[] = [];
      const returning: StartTiming[] = [];
      for (let i = 0; i < STARTS; i++) {
        // Cold: a fresh profile on disk (no HTTP cache, no model store, no code cache), as a real first visit;
        // warm: a reload of the same page; returning: a later visit, when Chromium has cached onnxruntime's
        // compiled wasm (its code cache is on disk only in a persistent profile, never in an incognito context).
        const profile = await mkdtemp(path.join(tmpdir(), 'ondevice-warm-start-'));
        const context = await chromium.launchPersistentContext(profile, {
          executablePath: CHROMIUM_PATH,
          headless: true,
          args: [...BASE_FLAGS, '--disable-gpu'],
        });
        const page = context.pages()[0] ?? (await context.newPage());
        if (network.throttle) {
          // Applies to the page and its runtime worker (Chromium attaches dedicated workers to the page's session).
          const cdp = await context.newCDPSession(page);
          await cdp.send('Network.enable');
          await cdp.send('Network.emulateNetworkConditions', { ...network.throttle });
        }
        await page.goto(`${server.url}/test-page.html`);
        cold.push(await firstResult(page));
        // As the app does on a first visit: install the service worker (it precaches the library, worker
        // and onnxruntime files), so the warm start reads nothing but a 304-free shell from the network.
        await page.evaluate(async () => {
          await navigator.serviceWorker.register('/sw.js');
          await navigator.serviceWorker.ready;
        });
        await page.reload();
        warm.push(await firstResult(page));
        if (!(await page.evaluate(() => navigator.serviceWorker.controller !== null)))
          throw new Error('warm start was not served by the service worker');
        // A visitor who comes back later: by then V8 has tiered up and Chromium has written the code cache.
        await new Promise((resolve) => setTimeout(resolve, RETURN_AFTER_MS));
        await page.goto('about:blank');
        await page.goto(`${server.url}/test-page.html`);
        returning.push(await firstResult(page));
        await context.close();
        await rm(profile, { recursive: true, force: true });
      }
      const coldMedianMs = median(cold.map((t) => t.firstResultMs));
      const warmMedianMs = median(warm.map((t) => t.firstResultMs));
      const returningMedianMs = median(returning.map((t) => t.firstResultMs));
      starts.push({
        network: network.name,
        cold,
        warm,
        returning,
        coldMedianMs,
        warmMedianMs,
        returningMedianMs,
        warmToColdRatio: warmMedianMs / coldMedianMs,
        returningToColdRatio: returningMedianMs / coldMedianMs,
      });
    }

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/test-page.html`);
    await firstResult(page); // stores the model
    const reads = await page.evaluate(
      async ({ id, url, reads }) => {
        const O = (window as any).OnDevice;
        const fetchMs: number[] = [];
        const verifiedMs: number[] = [];
        const hashMs: number[] = [];
        for (let i = 0; i < reads; i++) {
          let t = performance.now();
          const fetched = await (await fetch(url, { cache: 'no-store' })).arrayBuffer();
          fetchMs.push(performance.now() - t);
          t = performance.now();
          const stored: Uint8Array<ArrayBuffer> = await O.modelStore.read(id);
          verifiedMs.push(performance.now() - t);
          t = performance.now();
          await crypto.subtle.digest('SHA-256', stored);
          hashMs.push(performance.now() - t);
          if (stored.byteLength !== fetched.byteLength) throw new Error('store and network disagree');
        }
        return { fetchMs, verifiedMs, hashMs };
      },
      // On WASM the store holds the model's pre-optimised copy when it has one (registry `optimized`).
      { id: MODEL_ID, url: `${server.url}/models/${stored.file}`, reads: READS },
    );
    await context.close();

    const mbps = (ms: number) => stored.bytes / 1e6 / (ms / 1000);
    const verified = median(reads.verifiedMs);
    const raw = median(reads.verifiedMs.map((ms, i) => ms - reads.hashMs[i]));
    const localhostFetchMBps = mbps(median(reads.fetchMs));
    return {
      model: MODEL_ID,
      bytes: entry.bytes,
      starts,
      storeReadVerifiedMBps: mbps(verified),
      storeReadRawMBps: mbps(raw),
      localhostFetchMBps,
      storeToFetchRatio: mbps(verified) / localhostFetchMBps,
    };
  } finally {
    await browser.close();
    await server.stop();
  }
}

export function printWarmStartBench(r: WarmStartResult): void {
  const ms = (x: number) => `${Math.round(x)} ms`;
  const row = (label: string, ts: StartTiming[]) =>
    `${label}: first result ${ms(median(ts.map((t) => t.firstResultMs)))} after navigation (bytes ${ms(median(ts.map((t) => t.fetchMs)))}, session ${ms(median(ts.map((t) => t.sessionMs)))}, warm-up ${ms(median(ts.map((t) => t.warmupMs)))}, run ${ms(median(ts.map((t) => t.runMs)))}; from store: ${ts.every((t) => t.fromCache)})`;
  console.log(`\nwarm start — ${r.model} (${(r.bytes / 1e6).toFixed(1)} MB), medians of ${STARTS}`);
  for (const s of r.starts) {
    console.log(`  ${s.network}`);
    console.log(`    ${row('cold', s.cold)}`);
    console.log(`    ${row('warm', s.warm)}`);
    console.log(`    ${row(`returning (${RETURN_AFTER_MS / 1000} s later)`, s.returning)}`);
    const target = s.network === 'localhost' ? 0.35 : 0.5;
    const verdict = (ratio: number) => `${ratio.toFixed(2)} (target ≤ ${target}: ${ratio <= target ? 'met' : 'MISSED'})`;
    console.log(`    warm/cold = ${verdict(s.warmToColdRatio)}; returning/cold = ${verdict(s.returningToColdRatio)}`);
  }
  console.log(
    `  store read ${r.storeReadVerifiedMBps.toFixed(0)} MB/s verified (${r.storeReadRawMBps.toFixed(0)} MB/s before sha256) vs localhost fetch ${r.localhostFetchMBps.toFixed(0)} MB/s → ${r.storeToFetchRatio.toFixed(2)}× (target ≥ 1)`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const result = await runWarmStartBench();
  printWarmStartBench(result);
  await mkdir('bench-results', { recursive: true });
  await writeFile('bench-results/warm-start.json', JSON.stringify(result, null, 2));
  console.log('wrote bench-results/warm-start.json');
}
