// The `npm start` server as a real process: headers, Range (resumable downloads), revalidation, what it
// refuses to publish (dotfiles, links out of its folders), and a download the client abandons.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startAppServer } from '../helpers/appServer';
import type { SpawnedServer } from '../helpers/spawnServer';
import { waitFor } from '../helpers/waitFor';

let server: SpawnedServer;
const model = readFileSync('public/models/tiny-mlp.onnx');
/** Served at /fixtures/: a public file, secrets that must not be, and links in and out of the folder. */
const fixtures = mkdtempSync(path.join(tmpdir(), 'ondevice-static-'));
const BIG_BYTES = 32 * 1024 * 1024;

beforeAll(async () => {
  writeFileSync(path.join(fixtures, 'public.txt'), 'public\n');
  writeFileSync(path.join(fixtures, '.env'), 'SECRET=1\n');
  mkdirSync(path.join(fixtures, '.git'));
  writeFileSync(path.join(fixtures, '.git', 'config'), '[core]\n');
  mkdirSync(path.join(fixtures, 'dir'));
  writeFileSync(path.join(fixtures, 'dir', '.htpasswd'), 'user:hash\n');
  symlinkSync('/etc/hostname', path.join(fixtures, 'hostname.txt'));
  symlinkSync('/etc', path.join(fixtures, 'etc'));
  symlinkSync(path.join(fixtures, 'public.txt'), path.join(fixtures, 'alias.txt'));
  writeFileSync(path.join(fixtures, 'big.bin'), Buffer.alloc(BIG_BYTES, 7));
  server = await startAppServer({ ONDEVICE_FIXTURES_DIR: fixtures });
});
afterAll(async () => {
  await server?.stop();
  rmSync(fixtures, { recursive: true, force: true });
});

/** The server process's open file descriptors that point at `file`. */
function openDescriptorsOf(file: string): number {
  const dir = `/proc/${server.process.pid}/fd`;
  return readdirSync(dir).filter((fd) => {
    try {
      return readlinkSync(path.join(dir, fd)) === file;
    } catch {
      return false; // closed while we looked
    }
  }).length;
}

