// Multi-file models in real Chromium: an ONNX file whose weights sit in several external data files (written by
// the repository's transformer generator), loaded by URL and by registry id, stored, resumed and refused, against
// the real app server in-process (test/helpers/recordingAppServer.ts) serving the fixtures under /big/ with
// Range support, and able to cut a connection mid-file, compress a response or serve a wrong file. Outputs are
// checked against onnxruntime-node on the same files. Each test gets a fresh browser context (empty storage).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { CHUNK_BYTES } from '../../src/cache/chunkBytes';
import { encodeModel } from '../../src/node/onnx/encodeModel';
import type { Feeds } from '../../src/core/protocol';
import { toFloat16Bits } from '../../src/core/float16';
import { resolveUnderRoot, serveFile } from '../../src/start/staticFiles';
import { transformerEntry, writeTransformerModel, type TransformerSet } from '../../scripts/onnx/transformer/writeTransformerModel';
import { launchChromium } from '../helpers/chromium';
import { startRecordingAppServer, type RecordingAppServer } from '../helpers/recordingAppServer';
import { closeReferenceSessions, compareOutputs, runReference } from '../helpers/reference';
import { waitFor } from '../helpers/waitFor';

const root = mkdtempSync(join(tmpdir(), 'ondevice-multifile-'));
/** 3 shards of ~6 MB: each spans two 4 MiB store chunks, so a cut mid-shard leaves a chunk to resume after. */
const FP32 = writeTransformerModel({ dir: join(root, 'fp32'), bytes: 18e6, shards: 3, hidden: 256 });
/** Real exports' names: a location with "::" (must stay a relative URL) and one in a folder with a space. */
const NAMED = writeTransformerModel({
  dir: join(root, 'named'),
  bytes: 3e6,
  shards: 2,
  hidden: 64,
  seed: 2,
  locations: ['onnx::MatMul_12', 'weights/b b.bin'],
});
const FP16 = writeTransformerModel({ dir: join(root, 'fp16'), bytes: 6e6, shards: 2, hidden: 128, precision: 'fp16', seed: 3 });
const FP16_IO = writeTransformerModel({
  dir: join(root, 'fp16io'),
  bytes: 3e6,
  shards: 2,
  hidden: 64,
  precision: 'fp16',
  io: 'fp16',
  seed: 4,
});
const INT8 = writeTransformerModel({ dir: join(root, 'int8'), bytes: 6e6, shards: 2, hidden: 128, precision: 'int8', seed: 5 });

// A copy of NAMED whose second file is cut short: the model's last tensor reaches past its end.
mkdirSync(join(root, 'short/weights'), { recursive: true });
copyFileSync(NAMED.model, join(root, 'short/transformer.onnx'));
copyFileSync(NAMED.files[0].path, join(root, 'short/onnx::MatMul_12'));
writeFileSync(join(root, 'short/weights/b b.bin'), readFileSync(NAMED.files[1].path).subarray(0, NAMED.files[1].bytes - 1000));

/** Models that name files they may not (written without data: they are refused before any data file is asked for). */
function modelNaming(name: string, refs: { location: string; offset: number; length: number }[]): void {
  writeFileSync(
    join(root, 'bad', `${name}.onnx`),
    encodeModel({
      irVersion: 8,
      opsets: [{ domain: '', version: 17 }],
      producerName: 'test',
      producerVersion: '1',
      graph: {
        name: name,
        nodes: refs.map((_, i) => ({ opType: 'Identity', inputs: [`w${i}`], outputs: [`y${i}`] })),
        inputs: [],
        outputs: refs.map((r, i) => ({ name: `y${i}`, type: 'float32' as const, shape: [r.length / 4] })),
        initializers: refs.map((r, i) => ({ name: `w${i}`, type: 'float32' as const, dims: [r.length / 4], external: r })),
      },
    }),
  );
}
mkdirSync(join(root, 'bad'));
modelNaming('absolute', [{ location: '/etc/weights.bin', offset: 0, length: 16 }]);
modelNaming('dotdot', [{ location: '../fp32/transformer-1.bin', offset: 0, length: 16 }]);
modelNaming('backslash', [{ location: 'w\\b.bin', offset: 0, length: 16 }]);
modelNaming('overlap', [
  { location: 'w.bin', offset: 0, length: 16 },
  { location: 'w.bin', offset: 8, length: 16 },
]);
// Names 4.8 GB of fp32 weights: more than the wasm32 heap holds (the files do not exist: it must never ask).
modelNaming('huge', [
  { location: 'huge-1.bin', offset: 0, length: 2.4e9 },
  { location: 'huge-2.bin', offset: 0, length: 2.4e9 },
]);

