// Which quantized formats onnxruntime-web's WASM kernels run (`npm run bench -- quantized`): one small model per
// format (scripts/onnx/quantizedFormats.ts), loaded through ondevice in headless Chromium on WASM and run on the
// same input as onnxruntime-node; prints whether each loads and runs, and the largest difference from node.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { quantizedFormats } from '../scripts/onnx/quantizedFormats';
import { resolveUnderRoot, serveFile } from '../src/start/staticFiles';
import { launchChromium } from '../test/helpers/chromium';
import { startRecordingAppServer } from '../test/helpers/recordingAppServer';

export interface QuantizedFormatResult {
  name: string;
  origin: string;
  /** onnxruntime-web 1.30 on WASM in Chromium, through ondevice. */
  web: 'runs' | string;
  node: 'runs' | string;
  /** Largest |web − node| over the output (uint8 outputs in steps). */
  maxAbsDiff?: number;
}

export async function runQuantizedFormatsBench(): Promise<QuantizedFormatResult[]> {
  const formats = quantizedFormats();
  const dir = await mkdtemp(path.join(tmpdir(), 'ondevice-quantized-'));
  const server = await startRecordingAppServer({
    handlers: [
      async (req, res, url) => {
        if (!url.pathname.startsWith('/q/')) return false;
        const file = await resolveUnderRoot(dir, url.pathname.slice(3));
        return !!file && (await serveFile(req, res, file));
      },
    ],
  });
  const browser = await launchChromium();
  const results: QuantizedFormatResult[] = [];
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/test-page.html`);
    for (const [i, format] of formats.entries()) {
      await writeFile(path.join(dir, `${i}.onnx`), format.bytes);
      const input = format.feeds.x;
      let nodeOut: number[] | undefined;
      let node = 'runs';
      try {
        const session = await ort.InferenceSession.create(format.bytes);
        const out = await session.run({ x: new ort.Tensor(input.type, input.data as never, input.dims) });
        nodeOut = Array.from(out.y.data as ArrayLike<number>);
        await session.release();
      } catch (error) {
        node = (error as Error).message.split('\n')[0];
      }
      const web = await page.evaluate(
        async ({ url, input }) => {
          const O = (window as any).OnDevice;
          try {
            const model = await O.loadModel(url, { backend: 'wasm', warmup: false, cache: false });
            const data = input.type === 'uint8' ? Uint8Array.from(input.data) : Float32Array.from(input.data);
            const out = await model.run({ x: { type: input.type, data, dims: input.dims } });
            model.dispose();
            return { ok: true as const, y: Array.from(out.y.data as ArrayLike<number>) };
          } catch (e: any) {
            return { ok: false as const, error: `${e.code}: ${String(e.message).split('\n')[0]}` };
          }
        },
        { url: `/q/${i}.onnx`, input: { type: input.type, data: Array.from(input.data as ArrayLike<number>), dims: input.dims } },
      );
      const maxAbsDiff = web.ok && nodeOut ? Math.max(...web.y.map((v, k) => Math.abs(v - nodeOut![k]))) : undefined;
      results.push({ name: format.name, origin: format.origin, web: web.ok ? 'runs' : web.error, node, maxAbsDiff });
    }
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

export function printQuantizedFormatsBench(results: QuantizedFormatResult[]): void {
  console.log('\nquantized formats on onnxruntime-web 1.30 WASM (Chromium) vs onnxruntime-node, same input');
  for (const r of results) {
    const diff = r.maxAbsDiff === undefined ? '' : `, max |web − node| ${r.maxAbsDiff.toExponential(2)}`;
    console.log(`  ${r.name}: web ${r.web}; node ${r.node}${diff}  (${r.origin})`);
  }
}
