// Any ONNX model by URL, not only registry ones (a user's own model has no sample hint): the Silero VAD files that @ricky0123/vad-web ships leave their
// dynamic dims unnamed, which onnxruntime-web reports as 2³²−1. Loaded by URL in real Chromium they must
// report '?', load with the default warm-up without an error or a console message, accept any size for
// those dims, and give the same numbers as onnxruntime-node on the same real speech frames.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { closeReferenceSessions, compareOutputs, runReference } from '../helpers/reference';
import { feedsFromWire, feedsToWire, PAGE_WIRE_SOURCE, type WireTensor } from '../helpers/wire';
import { readWav } from '../../src/app/vad/wav';
import { describeModel } from '../../scripts/onnx/describeModel';
import type { Feeds } from '../../src/core/protocol';

const VAD_WEB_DIST = path.resolve('node_modules/@ricky0123/vad-web/dist');
const FILES = ['silero_vad_v5.onnx', 'silero_vad_v6.onnx'];
const CONTEXT = 64;
const WINDOW = 512;
/** Frames from 0.25 s (silence) into the first sentence (speech starts at 0.7 s), so probabilities move. */
const FIRST_FRAME = 8;
const FRAMES = 24;

let session: BrowserSession;
let page: Page;
const consoleMessages: string[] = [];
const audio = readWav(new Uint8Array(readFileSync('test/fixtures/vad-clip.wav')));
if (audio.sampleRate !== 16000) throw new Error(`vad-clip.wav is ${audio.sampleRate} Hz; these frames assume 16 kHz`);

beforeAll(async () => {
  session = await startBrowserSession({ env: { ONDEVICE_FIXTURES_DIR: VAD_WEB_DIST } });
  page = await session.open('/test-page.html');
  // Everything the page and its workers print, at any level (Chromium reports worker consoles here too).
  page.on('console', (m: ConsoleMessage) => consoleMessages.push(`${m.type()}: ${m.text()}`));
  await page.addScriptTag({ content: PAGE_WIRE_SOURCE });
});

afterAll(async () => {
  await session?.close();
  await closeReferenceSessions();
});

/** 576-sample frames (64 samples of context + 512 new ones), as silero-vad's own wrapper feeds v5. */
function frames(batch = 1): Float32Array[] {
  const out: Float32Array[] = [];
  for (let f = FIRST_FRAME; f < FIRST_FRAME + FRAMES; f++) {
    const frame = new Float32Array(batch * (CONTEXT + WINDOW));
    for (let b = 0; b < batch; b++) {
      // Each batch row starts at a different place in the clip, so rows differ.
      const start = (f + b * 40) * WINDOW - CONTEXT;
      for (let i = 0; i < CONTEXT + WINDOW; i++) frame[b * (CONTEXT + WINDOW) + i] = audio.channels[0][start + i] ?? 0;
    }
    out.push(frame);
  }
  return out;
}

/** The reference: the same file, the same frames, the state fed back, in onnxruntime-node. */
async function reference(file: string, inputs: Float32Array[], batch: number): Promise<Feeds[]> {
  let state: Float32Array = new Float32Array(2 * batch * 128);
  const results: Feeds[] = [];
  for (const input of inputs) {
    const out = await runReference(path.join(VAD_WEB_DIST, file), {
      input: { type: 'float32', data: input.slice(), dims: [batch, CONTEXT + WINDOW] },
      state: { type: 'float32', data: state, dims: [2, batch, 128] },
      sr: { type: 'int64', data: BigInt64Array.of(16000n), dims: [] },
    });
    state = out.stateN.data as Float32Array;
    results.push(out);
  }
  return results;
}

interface PageRun {
  id: string;
  inputs: { name: string; type: string; shape: (number | string)[] }[];
  outputs: { name: string; type: string; shape: (number | string)[] }[];
  warmupMs: number;
  results: Record<string, WireTensor>[];
}

/** Load by URL in the page, run the frames with the state fed back, dispose. */
function runByUrl(url: string, warmup: boolean | undefined, inputs: Float32Array[], batch: number): Promise<PageRun> {
  const wire = inputs.map((data) => feedsToWire({ input: { type: 'float32', data, dims: [batch, CONTEXT + WINDOW] } }).input);
  return page.evaluate(
    async ({ url, warmup, wire, batch }) => {
      const w = (window as any).__wire;
      const options = warmup === undefined ? { backend: 'wasm' } : { backend: 'wasm', warmup };
      const model = await (window as any).OnDevice.loadModel(url, options);
      try {
        let state = new Float32Array(2 * batch * 128);
        const results = [];
        for (const frame of wire) {
          const out = await model.run({
            input: w.fromWire(frame),
            state: { type: 'float32', data: state, dims: [2, batch, 128] },
            sr: { type: 'int64', data: BigInt64Array.of(16000n), dims: [] },
          });
          results.push(w.feedsToWire(out));
          state = out.stateN.data.slice();
        }
        return { id: model.id, inputs: model.inputs, outputs: model.outputs, warmupMs: model.info.timings.warmupMs, results };
      } finally {
        model.dispose();
      }
    },
    { url, warmup, wire, batch },
  );
}