// The registry served at /big/registry.json: FP32 by id, its files named apart from their locations.
for (const f of FP32.files) copyFileSync(f.path, join(root, 'fp32', `stored-${f.location}`));
const registry = [
  {
    ...transformerEntry(FP32, { id: 'tf-fp32', file: 'fp32/transformer.onnx' }),
    externalData: FP32.files.map((f) => ({ location: f.location, file: `fp32/stored-${f.location}`, sha256: f.sha256, bytes: f.bytes })),
  },
  // Its second file's sha256 is wrong.
  {
    ...transformerEntry(NAMED, { id: 'tf-wrong-hash', file: 'named/transformer.onnx' }),
    externalData: NAMED.files.map((f, i) => ({
      location: f.location,
      file: `named/${f.location.replace('onnx::', 'onnx--').replace(' ', '-')}`,
      sha256: i === 1 ? 'f'.repeat(64) : f.sha256,
      bytes: f.bytes,
    })),
  },
];
// Two versions of one model that share their data files (v2's ONNX file differs only by a doc_string appended).
writeFileSync(join(root, 'fp32/transformer-v2.onnx'), Buffer.concat([readFileSync(FP32.model), Buffer.from([0x32, 0x02, 0x76, 0x32])]));
const v2Bytes = readFileSync(join(root, 'fp32/transformer-v2.onnx'));
const sharedEntry = (version: string, file: string, bytes: Buffer) => ({
  ...transformerEntry(FP32, { id: 'tf-shared', version, file }),
  sha256: createHash('sha256').update(bytes).digest('hex'),
  bytes: bytes.length,
  totalBytes: FP32.totalBytes - FP32.modelBytes + bytes.length,
  externalData: FP32.files.map((f) => ({ location: f.location, file: `fp32/${f.location}`, sha256: f.sha256, bytes: f.bytes })),
});
// A registry entry over the WASM heap (its files need not exist: it must be refused before anything is asked for).
registry.push({
  ...transformerEntry(NAMED, { id: 'tf-huge', file: 'bad/huge.onnx' }),
  bytes: 20_000,
  externalData: [{ location: 'huge-1.bin', file: 'bad/huge-1.bin', sha256: 'a'.repeat(64), bytes: 4.8e9 }],
  totalBytes: 4.8e9 + 20_000,
});
registry.push(sharedEntry('1', 'fp32/transformer.onnx', readFileSync(FP32.model)), sharedEntry('2', 'fp32/transformer-v2.onnx', v2Bytes));
copyFileSync(NAMED.files[0].path, join(root, 'named/onnx--MatMul_12'));
copyFileSync(NAMED.files[1].path, join(root, 'named/weights/b-b.bin'));
writeFileSync(join(root, 'registry.json'), JSON.stringify(registry));

let server: RecordingAppServer;
let browser: Browser;
let context: BrowserContext;
/** Paths whose next request is answered with this many bytes of the file, then held open until the test cuts it. */
const cutAfter = new Map<string, number>();
let held: ServerResponse | undefined;

