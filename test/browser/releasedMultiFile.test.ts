// A multi-file model published through the release server, loaded by id through the manifest in a fresh browser
// profile (real Chromium against the real `npm start` process): every data file comes from the release files
// route, a connection cut in the middle of a shard is resumed with Range through the same route, the set is
// verified, stored and run on WASM with the outputs of onnxruntime-node on the same files.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Feeds } from '../../src/core/protocol';
import { writeTransformerModel } from '../../scripts/onnx/transformer/writeTransformerModel';
import { startAppServer } from '../helpers/appServer';
import { launchChromium } from '../helpers/chromium';
import { startCuttingProxy, type CuttingProxy } from '../helpers/cuttingProxy';
import { closeReferenceSessions, compareOutputs, runReference } from '../helpers/reference';
import type { SpawnedServer } from '../helpers/spawnServer';

const root = mkdtempSync(join(tmpdir(), 'ondevice-released-multifile-'));
/** Three shards of ~6 MB: each spans two of the store's 4 MiB chunks, so a cut after 5 MB leaves one to resume after. */
const SET = writeTransformerModel({ dir: root, bytes: 18e6, shards: 3, hidden: 256, locations: ['onnx::MatMul_1', 'w/b b.bin', 'c.bin'] });
const ID = 'released-shards';
const input: Feeds = {
  input: { type: 'float32', data: Float32Array.from({ length: 4 * SET.hidden }, (_, i) => Math.sin(i / 3)), dims: [1, 4, SET.hidden] },
};

let server: SpawnedServer;
let proxy: CuttingProxy;
let browser: Browser;

beforeAll(async () => {
  server = await startAppServer();
  const published = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      ['bin/ondevice.mjs', 'release', 'publish', SET.model, '--model', ID, '--version', '1', '--server', server.url],
      (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
    ),
  );
  expect(published, published.stderr).toMatchObject({ code: 0 });
  proxy = await startCuttingProxy(server.url);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await server?.stop();
  await closeReferenceSessions();
  rmSync(root, { recursive: true, force: true });
});

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  info?: { version: string; bytes: number; fromCache: boolean };
  logits?: { type: string; data: number[]; dims: number[] };
}

function load(page: Page): Promise<Outcome> {
  const data = Array.from(input.input.data as Float32Array);
  return page.evaluate(
    async ({ id, data, dims }) => {
      const O = (window as any).OnDevice;
      try {
        const model = await O.loadModel(id, { backend: 'wasm', warmup: false });
        const out = await model.run({ input: { type: 'float32', data: Float32Array.from(data), dims } });
        const { version, bytes, fromCache } = model.info;
        model.dispose();
        return {
          ok: true,
          info: { version, bytes, fromCache },
          logits: { type: out.logits.type, data: Array.from(out.logits.data), dims: out.logits.dims },
        };
      } catch (e: any) {
        return { ok: false, code: e.code, message: e.message };
      }
    },
    { id: ID, data, dims: input.input.dims },
  );
}

test('loadModel(id) in a fresh profile: the set comes from the release files route, a cut shard resumes with Range, outputs equal onnxruntime-node', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${proxy.url}/test-page.html`);
    const shard = `/v1/releases/${ID}/1/files/onnx::MatMul_1`;
    proxy.cutNext(shard, 5_000_000);

    let outcome = await load(page);
    // A load that met the cut fails with a fetch error; the next one resumes the shard where the store stopped.
    if (!outcome.ok) {
      expect(outcome.code, outcome.message).toBe('MODEL_FETCH_FAILED');
      outcome = await load(page);
    }
    expect(outcome.ok, outcome.message).toBe(true);
    expect(outcome.info).toMatchObject({ version: '1', bytes: SET.totalBytes });

    const shardRequests = proxy.requests.filter((r) => decodeURIComponent(r.path) === shard);
    expect(shardRequests[0]).toMatchObject({ range: undefined, status: 200 });
    const resumed = shardRequests.find((r) => r.range !== undefined);
    expect(resumed?.status).toBe(206);
    expect(Number(/^bytes=(\d+)-$/.exec(resumed!.range!)?.[1])).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    for (const file of SET.files)
      expect(proxy.requests.some((r) => decodeURIComponent(r.path) === `/v1/releases/${ID}/1/files/${file.location}`)).toBe(true);

    const expected = await runReference(SET.model, input);
    const actual: Feeds = { logits: { type: 'float32', data: Float32Array.from(outcome.logits!.data), dims: outcome.logits!.dims } };
    expect(compareOutputs(actual, expected, { atol: 1e-4, rtol: 1e-3 })).toEqual([]);

    // The next load reads the verified set from the store: no data file is asked for again.
    const before = proxy.requests.length;
    const again = await load(page);
    expect(again).toMatchObject({ ok: true, info: { fromCache: true } });
    expect(proxy.requests.slice(before).filter((r) => r.path.includes('/files/'))).toEqual([]);
  } finally {
    await context.close();
  }
}, 180_000);
