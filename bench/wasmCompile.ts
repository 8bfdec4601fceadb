// A start-up lever, measured: the JSPI build of onnxruntime-web for WebGPU (16.8 MB) instead of the asyncify one
// (26.8 MB). How long headless Chromium takes to compile each (and the plain WASM build for scale), and
// whether it has JSPI (`WebAssembly.Suspending`). Each compile is in a fresh browser: V8 keeps compiled
// modules per process, so a second compile of the same bytes would measure its cache, not the compiler.
import path from 'node:path';
import { launchChromium } from '../test/helpers/chromium';
import { startAppServer } from '../test/helpers/appServer';
import { median } from '../src/collector/percentile';

const BUILDS = ['ort-wasm-simd-threaded.jspi.wasm', 'ort-wasm-simd-threaded.asyncify.wasm', 'ort-wasm-simd-threaded.wasm'];
const ROUNDS = 5;

export interface WasmCompileResult {
  file: string;
  bytes: number;
  /** `WebAssembly.compile` of bytes already in memory, one per fresh browser (ms). */
  compileMs: number[];
  compileMedianMs: number;
  /** `WebAssembly.compileStreaming` of a fresh (no-store) fetch from the local server, in the same fresh browsers (ms). */
  streamingMs: number[];
  streamingMedianMs: number;
  /** Relative to the asyncify build's median. */
  overAsyncify: number;
}

export async function runWasmCompileBench(): Promise<{
  chromium: string;
  suspending: boolean;
  promising: boolean;
  results: WasmCompileResult[];
}> {
  const server = await startAppServer({ ONDEVICE_FIXTURES_DIR: path.resolve('node_modules/onnxruntime-web/dist') });
  const times = Object.fromEntries(BUILDS.map((b) => [b, { bytes: 0, compile: [] as number[], streaming: [] as number[] }]));
  let chromium = '';
  let features = { suspending: false, promising: false };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order round by round: a burst of load elsewhere hits every build alike.
      const order = BUILDS.map((_, i) => BUILDS[(i + round) % BUILDS.length]);
      for (const file of order) {
        for (const how of ['compile', 'streaming'] as const) {
          const browser = await launchChromium();
          try {
            chromium = browser.version();
            const page = await browser.newPage();
            await page.goto(`${server.url}/test-page.html`);
            // A string, so that no bundler helper ends up in the page.
            const measured = (await page.evaluate(`(async (url, how) => {
              const features = { suspending: typeof WebAssembly.Suspending === 'function', promising: typeof WebAssembly.promising === 'function' };
              if (how === 'compile') {
                const bytes = await (await fetch(url, { cache: 'no-store' })).arrayBuffer();
                const s = performance.now();
                await WebAssembly.compile(bytes);
                return { ms: performance.now() - s, bytes: bytes.byteLength, features };
              }
              const s = performance.now();
              await WebAssembly.compileStreaming(fetch(url, { cache: 'no-store' }));
              return { ms: performance.now() - s, bytes: 0, features };
            })(${JSON.stringify(`/fixtures/${file}`)}, ${JSON.stringify(how)})`)) as {
              ms: number;
              bytes: number;
              features: typeof features;
            };
            features = measured.features;
            times[file][how].push(measured.ms);
            if (measured.bytes) times[file].bytes = measured.bytes;
          } finally {
            await browser.close();
          }
        }
      }
    }
  } finally {
    await server.stop();
  }
  const asyncify = median(times['ort-wasm-simd-threaded.asyncify.wasm'].compile);
  return {
    chromium,
    ...features,
    results: BUILDS.map((file) => ({
      file,
      bytes: times[file].bytes,
      compileMs: times[file].compile,
      compileMedianMs: median(times[file].compile),
      streamingMs: times[file].streaming,
      streamingMedianMs: median(times[file].streaming),
      overAsyncify: median(times[file].compile) / asyncify,
    })),
  };
}

export function printWasmCompileBench(r: Awaited<ReturnType<typeof runWasmCompileBench>>): void {
  console.log(
    `\nonnxruntime-web wasm compile in headless Chromium ${r.chromium} (median of ${ROUNDS}, fresh browser each, builds alternated); ` +
      `WebAssembly.Suspending ${r.suspending ? 'exists' : 'missing'}, WebAssembly.promising ${r.promising ? 'exists' : 'missing'}`,
  );
  for (const x of r.results) {
    console.log(
      `${x.file.padEnd(40)} ${(x.bytes / 1e6).toFixed(1).padStart(5)} MB  compile ${x.compileMedianMs.toFixed(0).padStart(5)} ms ` +
        `(${x.overAsyncify.toFixed(2)}× asyncify)  compileStreaming ${x.streamingMedianMs.toFixed(0).padStart(5)} ms`,
    );
  }
}
