// Quantized formats on the WASM backend (scripts/onnx/quantizedFormats.ts): the ones onnxruntime-web 1.30's CPU kernels
// run — int8 dynamic quantization (MatMulInteger, and the DynamicQuantizeMatMul it fuses into), QDQ int8, 4-bit and
// 8-bit MatMulNBits, fp16 weights — load through ondevice in real Chromium and match onnxruntime-node on the same
// input. `npm run bench -- quantized` prints the whole table, formats that do not run included.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { quantizedFormats } from '../../scripts/onnx/quantizedFormats';
import { resolveUnderRoot, serveFile } from '../../src/start/staticFiles';
import { launchChromium } from '../helpers/chromium';
import { startRecordingAppServer, type RecordingAppServer } from '../helpers/recordingAppServer';

const formats = quantizedFormats();
const dir = mkdtempSync(path.join(tmpdir(), 'ondevice-quantized-'));
formats.forEach((f, i) => writeFileSync(path.join(dir, `${i}.onnx`), f.bytes));

let server: RecordingAppServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startRecordingAppServer({
    handlers: [
      async (req, res, url) => {
        if (!url.pathname.startsWith('/q/')) return false;
        const file = await resolveUnderRoot(dir, url.pathname.slice(3));
        return !!file && (await serveFile(req, res, file));
      },
    ],
  });
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${server.url}/test-page.html`);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const RUN_ON_WASM = [
  'MatMulInteger + DynamicQuantizeLinear (int8 weights)',
  'DynamicQuantizeMatMul (com.microsoft)',
  'QDQ int8 (QuantizeLinear/DequantizeLinear around MatMul)',
  'MatMulNBits 4-bit, block 32 (com.microsoft)',
  'MatMulNBits 8-bit, block 32 (com.microsoft)',
  'MatMul with fp16 weights (Cast to fp32)',
];

describe('quantized formats on WASM', () => {
  test.each(RUN_ON_WASM)('%s: loads and matches onnxruntime-node', async (name) => {
    const i = formats.findIndex((f) => f.name === name);
    const { bytes, feeds } = formats[i];
    const x = feeds.x;
    const session = await ort.InferenceSession.create(bytes);
    const expected = Array.from((await session.run({ x: new ort.Tensor(x.type, x.data as never, x.dims) })).y.data as Float32Array);
    await session.release();
    const actual = await page.evaluate(
      async ({ url, data, dims }) => {
        const O = (window as any).OnDevice;
        const model = await O.loadModel(url, { backend: 'wasm', warmup: false, cache: false });
        const out = await model.run({ x: { type: 'float32', data: Float32Array.from(data), dims } });
        model.dispose();
        return Array.from(out.y.data as Float32Array);
      },
      { url: `/q/${i}.onnx`, data: Array.from(x.data as Float32Array), dims: x.dims },
    );
    expect(actual).toHaveLength(expected.length);
    const worst = Math.max(...actual.map((v, k) => Math.abs(v - expected[k]) / (1e-3 + Math.abs(expected[k]))));
    expect(worst).toBeLessThan(1e-2);
  });
});