describe('app server', () => {
  test('serves the library, worker and onnxruntime files with isolation and CORS/CORP headers', async () => {
    for (const file of ['/ondevice.js', '/ondevice.mjs', '/ondevice-worker.mjs', '/ort/ort-wasm-simd-threaded.wasm', '/']) {
      const r = await fetch(server.url + file);
      expect(r.status, file).toBe(200);
      expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(r.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      expect(r.headers.get('access-control-allow-origin')).toBe('*');
      await r.arrayBuffer();
    }
    expect((await fetch(server.url + '/ort/ort-wasm-simd-threaded.wasm')).headers.get('content-type')).toBe('application/wasm');
  });

  test('serves models and the registry', async () => {
    const r = await fetch(server.url + '/models/tiny-mlp.onnx');
    expect(Buffer.from(await r.arrayBuffer()).equals(model)).toBe(true);
    const registry = (await (await fetch(server.url + '/models/registry.json')).json()) as { id: string }[];
    expect(registry.map((e) => e.id)).toContain('tiny-mlp');
  });

  test('Range requests return exactly the requested bytes', async () => {
    const r = await fetch(server.url + '/models/tiny-mlp.onnx', { headers: { Range: 'bytes=100-' } });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe(`bytes 100-${model.length - 1}/${model.length}`);
    expect(Buffer.from(await r.arrayBuffer()).equals(model.subarray(100))).toBe(true);
    const mid = await fetch(server.url + '/models/tiny-mlp.onnx', { headers: { Range: 'bytes=10-19' } });
    expect(Buffer.from(await mid.arrayBuffer()).equals(model.subarray(10, 20))).toBe(true);
    const suffix = await fetch(server.url + '/models/tiny-mlp.onnx', { headers: { Range: 'bytes=-10' } });
    expect(suffix.status).toBe(206);
    expect(Buffer.from(await suffix.arrayBuffer()).equals(model.subarray(model.length - 10))).toBe(true);
  });

  test('only an unsatisfiable single range is 416', async () => {
    for (const range of [`bytes=${model.length + 5}-`, `bytes=${model.length}-${model.length + 10}`, 'bytes=-0']) {
      const r = await fetch(server.url + '/models/tiny-mlp.onnx', { headers: { Range: range } });
      expect(r.status, range).toBe(416);
      expect(r.headers.get('content-range'), range).toBe(`bytes */${model.length}`);
      await r.arrayBuffer();
    }
  });

  test('a Range header a server may ignore (several ranges, another unit, malformed) gets the whole file (RFC 9110 §14.2)', async () => {
    for (const range of ['bytes=0-1,5-6', 'bytes=0-1, 10-', 'items=0-1', 'bytes=abc', 'bytes=10-5', 'bytes 0-1', 'bytes=-']) {
      const r = await fetch(server.url + '/models/tiny-mlp.onnx', { headers: { Range: range } });
      expect(r.status, range).toBe(200);
      expect(r.headers.get('content-range'), range).toBeNull();
      expect(Buffer.from(await r.arrayBuffer()).equals(model), range).toBe(true);
    }
  });

  test('ETag revalidation answers 304', async () => {
    const first = await fetch(server.url + '/models/tiny-mlp.onnx');
    await first.arrayBuffer();
    const etag = first.headers.get('etag')!;
    expect(etag).toBeTruthy();
    const again = await fetch(server.url + '/models/tiny-mlp.onnx', { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
  });

  test('never serves dotfiles or follows a link out of its folders, in any folder it serves', async () => {
    const ok = await fetch(server.url + '/fixtures/public.txt');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('public\n');
    const alias = await fetch(server.url + '/fixtures/alias.txt'); // a link that stays inside is fine
    expect(alias.status).toBe(200);
    expect(await alias.text()).toBe('public\n');
    const refused = [
      '/fixtures/.env',
      '/fixtures/%2eenv',
      '/fixtures/.git/config',
      '/fixtures/dir/.htpasswd',
      '/fixtures/dir/%2Ehtpasswd',
      '/fixtures/hostname.txt',
      '/fixtures/etc/hostname',
      '/fixtures/etc/passwd',
      '/.env',
      '/models/.registry.json',
    ];
    for (const p of refused) {
      const r = await fetch(server.url + p);
      const body = await r.text();
      expect(r.status, p).toBe(404);
      expect(body, p).not.toContain('SECRET');
      expect(body, p).not.toContain(readFileSync('/etc/hostname', 'utf8').trim() || 'unused');
    }
  });

  test('a download the client abandons releases its file (and the server keeps serving)', async () => {
    const file = path.join(fixtures, 'big.bin');
    await new Promise<void>((resolve, reject) => {
      const req = request(server.url + '/fixtures/big.bin', (res) => {
        res.once('data', () => {
          req.destroy(); // gone after the first chunk, 32 MiB unread
          resolve();
        });
      });
      req.on('error', (error) => (error.message === 'socket hang up' ? undefined : reject(error)));
      req.end();
    });
    await waitFor('the server closed big.bin', () => openDescriptorsOf(file) === 0, { timeoutMs: 10_000, intervalMs: 50 });
    const again = await fetch(server.url + '/fixtures/public.txt');
    expect(again.status).toBe(200);
    await again.arrayBuffer();
  });

  test('never serves files outside its folders', async () => {
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/models/..%2f..%2fpackage.json']) {
      const r = await fetch(server.url + p);
      expect(r.status, p).toBe(404);
      await r.arrayBuffer();
    }
  });

  test('its failures are JSON errors with a stable code, as the collector answers', async () => {
    const missing = await fetch(server.url + '/models/no-such-model.onnx');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await missing.json()).toEqual({ error: 'not found: /models/no-such-model.onnx', code: 'NOT_FOUND', path: '$' });
    const wrongMethod = await fetch(server.url + '/index.html', { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect(await wrongMethod.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
  });
});