describe('Silero VAD from @ricky0123/vad-web, by URL (unnamed dynamic dims)', () => {
  for (const file of FILES) {
    test(`${file}: '?' dims, default warm-up without a word, outputs equal onnxruntime-node`, async () => {
      const inputs = frames();
      const expected = await reference(file, inputs, 1);
      consoleMessages.length = 0;
      const errorsBefore = session.errors.length;
      const run = await runByUrl(`/fixtures/${file}`, undefined, inputs, 1);

      expect(run.id).toBe(file.replace(/\.onnx$/, ''));
      expect(run.inputs).toEqual([
        { name: 'input', type: 'float32', shape: ['?', '?'] },
        { name: 'state', type: 'float32', shape: [2, '?', 128] },
        { name: 'sr', type: 'int64', shape: [] },
      ]);
      expect(run.outputs).toEqual([
        { name: 'output', type: 'float32', shape: ['?', 1] },
        { name: 'stateN', type: 'float32', shape: ['?', '?', '?'] },
      ]);
      // onnxruntime-node (reporting '' for these dims) describes the file the same way once normalized.
      expect({ inputs: run.inputs, outputs: run.outputs }).toEqual(await describeModel(path.join(VAD_WEB_DIST, file)));
      expect(consoleMessages).toEqual([]);
      expect(session.errors.slice(errorsBefore)).toEqual([]);

      const probabilities = run.results.map((r) => (feedsFromWire(r).output.data as Float32Array)[0]);
      console.info(
        `${file} by URL: warm-up ${run.warmupMs.toFixed(0)} ms; probabilities ${probabilities.map((p) => p.toFixed(3)).join(' ')}`,
      );
      // The frames cross from silence into speech: the model must say so, or the comparison proves little.
      expect(Math.min(...probabilities)).toBeLessThan(0.2);
      expect(Math.max(...probabilities)).toBeGreaterThan(0.8);
      run.results.forEach((wire, i) => {
        expect(compareOutputs(feedsFromWire(wire), expected[i], { atol: 1e-4, rtol: 1e-3 }), `frame ${i}`).toEqual([]);
      });
    });
  }

  test('warmup: false, then any size for the unnamed dims: a batch of 3 runs and matches too', async () => {
    const file = FILES[0];
    const inputs = frames(3).slice(0, 6);
    const expected = await reference(file, inputs, 3);
    const run = await runByUrl(`/fixtures/${file}`, false, inputs, 3);
    expect(run.warmupMs).toBe(0);
    run.results.forEach((wire, i) => {
      const actual = feedsFromWire(wire);
      expect(actual.output.dims).toEqual([3, 1]);
      expect(compareOutputs(actual, expected[i], { atol: 1e-4, rtol: 1e-3 }), `frame ${i}`).toEqual([]);
    });
  });

  test('validation still holds where the model fixes a dim or a rank', async () => {
    const codes = await page.evaluate(async (url) => {
      const model = await (window as any).OnDevice.loadModel(url, { backend: 'wasm', warmup: false });
      const sr = { type: 'int64', data: BigInt64Array.of(16000n), dims: [] };
      const attempt = async (feeds: unknown) => {
        try {
          await model.run(feeds);
          return 'resolved';
        } catch (e: any) {
          return `${e.code}: ${e.message}`;
        }
      };
      try {
        return [
          // state's first dim is fixed at 2
          await attempt({
            input: { type: 'float32', data: new Float32Array(576), dims: [1, 576] },
            state: { type: 'float32', data: new Float32Array(3 * 128), dims: [3, 1, 128] },
            sr,
          }),
          // input has rank 2, whatever its sizes
          await attempt({
            input: { type: 'float32', data: new Float32Array(576), dims: [576] },
            state: { type: 'float32', data: new Float32Array(256), dims: [2, 1, 128] },
            sr,
          }),
        ];
      } finally {
        model.dispose();
      }
    }, `/fixtures/${FILES[0]}`);
    expect(codes[0]).toMatch(/^INVALID_INPUT: .*input "state" dim 0 must be 2, got 3/);
    expect(codes[1]).toMatch(/^INVALID_INPUT: .*input "input" must have rank 2 \[\?, \?\], got rank 1/);
  });
});
