// The model store in real Chromium and real IndexedDB, against the real app server in-process on
// 127.0.0.1 (test/helpers/recordingAppServer.ts) that records every request and body byte and can cut a
// connection or serve the wrong bytes. Each test gets a fresh browser context (empty storage).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { CHUNK_BYTES } from '../../src/cache/chunkBytes';
import { launchChromium } from '../helpers/chromium';
import { DIST, MODELS, startRecordingAppServer, type RecordingAppServer } from '../helpers/recordingAppServer';
import registry from '../../models/registry.json';

/** The file a registry model is fetched and stored as on WASM: its pre-optimised copy when it has one. */
const entry = (id: string) => {
  const e = registry.find((r) => r.id === id)!;
  const copy = 'optimized' in e ? e.optimized : undefined;
  return copy ? { ...e, file: copy.file, sha256: copy.sha256, bytes: copy.bytes } : e;
};
const REC = entry('ppocr-v4-rec');
const DET = entry('ppocr-v4-det');
const TINY = entry('tiny-mlp');
const tinyBytes = readFileSync(path.join(MODELS, TINY.file));
// Same length, still a loadable model (weights changed), wrong sha256.
const tamperedTiny = Buffer.from(tinyBytes);
for (let i = 2600; i < 2700; i++) tamperedTiny[i] ^= 0x11;

let server: RecordingAppServer;
let browser: Browser;
let context: BrowserContext;
/** The first request for REC is answered with this many bytes, then held open until the test cuts it. */
let holdRecAfterBytes: number | undefined;
let heldResponse: ServerResponse | undefined;
/** When set, the registry the server publishes (a new model version). */
let registryV2: unknown[] | undefined;

