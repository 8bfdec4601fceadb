// Pure store logic against fake-indexeddb and a real local HTTP server: chunking, resume, LRU choice,
// integrity and content checks. The browser tests (test/browser/cache*.test.ts) cover real IndexedDB.
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { chooseEvictions } from '../../src/cache/chooseEvictions';
import { CHUNK_BYTES } from '../../src/cache/chunkBytes';
import { clearModelStore } from '../../src/cache/clearModelStore';
import { loadThroughStore } from '../../src/cache/loadThroughStore';
import type { ModelManifest } from '../../src/cache/ModelManifest';
import { modelStore } from '../../src/cache/modelStore';
import { openModelDb } from '../../src/cache/openModelDb';
import { storeKeyOf } from '../../src/cache/storeKeyOf';
import { fetchModel } from '../../src/core/fetchModel';
import { OnDeviceError } from '../../src/core/OnDeviceError';
import type { ModelSource } from '../../src/core/protocol';
import { waitFor } from '../helpers/waitFor';

function fakeModel(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  out[0] = 0x08; // ModelProto.ir_version: passes the content check
  return out;
}

const BIG = fakeModel(2 * CHUNK_BYTES + 12345, 1);
const SMALL = fakeModel(100_000, 2);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Served {
  path: string;
  range?: string;
  status: number;
  bytes: number;
  /** The client closed the connection before the body ended. */
  closedEarly?: boolean;
}
let server: Server;
let base: string;
let log: Served[] = [];
/** Per-test behaviour: cut the connection after N bytes, ignore ranges, answer HTML. */
let behaviour: { cutAfterBytes?: number; stallAfterBytes?: number; ignoreRange?: boolean; html?: boolean; etag?: string } = {};

function serve(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url!, 'http://x').pathname;
  const file = path === '/big.onnx' ? BIG : path === '/small.onnx' ? SMALL : undefined;
  const entry: Served = { path, range: req.headers.range, status: 200, bytes: 0 };
  log.push(entry);
  if (!file) return void res.writeHead(404).end();
  if (behaviour.html) {
    const body = '<!doctype html><title>app</title>';
    res.writeHead(200, { 'Content-Type': 'text/html' });
    entry.bytes = body.length;
    return void res.end(body);
  }
  const etag = behaviour.etag ?? '"v1"';
  if (req.headers['if-none-match'] === etag) {
    entry.status = 304;
    return void res.writeHead(304, { ETag: etag }).end();
  }
  let start = 0;
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  if (m && !behaviour.ignoreRange && (!ifRange || ifRange === etag)) start = Number(m[1]);
  const body = file.subarray(start);
  entry.status = start ? 206 : 200;
  res.writeHead(entry.status, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(body.length),
    ETag: etag,
    ...(start ? { 'Content-Range': `bytes ${start}-${file.length - 1}/${file.length}` } : {}),
  });
  if (behaviour.stallAfterBytes !== undefined) {
    // Send the first bytes, then nothing: the connection stays open until the client gives up.
    const stall = behaviour.stallAfterBytes;
    behaviour.stallAfterBytes = undefined; // only the first request stalls
    entry.bytes = stall;
    res.on('close', () => (entry.closedEarly = !res.writableFinished));
    res.write(body.subarray(0, stall));
    return;
  }
  if (behaviour.cutAfterBytes !== undefined) {
    const cut = behaviour.cutAfterBytes;
    behaviour.cutAfterBytes = undefined; // only the first request is cut
    entry.bytes = cut;
    res.write(body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 50));
    return;
  }
  entry.bytes = body.length;
  res.end(body);
}

beforeAll(async () => {
  server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // A stalled response a test failed to close would otherwise hold close() open.
      server.closeAllConnections();
    }),
);
beforeEach(async () => {
  log = [];
  behaviour = {};
  await clearModelStore();
});

const bigSource = (): ModelSource => ({ url: `${base}/big.onnx`, id: 'big', version: '1', sha256: sha(BIG), bytes: BIG.length });
const servedBytes = () => log.reduce((sum, e) => sum + e.bytes, 0);

describe('chooseEvictions', () => {
  const m = (key: string, lastUsed: number, storedBytes: number) => ({ key, lastUsed, storedBytes }) as ModelManifest;
  const all = [m('a', 3, 10), m('b', 1, 10), m('c', 2, 10)];

  test('evicts least recently used first, only as many as needed', () => {
    expect(chooseEvictions(all, 15)!.map((x) => x.key)).toEqual(['b', 'c']);
    expect(chooseEvictions(all, 10)!.map((x) => x.key)).toEqual(['b']);
    expect(chooseEvictions(all, 0)).toEqual([]);
  });

  test('never evicts the kept model; undefined when it cannot free enough', () => {
    expect(chooseEvictions(all, 15, new Set(['b']))!.map((x) => x.key)).toEqual(['c', 'a']);
    expect(chooseEvictions(all, 25, new Set(['b']))).toBeUndefined();
  });
});

