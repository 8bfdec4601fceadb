// The `npm start` server as a real process: headers, Range (resumable downloads), revalidation.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startAppServer } from '../helpers/appServer';
import type { SpawnedServer } from '../helpers/spawnServer';

let server: SpawnedServer;
const model = readFileSync('public/models/tiny-mlp.onnx');

beforeAll(async () => {
  server = await startAppServer();
});
afterAll(async () => {
  await server?.stop();
});

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
    const bad = await fetch(server.url + '/models/tiny-mlp.onnx', { headers: { Range: `bytes=${model.length + 5}-` } });
    expect(bad.status).toBe(416);
  });

  test('ETag revalidation answers 304', async () => {
    const first = await fetch(server.url + '/models/tiny-mlp.onnx');
    await first.arrayBuffer();
    const etag = first.headers.get('etag')!;
    expect(etag).toBeTruthy();
    const again = await fetch(server.url + '/models/tiny-mlp.onnx', { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
  });

  test('never serves files outside its folders', async () => {
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/models/..%2f..%2fpackage.json']) {
      const r = await fetch(server.url + p);
      expect(r.status, p).toBe(404);
      await r.arrayBuffer();
    }
  });
});
