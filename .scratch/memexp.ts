import { chromium } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BASE_FLAGS, CHROMIUM_PATH } from '../test/helpers/chromium';
import { startRecordingAppServer } from '../test/helpers/recordingAppServer';
import { resolveUnderRoot, serveFile } from '../src/start/staticFiles';
import { rendererBytes, trackRendererMemory } from '../bench/rendererMemory';
const DIR = path.resolve('bench-results/big');
const SIZE = process.env.SIZE ?? '400000000';
const set = JSON.parse((await import('node:fs')).readFileSync(`${DIR}/fp32-${SIZE}/set.json`, 'utf8'));
const server = await startRecordingAppServer({ handlers: [async (req, res, url) => {
  for (const [prefix, root] of [['/big/', DIR], ['/ort/', path.resolve('node_modules/onnxruntime-web/dist')]] as const) {
    if (!url.pathname.startsWith(prefix)) continue;
    const file = await resolveUnderRoot(root, url.pathname.slice(prefix.length));
    return !!file && (await serveFile(req, res, file, {}));
  }
  return false;
}] });
const variants = (process.env.VARIANTS ?? 'wasm-u8,wasm-u8-noprepack,jspi-blob,jspi-blob-noprepack').split(',');
for (const v of variants) {
  console.log('start', v, new Date().toISOString());
  const profile = await mkdtemp(path.join(tmpdir(), 'mem-'));
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: [...BASE_FLAGS, '--disable-gpu', '--js-flags=--expose-gc'] });
  const page = ctx.pages()[0];
  page.on('console', (m) => console.log('  page:', m.text().slice(0, 300)));
  page.on('crash', () => console.log('  page crashed'));
  await page.goto(`${server.url}/test-page.html`);
  await page.evaluate('gc()'); await new Promise((r) => setTimeout(r, 500));
  const base = rendererBytes();
  const t = trackRendererMemory(100);
  const r = await page.evaluate(`(async () => {
    const v = ${JSON.stringify(v)};
    const ort = await import(v.startsWith('jspi') ? '/ort/ort.jspi.bundle.min.mjs' : '/ort/ort.wasm.bundle.min.mjs');
    ort.env.wasm.numThreads = 1;
    const base = new URL('/big/fp32-${SIZE}/', location.href);
    const t0 = performance.now();
    const model = new Uint8Array(await (await fetch(new URL('transformer.onnx', base))).arrayBuffer());
    const externalData = [];
    for (const f of ${JSON.stringify(set.files.map((f: { location: string }) => f.location))}) {
      const res = await fetch(new URL(f, base));
      externalData.push({ path: f, data: v.includes('blob') ? await res.blob() : new Uint8Array(await res.arrayBuffer()) });
    }
    const t1 = performance.now(); console.log('fetched', t1 - t0);
    const opts = { executionProviders: ['wasm'], externalData };
    if (v.includes('noprepack')) opts.extra = { session: { disable_prepacking: '1' } };
    const s = await ort.InferenceSession.create(model, opts);
    externalData.length = 0;
    const t2 = performance.now();
    const data = Float32Array.from({ length: 4 * ${set.hidden} }, (_, i) => Math.sin(i / 3));
    await s.run({ input: new ort.Tensor('float32', data, [1, 4, ${set.hidden}]) });
    const t3 = performance.now();
    for (let i = 0; i < 3; i++) await s.run({ input: new ort.Tensor('float32', data, [1, 4, ${set.hidden}]) });
    const t4 = performance.now();
    window.__s = s;
    return { fetchMs: t1 - t0, sessionMs: t2 - t1, firstRunMs: t3 - t2, nextRunMs: (t4 - t3) / 3 };
  })()`).catch((e) => ({ error: String(e).slice(0, 500) }));
  await new Promise((res) => setTimeout(res, 2000));
  const { peakBytes, lastBytes } = t.stop();
  await page.evaluate('gc()'); await new Promise((res) => setTimeout(res, 1000));
  const gcd = rendererBytes();
  const b = set.totalBytes;
  console.log(v, JSON.stringify(r), `during ${((peakBytes - base) / b).toFixed(2)}x after ${((lastBytes - base) / b).toFixed(2)}x afterGC ${((gcd - base) / b).toFixed(2)}x`);
  await ctx.close(); await rm(profile, { recursive: true, force: true });
}
await server.close();