beforeAll(async () => {
  server = await startRecordingAppServer({
    handlers: [
      async (req, res, url) => {
        const gz = url.pathname.startsWith('/gz/');
        if (!url.pathname.startsWith('/big/') && !gz) return false;
        const file = await resolveUnderRoot(root, url.pathname.slice(gz ? '/gz/'.length : '/big/'.length));
        if (!file) return false;
        const cut = cutAfter.get(url.pathname);
        if (cut !== undefined) {
          cutAfter.delete(url.pathname);
          const body = readFileSync(file);
          res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length) });
          res.write(body.subarray(0, cut));
          held = res;
          return true;
        }
        if (gz) {
          // Compressed on the fly, as `vite preview` does: Content-Length counts the gzip'd bytes.
          const body = gzipSync(readFileSync(file), { level: 1 });
          res.writeHead(200, {
            'Content-Type': 'application/octet-stream',
            'Content-Encoding': 'gzip',
            'Content-Length': String(body.length),
          });
          res.end(body);
          return true;
        }
        return serveFile(req, res, file, { 'Cross-Origin-Resource-Policy': 'cross-origin' });
      },
    ],
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await closeReferenceSessions();
  rmSync(root, { recursive: true, force: true });
});

afterEach(async () => {
  await context?.close();
});

