// The real WASM ceiling of onnxruntime-web 1.30 here (`npm run bench -- ceiling`): the largest transformer-shaped set
// (scripts/onnx/transformer, 3 data files) that creates a session and runs once on the WASM backend in headless
// Chromium, per weight precision, with prepacking on (onnxruntime's default) and off (`session.disable_prepacking`),
// found by bisection. The data files are zero-filled arrays made in the page (the weights' values do not change how
// much heap they take), so a probe costs session creation, not a multi-gigabyte download. Also reports the wasm heap
// each successful session left behind (WebAssembly.Memory never shrinks).
// BENCH_CEILING=fp32:on,fp32:off,fp16:on,int8:on picks the cases; BENCH_CEILING_STEPS the bisection steps (default 4).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { writeTransformerModel } from '../scripts/onnx/transformer/writeTransformerModel';
import type { WeightPrecision } from '../scripts/onnx/transformer/weightBytes';
import { resolveUnderRoot, serveFile } from '../src/start/staticFiles';
import { BASE_FLAGS, CHROMIUM_PATH } from '../test/helpers/chromium';
import { startRecordingAppServer } from '../test/helpers/recordingAppServer';

const CASES = (process.env.BENCH_CEILING ?? 'fp32:on,fp32:off,fp16:on,int8:on').split(',').map((c) => {
  const [precision, prepack] = c.split(':');
  return { precision: precision as WeightPrecision, prepacking: prepack !== 'off' };
});
const STEPS = Number(process.env.BENCH_CEILING_STEPS ?? 4);
/** Bisection bounds per precision (bytes of the set): the low end is expected to load, the high end not. */
const BOUNDS: Record<WeightPrecision, [number, number]> = { fp32: [3.9e9, 4.4e9], fp16: [0.8e9, 2.4e9], int8: [2.0e9, 4.4e9] };

export interface ProbeResult {
  bytes: number;
  ok: boolean;
  error?: string;
  /** Wasm heap after the session was created and ran once. */
  heapBytes?: number;
  sessionMs?: number;
}

export interface CeilingResult {
  precision: WeightPrecision;
  prepacking: boolean;
  /** The largest set that loaded, and the smallest that did not. */
  largestOkBytes?: number;
  smallestFailedBytes?: number;
  probes: ProbeResult[];
}

// Note every WebAssembly.Memory the page makes, so the heap's size can be read (onnxruntime keeps its module private).
const TRACK_MEMORY = `(() => {
  const Original = WebAssembly.Memory;
  window.__memories = [];
  WebAssembly.Memory = function (d) { const m = new Original(d); window.__memories.push(m); return m; };
  WebAssembly.Memory.prototype = Original.prototype;
})();`;

