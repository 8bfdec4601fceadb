import { chromium } from 'playwright-core';
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
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...BASE_FLAGS, '--disable-gpu'] });
const page = await browser.newPage();
await page.goto(`${server.url}/test-page.html`);
const code = (mode: string) => `(async () => {
  const url = '/big/fp32-400000000-0/transformer.onnx';
  const t0 = performance.now();
  const res = await fetch(url, { cache: 'no-store' });
  const n = Number(res.headers.get('content-length'));
  let chunks = 0;
  if ('${mode}' === 'arrayBuffer') { await res.arrayBuffer(); }
  else if ('${mode}' === 'reader') { const buf = new Uint8Array(n); let at = 0; const r = res.body.getReader(); for (;;) { const { done, value } = await r.read(); if (done) break; buf.set(value, at); at += value.byteLength; chunks++; } }
  else { const r = res.body.getReader({ mode: 'byob' }); let buf = new ArrayBuffer(n); let at = 0; while (at < n) { const { done, value } = await r.read(new Uint8Array(buf, at, Math.min(n - at, 8 << 20))); if (done) break; buf = value.buffer; at += value.byteLength; chunks++; } }
  return { mode: '${mode}', ms: Math.round(performance.now() - t0), chunks };
})()`;
for (let i = 0; i < 2; i++) for (const m of ['arrayBuffer', 'reader', 'byob']) console.log(await page.evaluate(code(m)));
await browser.close(); await server.close();