async function openPage(): Promise<Page> {
  context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/test-page.html`);
  await page.evaluate(() => (window as any).OnDevice.configure({ registryUrl: new URL('/big/registry.json', location.href).href }));
  return page;
}

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
  info?: { bytes: number; fromCache: boolean; dataFiles?: { location: string; bytes: number }[]; storeWarning?: { code: string } };
  logits?: { type: string; data: number[]; dims: number[] };
  progress: { loaded: number; total: number; lengthComputable: boolean; file?: string; fromCache?: boolean }[];
}

/** The input every test runs: [1, 4, hidden] of a sine, as float16 bits for an fp16-input model. */
function inputFor(set: TransformerSet): Feeds {
  const values = Array.from({ length: 4 * set.hidden }, (_, i) => Math.sin(i / 3));
  if (set.inputs[0].type === 'float16')
    return { input: { type: 'float16', data: Uint16Array.from(values, toFloat16Bits), dims: [1, 4, set.hidden] } };
  return { input: { type: 'float32', data: Float32Array.from(values), dims: [1, 4, set.hidden] } };
}

/** loadModel in the page, then one run on `feeds` (the model's `input`) when given. */
function load(page: Page, source: string, options: Record<string, unknown> = {}, feeds?: Feeds): Promise<Outcome> {
  const input = feeds && { type: feeds.input.type, data: Array.from(feeds.input.data as ArrayLike<number>), dims: feeds.input.dims };
  return page.evaluate(
    async ({ source, options, input }) => {
      const O = (window as any).OnDevice;
      const progress: Outcome['progress'] = [];
      try {
        const model = await O.loadModel(source, {
          backend: 'wasm',
          warmup: false,
          ...options,
          onProgress: (p: any) => progress.push({ ...p }),
        });
        let logits;
        if (input) {
          const data = input.type === 'float16' ? Uint16Array.from(input.data) : Float32Array.from(input.data);
          const out = await model.run({ input: { type: input.type, data, dims: input.dims } });
          logits = { type: out.logits.type, data: Array.from(out.logits.data as ArrayLike<number>), dims: out.logits.dims };
        }
        const { bytes, fromCache, dataFiles, storeWarning } = model.info;
        model.dispose();
        return { ok: true, info: { bytes, fromCache, dataFiles, storeWarning }, logits, progress };
      } catch (e: any) {
        return { ok: false, code: e.code, message: e.message, details: e.details, progress };
      }
    },
    { source, options, input },
  );
}

const stored = (page: Page) =>
  page.evaluate(() => (window as any).OnDevice.modelStore.list()) as Promise<
    { id: string; version?: string; bytes: number; storedBytes: number; complete: boolean; dataFiles: number }[]
  >;

/** Records and chunks in the store, straight from IndexedDB. */
const rawCounts = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<{ manifests: number; files: number; chunks: number }>((resolve, reject) => {
        const open = indexedDB.open('ondevice-models');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(['manifests', 'files', 'chunks']);
          const [m, f, c] = ['manifests', 'files', 'chunks'].map((s) => tx.objectStore(s).count());
          tx.oncomplete = () => {
            resolve({ manifests: m.result, files: f.result, chunks: c.result });
            db.close();
          };
        };
      }),
  );

/** How many chunks the store holds for the file record `key`. */
const storedChunksOf = (page: Page, key: string) =>
  page.evaluate(
    (key) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('ondevice-models');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const count = db
            .transaction('chunks')
            .objectStore('chunks')
            .count(IDBKeyRange.bound([key, 0], [key, Number.MAX_SAFE_INTEGER]));
          count.onsuccess = () => {
            resolve(count.result);
            db.close();
          };
        };
      }),
    key,
  );

async function expectSameAsNode(set: TransformerSet, outcome: Outcome, tolerance: { atol: number; rtol: number }) {
  expect(outcome.ok, outcome.message).toBe(true);
  const expected = await runReference(set.model, inputFor(set));
  const type = outcome.logits!.type as 'float32';
  const actual: Feeds = {
    logits: {
      type,
      data: (type === 'float32' ? Float32Array : Uint16Array).from(outcome.logits!.data) as Float32Array,
      dims: outcome.logits!.dims,
    },
  };
  expect(compareOutputs(actual, expected, tolerance)).toEqual([]);
}

describe('multi-file models', () => {
  test('by URL: every shard fetched beside the model, verified and stored; progress over the set; outputs equal onnxruntime-node; a reload reads the store', async () => {
    const page = await openPage();
    const first = await load(page, '/big/fp32/transformer.onnx', {}, inputFor(FP32));
    await expectSameAsNode(FP32, first, { atol: 1e-4, rtol: 1e-3 });
    expect(first.info).toMatchObject({
      bytes: FP32.totalBytes,
      fromCache: false,
      dataFiles: FP32.files.map((f) => ({ location: f.location, bytes: f.bytes })),
    });
    // Progress: over the whole set, never past its total, every shard named, complete at the end.
    const last = first.progress.at(-1)!;
    expect(last).toMatchObject({ loaded: FP32.totalBytes, total: FP32.totalBytes, lengthComputable: true });
    expect(new Set(first.progress.map((p) => p.file))).toEqual(new Set([undefined, ...FP32.files.map((f) => f.location)]));
    for (const [i, p] of first.progress.entries()) {
      expect(p.loaded).toBeLessThanOrEqual(p.total);
      if (i > 0) expect(p.loaded).toBeGreaterThanOrEqual(first.progress[i - 1].loaded);
    }
    expect(await stored(page)).toMatchObject([
      { id: 'transformer', bytes: FP32.totalBytes, storedBytes: FP32.totalBytes, complete: true, dataFiles: 3 },
    ]);

    const before = server.requests.length;
    await page.reload();
    const second = await load(page, '/big/fp32/transformer.onnx', {}, inputFor(FP32));
    await expectSameAsNode(FP32, second, { atol: 1e-4, rtol: 1e-3 });
    expect(second.info).toMatchObject({ bytes: FP32.totalBytes, fromCache: true });
    expect(second.progress.at(-1)).toMatchObject({
      loaded: FP32.totalBytes,
      total: FP32.totalBytes,
      lengthComputable: true,
      fromCache: true,
    });
    // A bare URL is revalidated (a conditional GET per file answered 304), never downloaded again.
    const bodies = server.requests.slice(before).filter((r) => r.path.startsWith('/big/') && r.status === 200);
    expect(bodies).toEqual([]);
  });

  test('by registry id: files named apart from their locations, verified against the registry, the total of the set known from the first report', async () => {
    const page = await openPage();
    const outcome = await load(page, 'tf-fp32', {}, inputFor(FP32));
    await expectSameAsNode(FP32, outcome, { atol: 1e-4, rtol: 1e-3 });
    expect(outcome.info?.bytes).toBe(FP32.totalBytes);
    // The registry lists every size: the total is known from the first report.
    expect(outcome.progress.every((p) => p.lengthComputable && p.total === FP32.totalBytes)).toBe(true);
    for (const f of FP32.files) expect(server.requestsFor(`/big/fp32/stored-${f.location}`)).not.toHaveLength(0);
  });

  test('locations like "onnx::MatMul_12" and "weights/b b.bin" are fetched percent-encoded beside the model', async () => {
    const page = await openPage();
    const outcome = await load(page, '/big/named/transformer.onnx', {}, inputFor(NAMED));
    await expectSameAsNode(NAMED, outcome, { atol: 1e-4, rtol: 1e-3 });
    expect(server.requestsFor('/big/named/onnx%3A%3AMatMul_12')).toHaveLength(1);
    expect(server.requestsFor('/big/named/weights/b%20b.bin')).toHaveLength(1);
  });

  test('a new version that shares its data files with a stored one downloads only its ONNX file; dropping the old version keeps the shared files', async () => {
    const page = await openPage();
    const v1 = await load(page, 'tf-shared@1', {}, inputFor(FP32));
    await expectSameAsNode(FP32, v1, { atol: 1e-4, rtol: 1e-3 });
    const before = server.requests.length;
    // The stored version stands in while the new one downloads in the background (as for single-file models).
    const v2 = await load(page, 'tf-shared@2', {}, inputFor(FP32));
    await expectSameAsNode(FP32, v2, { atol: 1e-4, rtol: 1e-3 });
    let models: Awaited<ReturnType<typeof stored>> = [];
    await waitFor(
      () => `version 2 stored and version 1 dropped; the store holds ${JSON.stringify(models)}`,
      async () => {
        models = await stored(page);
        return (models.some((m) => m.version === '2' && m.complete) && models.length === 1) || undefined;
      },
      { timeoutMs: 30_000 },
    );
    // Of the model's files only v2's ONNX file is asked for (the runtime's own files may be, by a second worker).
    expect(
      server.requests
        .slice(before)
        .filter((r) => r.path.startsWith('/big/'))
        .map((r) => r.path),
    ).toEqual(['/big/fp32/transformer-v2.onnx']);
    // Version 1 went once version 2 was verified; the data files stayed, version 2 uses them.
    expect(await rawCounts(page)).toMatchObject({ manifests: 1, files: 3 });
    const again = await load(page, 'tf-shared@2', {}, inputFor(FP32));
    expect(again.info?.fromCache).toBe(true);
    await page.evaluate(() => (window as any).OnDevice.modelStore.delete('tf-shared'));
    expect(await rawCounts(page)).toEqual({ manifests: 0, files: 0, chunks: 0 });
  });

  test('dataFiles moves a file and pins its sha256; a wrong sha256 (by URL or in the registry) is INTEGRITY_MISMATCH naming the file, nothing of the set stored', async () => {
    const page = await openPage();
    const [a, b] = NAMED.files;
    const moved = { [a.location]: { url: '/big/named/onnx--MatMul_12', sha256: a.sha256 }, [b.location]: { sha256: b.sha256 } };
    const outcome = await load(page, '/big/named/transformer.onnx', { dataFiles: moved }, inputFor(NAMED));
    await expectSameAsNode(NAMED, outcome, { atol: 1e-4, rtol: 1e-3 });
    expect(server.requestsFor('/big/named/onnx--MatMul_12')).toHaveLength(1);

    await page.evaluate(() => (window as any).OnDevice.modelStore.clear());
    const wrong = await load(page, '/big/named/transformer.onnx', { dataFiles: { [b.location]: { sha256: '0'.repeat(64) } } });
    expect(wrong).toMatchObject({ ok: false, code: 'INTEGRITY_MISMATCH', details: { location: b.location } });
    expect(await rawCounts(page)).toEqual({ manifests: 0, files: 0, chunks: 0 });
    // By id: the registry's wrong sha256 for one shard fails the same way, the set removed.
    const byId = await load(page, 'tf-wrong-hash');
    expect(byId).toMatchObject({ ok: false, code: 'INTEGRITY_MISMATCH', details: { location: b.location } });
    expect(await rawCounts(page)).toEqual({ manifests: 0, files: 0, chunks: 0 });
    // A dataFiles entry the model does not name is a typo, said before anything is fetched.
    const typo = await load(page, '/big/named/transformer.onnx', { dataFiles: { 'weights.bin': { sha256: a.sha256 } } });
    expect(typo).toMatchObject({ ok: false, code: 'INVALID_INPUT', message: expect.stringContaining('dataFiles names "weights.bin"') });
  });

  test('a missing data file is MODEL_FETCH_FAILED naming it; the files already stored stay for the next load', async () => {
    const page = await openPage();
    const outcome = await load(page, '/big/named/transformer.onnx', {
      dataFiles: { 'weights/b b.bin': { url: '/big/named/missing.bin' } },
    });
    expect(outcome).toMatchObject({ ok: false, code: 'MODEL_FETCH_FAILED', details: { location: 'weights/b b.bin', status: 404 } });
    expect(outcome.message).toContain('data file "weights/b b.bin"');
    expect(await stored(page)).toMatchObject([{ complete: false, dataFiles: 2 }]);
  });

  test('a connection cut mid-shard: MODEL_FETCH_FAILED, then the next load resumes each file after its stored chunks (the cut one after its first 4 MiB) and never refetches the ONNX file', async () => {
    const page = await openPage();
    const [, second] = FP32.files;
    const path = `/big/fp32/${second.location}`;
    cutAfter.set(path, CHUNK_BYTES + 500_000);
    const loading = load(page, '/big/fp32/transformer.onnx');
    // Cut once the browser has stored the first 4 MiB of that file (cutting earlier could lose bytes in flight).
    await waitFor(
      'the first 4 MiB of the file to be stored',
      async () => (held && (await storedChunksOf(page, `data:url:${server.url}${path}`)) >= 1) || undefined,
      { timeoutMs: 30_000 },
    );
    held!.destroy();
    held = undefined;
    const cut = await loading;
    expect(cut).toMatchObject({ ok: false, code: 'MODEL_FETCH_FAILED', details: { location: second.location, reason: 'NETWORK' } });
    const before = server.requests.length;
    await page.reload();
    const resumed = await load(page, '/big/fp32/transformer.onnx', {}, inputFor(FP32));
    await expectSameAsNode(FP32, resumed, { atol: 1e-4, rtol: 1e-3 });
    // The files download together: the cut stops the others too, and each resumes after its own stored chunks.
    const after = server.requests.slice(before).filter((r) => r.path.startsWith('/big/fp32/') && r.status !== 304);
    expect(after.find((r) => r.path === path)?.range).toBe(`bytes=${CHUNK_BYTES}-`);
    expect(after.map((r) => r.path)).not.toContain('/big/fp32/transformer.onnx');
    for (const r of after) expect(r.range ?? `bytes=0-`).toMatch(new RegExp(`^bytes=(\\d+)-$`));
    for (const r of after) expect(Number(/\d+/.exec(r.range ?? '0')![0]) % CHUNK_BYTES).toBe(0);
    const dataBytes = FP32.files.reduce((sum, f) => sum + f.bytes, 0);
    expect(after.reduce((sum, r) => sum + r.bytes, 0)).toBeLessThanOrEqual(dataBytes - CHUNK_BYTES);
  });

  test.each([
    ['absolute', 'is absolute'],
    ['dotdot', 'contains a ".." segment'],
    ['backslash', 'contains "\\"'],
    ['overlap', 'overlap in external data file "w.bin"'],
  ])('a model naming a bad location (%s) is INVALID_INPUT before any data file is asked for', async (name, reason) => {
    const page = await openPage();
    const before = server.requests.length;
    const outcome = await load(page, `/big/bad/${name}.onnx`);
    expect(outcome).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    expect(outcome.message).toContain(reason);
    expect(server.requests.slice(before).filter((r) => r.path.startsWith('/big/') && !r.path.endsWith('.onnx'))).toEqual([]);
  });

  test('a tensor reaching past the end of its file is MODEL_LOAD_FAILED naming the file, before a session is created', async () => {
    const page = await openPage();
    const outcome = await load(page, '/big/short/transformer.onnx');
    expect(outcome).toMatchObject({ ok: false, code: 'MODEL_LOAD_FAILED', details: { location: 'weights/b b.bin' } });
    expect(outcome.message).toMatch(/reaches byte \d+ of external data file "weights\/b b.bin", which holds \d+ bytes/);
  });

  test('a set over what the wasm32 heap holds is OUT_OF_MEMORY naming both sizes, before its data files are asked for; fallback: server takes it there', async () => {
    const page = await openPage();
    let before = server.requests.length;
    const outcome = await load(page, '/big/bad/huge.onnx');
    expect(outcome).toMatchObject({ ok: false, code: 'OUT_OF_MEMORY' });
    expect(outcome.message).toMatch(/is 4800 MB and needs about 4800 MB of WebAssembly heap .* holds at most 4120 MB/);
    expect(server.requests.slice(before).filter((r) => r.path.includes('huge-'))).toEqual([]);
    // By id the registry's totalBytes says so before even the ONNX file is asked for.
    before = server.requests.length;
    expect(await load(page, 'tf-huge')).toMatchObject({ ok: false, code: 'OUT_OF_MEMORY' });
    expect(server.requests.slice(before).filter((r) => r.path.startsWith('/big/bad/'))).toEqual([]);
    // fallback: 'server' goes to the inference server (none here: its failure carries the device's reason).
    const fallback = await load(page, 'tf-huge', { fallback: 'server' });
    expect(fallback.ok).toBe(false);
    expect(fallback.message).toMatch(/cannot run on this device \(OUT_OF_MEMORY: .*4800 MB/);
    expect(fallback.details?.deviceError).toMatchObject({ code: 'OUT_OF_MEMORY' });
  });

  test('quota that runs out part-way through the set: the model loads from the network with QUOTA_EXCEEDED, and the partial set is removed', async () => {
    const page = await openPage();
    // Room for the ONNX file and a little more, not for the shards.
    const outcome = await load(page, '/big/fp32/transformer.onnx', { cacheBudgetBytes: FP32.modelBytes + 1_000_000 }, inputFor(FP32));
    await expectSameAsNode(FP32, outcome, { atol: 1e-4, rtol: 1e-3 });
    expect(outcome.info?.storeWarning?.code).toBe('QUOTA_EXCEEDED');
    expect(await rawCounts(page)).toEqual({ manifests: 0, files: 0, chunks: 0 });
  });

  test('a gzip-compressed response without a usable length: lengthComputable false, total the sizes known so far, never below loaded', async () => {
    const page = await openPage();
    const outcome = await load(page, '/gz/fp32/transformer.onnx', { cache: false }, inputFor(FP32));
    await expectSameAsNode(FP32, outcome, { atol: 1e-4, rtol: 1e-3 });
    const unknown = outcome.progress.filter((p) => !p.lengthComputable);
    expect(unknown.length).toBeGreaterThan(0);
    for (const p of outcome.progress) expect(p.total).toBeGreaterThanOrEqual(p.loaded);
    expect(outcome.progress.at(-1)).toMatchObject({ loaded: FP32.totalBytes, total: FP32.totalBytes, lengthComputable: true });
  });

  test('fp16 weights with fp32 and with fp16 input/output, and int8 dynamically quantized (MatMulInteger), match onnxruntime-node', async () => {
    const page = await openPage();
    await expectSameAsNode(FP16, await load(page, '/big/fp16/transformer.onnx', {}, inputFor(FP16)), { atol: 2e-2, rtol: 2e-2 });
    const int8 = await load(page, '/big/int8/transformer.onnx', {}, inputFor(INT8));
    await expectSameAsNode(INT8, int8, { atol: 2e-2, rtol: 2e-2 });
    const fp16io = await load(page, '/big/fp16io/transformer.onnx', {}, inputFor(FP16_IO));
    expect(fp16io.logits?.type).toBe('float16');
    await expectSameAsNode(FP16_IO, fp16io, { atol: 2e-2, rtol: 2e-2 });
  });
});
