// Diagnose the cold path: where do the seconds go for a 400 MB set?
import { chromium } from 'playwright-core';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BASE_FLAGS, CHROMIUM_PATH } from '../test/helpers/chromium';
import { startRecordingAppServer } from '../test/helpers/recordingAppServer';
import { resolveUnderRoot, serveFile } from '../src/start/staticFiles';
const DIR = path.resolve('bench-results/big');
const server = await startRecordingAppServer({ handlers: [async (req, res, url) => {
  if (!url.pathname.startsWith('/big/')) return false;
  const file = await resolveUnderRoot(DIR, url.pathname.slice(5));
  return !!file && (await serveFile(req, res, file, {}));
}] });
for (const cache of [false, true]) {
  const profile = await mkdtemp(path.join(tmpdir(), 'cold-'));
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: [...BASE_FLAGS, '--disable-gpu'] });
  const page = ctx.pages()[0];
  await page.goto(`${server.url}/test-page.html`);
  const r = await page.evaluate(`(async () => {
    const O = window.OnDevice; const t0 = performance.now(); let n = 0;
    const m = await O.loadModel('/big/fp32-400000000/transformer.onnx', { backend: 'wasm', warmup: false, cache: ${cache}, onProgress: () => n++ });
    return { ms: performance.now() - t0, timings: m.info.timings, n };
  })()`);
  console.log({ cache, r });
  await ctx.close();
}
await server.close();