beforeAll(async () => {
  server = await startRecordingAppServer({
    handlers: [
      (req, res, url) => {
        if (url.pathname === `/models/${REC.file}` && holdRecAfterBytes !== undefined) {
          const body = readFileSync(path.join(MODELS, REC.file));
          res.writeHead(200, {
            'Content-Type': 'application/octet-stream',
            'Content-Length': String(body.length),
            'Cross-Origin-Resource-Policy': 'cross-origin',
          });
          res.write(body.subarray(0, holdRecAfterBytes));
          holdRecAfterBytes = undefined;
          heldResponse = res;
          return true;
        }
        if (url.pathname.startsWith('/models/spa/')) {
          // A single-page-app host: every unknown path gets index.html with a 200.
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
          res.end(readFileSync(path.join(DIST, 'index.html')));
          return true;
        }
        if (url.pathname === '/models/error-200.onnx') {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
          res.end('{"error":"rate limited"}');
          return true;
        }
        if (url.pathname === '/models/registry.json' && registryV2) {
          res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
          res.end(JSON.stringify(registryV2));
          return true;
        }
        if (url.pathname === '/models/tampered/tiny-mlp.onnx') {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(tamperedTiny.length) });
          res.end(tamperedTiny);
          return true;
        }
        return false;
      },
    ],
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

afterEach(async () => {
  await context?.close();
});

async function openPage(): Promise<Page> {
  context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/test-page.html`);
  return page;
}

interface LoadOutcome {
  ok: boolean;
  code?: string;
  message?: string;
  fromCache?: boolean;
  storeWarning?: string;
  outputs?: number[];
  progress: { loaded: number; total: number; fromCache?: boolean }[];
}

/**
 * loadModel in the page (by id, URL, or a registry entry patched with `patch`); tiny-mlp is also run
 * on a fixed input.
 */
function load(
  page: Page,
  input: string,
  options: { patch?: Record<string, unknown>; cacheBudgetBytes?: number } = {},
): Promise<LoadOutcome> {
  return page.evaluate(
    async ({ input, options }) => {
      const O = (window as any).OnDevice;
      const progress: LoadOutcome['progress'] = [];
      let source: unknown = input;
      if (options.patch) source = { ...(await O.fetchRegistry()).find((e: { id: string }) => e.id === input), ...options.patch };
      try {
        const model = await O.loadModel(source, {
          backend: 'wasm',
          warmup: false,
          cacheBudgetBytes: options.cacheBudgetBytes,
          onProgress: (p: any) => progress.push(p),
        });
        let outputs: number[] | undefined;
        if (model.inputs[0]?.name === 'x' && model.inputs[0].shape[1] === 16) {
          const out = await model.run({ x: { type: 'float32', data: Float32Array.from({ length: 16 }, (_, i) => i / 16), dims: [1, 16] } });
          outputs = Array.from(out.probs.data as Float32Array);
        }
        model.dispose();
        return { ok: true, fromCache: model.info.fromCache, storeWarning: model.info.storeWarning?.code, outputs, progress };
      } catch (e: any) {
        return { ok: false, code: e.code, message: e.message, progress };
      }
    },
    { input, options },
  );
}

const stored = (page: Page) =>
  page.evaluate(() => (window as any).OnDevice.modelStore.list()) as Promise<
    { id: string; version?: string; url: string; bytes: number; storedBytes: number; complete: boolean; sha256?: string }[]
  >;

/** Everything in the store's object stores, straight from IndexedDB. */
const rawCounts = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<{ manifests: number; chunks: number }>((resolve, reject) => {
        const open = indexedDB.open('ondevice-models');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(['manifests', 'chunks']);
          const m = tx.objectStore('manifests').count();
          const c = tx.objectStore('chunks').count();
          tx.oncomplete = () => {
            resolve({ manifests: m.result, chunks: c.result });
            db.close();
          };
        };
      }),
  );

describe('model store', () => {
  test('first visit downloads and stores in chunks; a reload loads from IndexedDB without asking the server', async () => {
    const page = await openPage();
    const path = `/models/${DET.file}`;
    const first = await load(page, 'ppocr-v4-det');
    expect(first).toMatchObject({ ok: true, fromCache: false });
    expect(server.requestsFor(path)).toHaveLength(1);
    expect(await stored(page)).toMatchObject([
      { id: 'ppocr-v4-det', version: '1', bytes: DET.bytes, storedBytes: DET.bytes, complete: true, sha256: DET.sha256 },
    ]);
    expect(await rawCounts(page)).toEqual({ manifests: 1, chunks: Math.ceil(DET.bytes / CHUNK_BYTES) });

    await page.reload();
    const second = await load(page, 'ppocr-v4-det');
    expect(second).toMatchObject({ ok: true, fromCache: true });
    expect(second.progress.at(-1)).toEqual({ loaded: DET.bytes, total: DET.bytes, lengthComputable: true, fromCache: true });
    expect(server.requestsFor(path)).toHaveLength(1);
  });

  test('an interrupted download resumes after a reload from the last stored chunk', async () => {
    const page = await openPage();
    const path = `/models/${REC.file}`;
    const before = server.requestsFor(path).length;
    const inFlight = 300_000;
    holdRecAfterBytes = 2 * CHUNK_BYTES + inFlight;
    const pending = load(page, 'ppocr-v4-rec');
    // Cut the connection once two whole chunks are stored (the third is in flight).
    await expect.poll(async () => (await stored(page))[0]?.storedBytes ?? 0, { timeout: 30_000 }).toBe(2 * CHUNK_BYTES);
    heldResponse!.destroy();
    expect(await pending).toMatchObject({ ok: false, code: 'MODEL_FETCH_FAILED' });
    expect(await stored(page)).toMatchObject([{ id: 'ppocr-v4-rec', complete: false, storedBytes: 2 * CHUNK_BYTES }]);

    await page.reload();
    const resumed = await load(page, 'ppocr-v4-rec');
    expect(resumed).toMatchObject({ ok: true, fromCache: false });
    const requests = server.requestsFor(path).slice(before);
    expect(requests.map((r) => r.range)).toEqual([undefined, `bytes=${2 * CHUNK_BYTES}-`]);
    expect(requests[1].status).toBe(206);
    const served = requests.reduce((sum, r) => sum + r.bytes, 0);
    expect(served).toBe(REC.bytes + inFlight);
    expect(served).toBeLessThanOrEqual(REC.bytes + CHUNK_BYTES);
    expect(await stored(page)).toMatchObject([{ id: 'ppocr-v4-rec', complete: true, storedBytes: REC.bytes, sha256: REC.sha256 }]);
  });

  test('an HTML page, an error body with 200 or a wrong length at a model URL fail with MODEL_FETCH_FAILED and store nothing', async () => {
    const page = await openPage();
    expect(await load(page, '/models/spa/model.onnx')).toMatchObject({ ok: false, code: 'MODEL_FETCH_FAILED' });
    expect(await load(page, '/models/error-200.onnx')).toMatchObject({ ok: false, code: 'MODEL_FETCH_FAILED' });
    expect(await load(page, 'tiny-mlp', { patch: { bytes: TINY.bytes + 10 } })).toMatchObject({ ok: false, code: 'MODEL_FETCH_FAILED' });
    expect(await stored(page)).toEqual([]);
    expect(await rawCounts(page)).toEqual({ manifests: 0, chunks: 0 });
  });

  test('a corrupted or truncated stored chunk is detected, purged and downloaded again; bad bytes never reach a session', async () => {
    const page = await openPage();
    const path = `/models/${TINY.file}`;
    const before = server.requestsFor(path).length;
    const good = await load(page, 'tiny-mlp');
    expect(good.ok).toBe(true);

    for (const damage of ['flip', 'truncate'] as const) {
      // Edit the stored chunk from the page: the same weights tampering as `tamperedTiny`, or a short blob.
      await page.evaluate(
        (damage) =>
          new Promise<void>((resolve, reject) => {
            const open = indexedDB.open('ondevice-models');
            open.onsuccess = async () => {
              const db = open.result;
              const read = db.transaction('chunks').objectStore('chunks').getAll();
              read.onsuccess = async () => {
                const [chunk] = read.result;
                const bytes = new Uint8Array(await chunk.blob.arrayBuffer());
                if (damage === 'flip') for (let i = 2600; i < 2700; i++) bytes[i] ^= 0x11;
                const blob = new Blob([damage === 'flip' ? bytes : bytes.subarray(0, 1000)]);
                const tx = db.transaction('chunks', 'readwrite');
                tx.objectStore('chunks').put({ ...chunk, blob, bytes: blob.size });
                tx.oncomplete = () => (db.close(), resolve());
                tx.onerror = () => reject(tx.error);
              };
            };
          }),
        damage,
      );
      await page.reload();
      const again = await load(page, 'tiny-mlp');
      expect(again).toMatchObject({ ok: true, fromCache: false });
      expect(again.outputs).toEqual(good.outputs);
    }
    expect(server.requestsFor(path).length - before).toBe(3);
    expect(await stored(page)).toMatchObject([{ id: 'tiny-mlp', complete: true, sha256: TINY.sha256 }]);
  });

  test('a file whose sha256 does not match is downloaded twice, then INTEGRITY_MISMATCH; nothing stored, no session', async () => {
    const page = await openPage();
    const path = '/models/tampered/tiny-mlp.onnx';
    const tampered = await load(page, 'tiny-mlp', { patch: { file: 'tampered/tiny-mlp.onnx' } });
    expect(tampered).toMatchObject({ ok: false, code: 'INTEGRITY_MISMATCH' });
    expect(server.requestsFor(path)).toHaveLength(2);
    expect(await rawCounts(page)).toEqual({ manifests: 0, chunks: 0 });
    // The tampered bytes are a perfectly loadable model with other outputs: only the hash check stopped them.
    const good = await load(page, 'tiny-mlp');
    const unchecked = await load(page, path);
    expect(unchecked.ok).toBe(true);
    expect(unchecked.outputs).not.toEqual(good.outputs);
  });

  test('a model loaded by bare URL is stored, hashed on first download and revalidated with its ETag', async () => {
    const page = await openPage();
    const path = `/models/${TINY.file}`;
    const before = server.requestsFor(path).length;
    expect(await load(page, path)).toMatchObject({ ok: true, fromCache: false });
    expect(await stored(page)).toMatchObject([{ id: 'tiny-mlp', version: undefined, complete: true, sha256: TINY.sha256 }]);
    await page.reload();
    expect(await load(page, path)).toMatchObject({ ok: true, fromCache: true });
    const [first, second] = server.requestsFor(path).slice(before);
    expect(first.status).toBe(200);
    expect(second).toMatchObject({ status: 304, bytes: 0 });
    expect(second.headers['if-none-match']).toBeTruthy();
  });

  test('a new registry version downloads in the background; the old one serves until the new is verified, then goes', async () => {
    const page = await openPage();
    const v1 = await load(page, 'tiny-mlp');
    expect(v1.ok).toBe(true);
    // Version 2 of tiny-mlp: other weights (the tampered bytes, here with their own correct sha256).
    const { createHash } = await import('node:crypto');
    registryV2 = registry.map((e) =>
      e.id === 'tiny-mlp'
        ? { ...e, version: '2', file: 'tampered/tiny-mlp.onnx', sha256: createHash('sha256').update(tamperedTiny).digest('hex') }
        : e,
    );
    try {
      await page.reload();
      // Keep the model (and so its worker) alive while the background download runs.
      const first = await page.evaluate(async () => {
        const model = await (window as any).OnDevice.loadModel('tiny-mlp', { backend: 'wasm', warmup: false });
        (window as any).keep = model;
        const out = await model.run({ x: { type: 'float32', data: Float32Array.from({ length: 16 }, (_, i) => i / 16), dims: [1, 16] } });
        return { version: model.info.version, fromCache: model.info.fromCache, outputs: Array.from(out.probs.data as Float32Array) };
      });
      expect(first).toEqual({ version: '1', fromCache: true, outputs: v1.outputs });
      await expect
        .poll(async () => (await stored(page)).map((m) => `${m.id}@${m.version}:${m.complete}`), { timeout: 30_000 })
        .toEqual(['tiny-mlp@2:true']);
      await page.reload();
      const second = await load(page, 'tiny-mlp');
      expect(second).toMatchObject({ ok: true, fromCache: true });
      expect(second.outputs).not.toEqual(v1.outputs);
    } finally {
      registryV2 = undefined;
    }
  });

  test('a small budget evicts the least recently used model; an impossible fit loads from the network with QUOTA_EXCEEDED', async () => {
    const page = await openPage();
    expect((await load(page, 'tiny-mlp')).ok).toBe(true);
    expect((await load(page, 'counter')).ok).toBe(true);
    const counterBytes = entry('counter').bytes;
    // Room for det and counter, not for tiny-mlp as well: tiny-mlp was used least recently.
    const fits = await load(page, 'ppocr-v4-det', { cacheBudgetBytes: DET.bytes + counterBytes + 100 });
    expect(fits).toMatchObject({ ok: true, fromCache: false });
    expect(fits.storeWarning).toBeUndefined();
    expect((await stored(page)).map((m) => m.id).sort()).toEqual(['counter', 'ppocr-v4-det']);

    const recRequests = server.requestsFor(`/models/${REC.file}`).length;
    const tooBig = await load(page, 'ppocr-v4-rec', { cacheBudgetBytes: DET.bytes + counterBytes + 100 });
    expect(tooBig).toMatchObject({ ok: true, fromCache: false, storeWarning: 'QUOTA_EXCEEDED' });
    expect(server.requestsFor(`/models/${REC.file}`).length).toBe(recRequests + 1);
    // Nothing was evicted for a model that could never fit, and it was not stored.
    expect((await stored(page)).map((m) => m.id).sort()).toEqual(['counter', 'ppocr-v4-det']);
    // The page keeps working: the same model loads again from the network.
    expect(await load(page, 'ppocr-v4-rec', { cacheBudgetBytes: 1000 })).toMatchObject({
      ok: true,
      fromCache: false,
      storeWarning: 'QUOTA_EXCEEDED',
    });
  });
});