describe('storeKeyOf', () => {
  test('registry models are keyed by id, version and sha256; bare URLs by URL', () => {
    expect(storeKeyOf({ id: 'm', version: '2', sha256: 'ab', url: 'http://x/m.onnx' })).toBe('m@2#ab');
    expect(storeKeyOf({ id: 'm', url: 'http://x/m.onnx' })).toBe('url:http://x/m.onnx');
  });
});

describe('fetchModel: stall timeout and abort', () => {
  test('a body that stalls fails with TIMEOUT and the connection is closed', async () => {
    behaviour.stallAfterBytes = 50_000;
    const error = (await fetchModel({ url: `${base}/small.onnx`, id: 'small' }, { stallTimeoutMs: 300 }).catch(
      (e: unknown) => e,
    )) as OnDeviceError;
    expect(error).toBeInstanceOf(OnDeviceError);
    expect(error.code).toBe('TIMEOUT');
    await waitFor('the server to see the connection closed', () => log[0]?.closedEarly === true, { timeoutMs: 10_000, intervalMs: 10 });
  });

  test('an abort while the body arrives fails with ABORTED and stops the download', async () => {
    // Past the first 64 KiB progress report, where the test aborts.
    behaviour.stallAfterBytes = 80_000;
    const controller = new AbortController();
    const fetching = fetchModel(
      { url: `${base}/small.onnx`, id: 'small' },
      { signal: controller.signal, onProgress: () => controller.abort() },
    );
    const error = (await fetching.catch((e: unknown) => e)) as OnDeviceError;
    expect(error).toBeInstanceOf(OnDeviceError);
    expect(error.code).toBe('ABORTED');
    await waitFor('the server to see the connection closed', () => log[0]?.closedEarly === true, { timeoutMs: 10_000, intervalMs: 10 });
  });
});