async function probe(serverUrl: string, dir: string, precision: WeightPrecision, bytes: number, prepacking: boolean): Promise<ProbeResult> {
  const name = `${precision}-${bytes}`;
  const set = writeTransformerModel({ dir: path.join(dir, name), bytes, shards: 3, precision, writeWeights: false });
  const profile = await mkdtemp(path.join(tmpdir(), 'ondevice-ceiling-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...BASE_FLAGS, '--disable-gpu'],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.addInitScript(TRACK_MEMORY);
    await page.goto(`${serverUrl}/test-page.html`);
    const crashed = new Promise<ProbeResult>((resolve) =>
      page.on('crash', () => resolve({ bytes: set.totalBytes, ok: false, error: 'renderer crashed' })),
    );
    const outcome = page.evaluate(
      `(async () => {
        const ort = await import('/ort/ort.wasm.bundle.min.mjs');
        ort.env.wasm.numThreads = 1;
        const model = new Uint8Array(await (await fetch('/ceiling/${name}/transformer.onnx')).arrayBuffer());
        const externalData = ${JSON.stringify(set.files.map((f) => ({ path: f.location, bytes: f.bytes })))}.map((f) => ({ path: f.path, data: new Uint8Array(f.bytes) }));
        const t0 = performance.now();
        try {
          const session = await ort.InferenceSession.create(model, {
            executionProviders: ['wasm'],
            externalData,
            ${prepacking ? '' : "extra: { session: { disable_prepacking: '1' } },"}
          });
          const sessionMs = performance.now() - t0;
          externalData.length = 0;
          const data = new ${precision === 'fp16' ? 'Float32Array' : 'Float32Array'}(4 * ${set.hidden});
          await session.run({ input: new ort.Tensor('float32', data, [1, 4, ${set.hidden}]) });
          const heapBytes = window.__memories.reduce((sum, m) => sum + m.buffer.byteLength, 0);
          return { ok: true, sessionMs, heapBytes };
        } catch (e) {
          return { ok: false, error: String(e && e.message || e).split('\\n')[0].slice(0, 200) };
        }
      })()`,
    ) as Promise<Omit<ProbeResult, 'bytes'>>;
    const result = await Promise.race([outcome.then((r) => ({ bytes: set.totalBytes, ...r })), crashed]);
    return result;
  } catch (error) {
    return { bytes: set.totalBytes, ok: false, error: (error as Error).message.split('\n')[0].slice(0, 200) };
  } finally {
    await context.close().catch(() => undefined);
    await rm(profile, { recursive: true, force: true });
    await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

export async function runWasmCeilingBench(): Promise<CeilingResult[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ondevice-ceiling-models-'));
  const server = await startRecordingAppServer({
    handlers: [
      async (req, res, url) => {
        for (const [prefix, root] of [
          ['/ceiling/', dir],
          ['/ort/', path.resolve('node_modules/onnxruntime-web/dist')],
        ] as const) {
          if (!url.pathname.startsWith(prefix)) continue;
          const file = await resolveUnderRoot(root, url.pathname.slice(prefix.length));
          return !!file && (await serveFile(req, res, file));
        }
        return false;
      },
    ],
  });
  const results: CeilingResult[] = [];
  try {
    for (const { precision, prepacking } of CASES) {
      let [lo, hi] = BOUNDS[precision];
      const result: CeilingResult = { precision, prepacking, probes: [] };
      for (let step = 0; step < STEPS; step++) {
        const bytes = step === 0 ? lo : (lo + hi) / 2;
        const r = await probe(server.url, dir, precision, bytes, prepacking);
        result.probes.push(r);
        console.log(
          `  ${precision} prepacking ${prepacking ? 'on' : 'off'} ${(r.bytes / 1e9).toFixed(2)} GB: ${r.ok ? `ok, heap ${((r.heapBytes ?? 0) / 2 ** 30).toFixed(2)} GiB` : r.error}`,
        );
        if (r.ok) {
          result.largestOkBytes = Math.max(result.largestOkBytes ?? 0, r.bytes);
          lo = bytes;
        } else {
          result.smallestFailedBytes = Math.min(result.smallestFailedBytes ?? Infinity, r.bytes);
          hi = bytes;
          if (step === 0) break; // the low bound itself failed: nothing to bisect
        }
      }
      results.push(result);
    }
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

export function printWasmCeilingBench(results: CeilingResult[]): void {
  console.log('\nWASM ceiling, onnxruntime-web 1.30 (wasm32), transformer-shaped sets in 3 data files');
  const gb = (b?: number) => (b === undefined ? '–' : `${(b / 1e9).toFixed(2)} GB`);
  for (const r of results) {
    const heap = r.probes.filter((p) => p.ok).at(-1)?.heapBytes;
    console.log(
      `  ${r.precision}, prepacking ${r.prepacking ? 'on' : 'off'}: loads up to ${gb(r.largestOkBytes)}, fails from ${gb(r.smallestFailedBytes)}${heap ? ` (heap ${(heap / 2 ** 30).toFixed(2)} GiB at the largest)` : ''}`,
    );
  }
}