describe('loadThroughStore', () => {
  test('a download that stalls fails with TIMEOUT, keeps its stored chunks and resumes after them', async () => {
    behaviour.stallAfterBytes = CHUNK_BYTES + 1000;
    const error = (await loadThroughStore(bigSource(), { stallTimeoutMs: 300 }).catch((e: unknown) => e)) as OnDeviceError;
    expect(error.code).toBe('TIMEOUT');
    await waitFor('the server to see the connection closed', () => log[0]?.closedEarly === true, { timeoutMs: 10_000, intervalMs: 10 });
    expect(await modelStore.list()).toMatchObject([{ complete: false, storedBytes: CHUNK_BYTES }]);
    const resumed = await loadThroughStore(bigSource());
    expect(Buffer.from(resumed.bytes).equals(BIG)).toBe(true);
    expect(log.map((e) => e.range)).toEqual([undefined, `bytes=${CHUNK_BYTES}-`]);
  });

  test('an abort stops the download with ABORTED and closes the connection', async () => {
    behaviour.stallAfterBytes = 100_000;
    const controller = new AbortController();
    const loading = loadThroughStore(bigSource(), { signal: controller.signal, onProgress: () => controller.abort() });
    const error = (await loading.catch((e: unknown) => e)) as OnDeviceError;
    expect(error.code).toBe('ABORTED');
    await waitFor('the server to see the connection closed', () => log[0]?.closedEarly === true, { timeoutMs: 10_000, intervalMs: 10 });
  });

  test('stores a download as fixed-size chunks and reads it back verified', async () => {
    const first = await loadThroughStore(bigSource());
    expect(first.fromCache).toBe(false);
    expect(Buffer.from(first.bytes).equals(BIG)).toBe(true);
    const db = await openModelDb();
    const chunks = await db.getAll('chunks');
    expect(chunks.map((c) => c.bytes)).toEqual([CHUNK_BYTES, CHUNK_BYTES, 12345]);
    const second = await loadThroughStore(bigSource());
    expect(second.fromCache).toBe(true);
    expect(Buffer.from(second.bytes).equals(BIG)).toBe(true);
    expect(log).toHaveLength(1);
    expect(await modelStore.list()).toMatchObject([{ id: 'big', version: '1', bytes: BIG.length, complete: true, sha256: sha(BIG) }]);
  });

  test('an interrupted download resumes from the last stored chunk with a Range request', async () => {
    behaviour.cutAfterBytes = CHUNK_BYTES + 1_000_000;
    const error = await loadThroughStore(bigSource()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OnDeviceError);
    expect((error as OnDeviceError).code).toBe('MODEL_FETCH_FAILED');
    expect(await modelStore.list()).toMatchObject([{ complete: false, storedBytes: CHUNK_BYTES }]);
    const resumed = await loadThroughStore(bigSource());
    expect(Buffer.from(resumed.bytes).equals(BIG)).toBe(true);
    expect(log.map((e) => e.range)).toEqual([undefined, `bytes=${CHUNK_BYTES}-`]);
    expect(servedBytes()).toBeLessThanOrEqual(BIG.length + CHUNK_BYTES);
    expect((await loadThroughStore(bigSource())).fromCache).toBe(true);
  });

  test('a server that answers a Range request with 200 restarts the download cleanly', async () => {
    behaviour.cutAfterBytes = CHUNK_BYTES + 1000;
    await loadThroughStore(bigSource()).catch(() => undefined);
    behaviour.ignoreRange = true;
    const result = await loadThroughStore(bigSource());
    expect(Buffer.from(result.bytes).equals(BIG)).toBe(true);
    expect(log[1]).toMatchObject({ range: `bytes=${CHUNK_BYTES}-`, status: 200 });
    const db = await openModelDb();
    expect((await db.getAll('chunks')).map((c) => c.bytes)).toEqual([CHUNK_BYTES, CHUNK_BYTES, 12345]);
  });

  test('an HTML page at a model URL fails with MODEL_FETCH_FAILED and stores nothing', async () => {
    behaviour.html = true;
    const error = (await loadThroughStore({ url: `${base}/small.onnx`, id: 'small' }).catch((e: unknown) => e)) as OnDeviceError;
    expect(error.code).toBe('MODEL_FETCH_FAILED');
    expect(await modelStore.list()).toEqual([]);
  });

  test('a sha256 mismatch purges, downloads once more, then fails with INTEGRITY_MISMATCH', async () => {
    const error = (await loadThroughStore({ ...bigSource(), sha256: 'f'.repeat(64) }).catch((e: unknown) => e)) as OnDeviceError;
    expect(error.code).toBe('INTEGRITY_MISMATCH');
    expect(log).toHaveLength(2);
    expect(await modelStore.list()).toEqual([]);
    expect(await (await openModelDb()).count('chunks')).toBe(0);
  });

  test('a corrupted stored chunk is detected on read and the model downloaded again', async () => {
    await loadThroughStore(bigSource());
    const db = await openModelDb();
    const chunk = (await db.get('chunks', [storeKeyOf(bigSource()), 1]))!;
    const bad = new Uint8Array(await chunk.blob.arrayBuffer());
    bad[100] ^= 0xff;
    await db.put('chunks', { ...chunk, blob: new Blob([bad]) });
    const again = await loadThroughStore(bigSource());
    expect(again.fromCache).toBe(false);
    expect(Buffer.from(again.bytes).equals(BIG)).toBe(true);
    expect(log).toHaveLength(2);
  });

  test('a bare URL is hashed on first download and revalidated with its ETag', async () => {
    const source = { url: `${base}/small.onnx`, id: 'small' };
    const first = await loadThroughStore(source);
    expect(first.sha256).toBe(sha(SMALL));
    const second = await loadThroughStore(source);
    expect(second.fromCache).toBe(true);
    expect(log.map((e) => e.status)).toEqual([200, 304]);
    behaviour.etag = '"v2"';
    const third = await loadThroughStore(source);
    expect(third.fromCache).toBe(false);
  });

  test('a small budget evicts the least recently used model, never the one loading', async () => {
    await loadThroughStore({ url: `${base}/small.onnx`, id: 'small', version: '1', sha256: sha(SMALL), bytes: SMALL.length });
    const result = await loadThroughStore(bigSource(), { budgetBytes: BIG.length + 1000 });
    expect(result.storeWarning).toBeUndefined();
    expect((await modelStore.list()).map((m) => m.id)).toEqual(['big']);
  });

  test('a model that cannot fit loads from the network with a QUOTA_EXCEEDED warning', async () => {
    const result = await loadThroughStore(bigSource(), { budgetBytes: 1000 });
    expect(Buffer.from(result.bytes).equals(BIG)).toBe(true);
    expect(result.storeWarning?.code).toBe('QUOTA_EXCEEDED');
    expect(await modelStore.list()).toEqual([]);
  });

  test('a newer registry version downloads in the background while the stored one is served', async () => {
    const v1 = { url: `${base}/small.onnx`, id: 'm', version: '1', sha256: sha(SMALL), bytes: SMALL.length };
    await loadThroughStore(v1);
    const v2 = { ...bigSource(), id: 'm', version: '2' };
    const served = await loadThroughStore(v2);
    expect(served.fromCache).toBe(true);
    expect(served.servedSource?.version).toBe('1');
    const { backgroundUpdates } = await import('../../src/cache/loadThroughStore');
    await backgroundUpdates();
    expect((await modelStore.list()).map((m) => `${m.id}@${m.version}`)).toEqual(['m@2']);
    expect((await loadThroughStore(v2)).servedSource).toBeUndefined();
  });
});
