// The Open Inference Protocol server as a real process (`ondevice serve`), checked against onnxruntime-node.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRegistry } from '../../src/node/readRegistry';
import type { ModelEntry } from '../../src/registry/ModelEntry';
import { makeInputs } from '../helpers/inputs';
import { closeReferenceSessions, runReference } from '../helpers/reference';
import { spawnServer, type SpawnedServer } from '../helpers/spawnServer';
import { expectedJsonValues, infer, jsonInput } from './v2client';

const modelsDir = path.resolve('public/models');
let registry: ModelEntry[];
let server: SpawnedServer;

beforeAll(async () => {
  registry = await readRegistry(modelsDir);
  server = await spawnServer(process.execPath, ['bin/ondevice.mjs', 'serve', '--workers', '2'], {
    env: { ONDEVICE_MAX_BODY_BYTES: String(8 * 1024 * 1024) },
  });
});
afterAll(async () => {
  await server?.stop();
  await closeReferenceSessions();
});

const entry = (id: string) => registry.find((e) => e.id === id)!;

describe('v2 metadata and health', () => {
  it('answers live, ready, server and model metadata', async () => {
    expect(await (await fetch(`${server.url}/v2/health/live`)).json()).toEqual({ live: true });
    expect(await (await fetch(`${server.url}/v2/health/ready`)).json()).toEqual({ ready: true });
    expect((await (await fetch(`${server.url}/v2`)).json()).extensions).toContain('binary_tensor_data');
    for (const url of ['/v2/models/silero-vad-v5', '/v2/models/silero-vad-v5/versions/1']) {
      const meta = await (await fetch(server.url + url)).json();
      expect(meta).toMatchObject({ name: 'silero-vad-v5', versions: ['1'], platform: 'onnxruntime_onnx' });
      expect(meta.inputs).toEqual([
        { name: 'input', datatype: 'FP32', shape: [-1, -1], parameters: { dim_names: ['batch', 'samples'] } },
        { name: 'state', datatype: 'FP32', shape: [2, -1, 128], parameters: { dim_names: ['', 'batch', ''] } },
        { name: 'sr', datatype: 'INT64', shape: [] },
      ]);
      expect(meta.outputs.map((o: { name: string }) => o.name)).toEqual(['output', 'stateN']);
    }
    const ready = await fetch(`${server.url}/v2/models/tiny-mlp/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ name: 'tiny-mlp', version: '1', ready: true });
  });

  it('every registry model is servable and answers what onnxruntime-node answers', async () => {
    for (const model of registry) {
      const feeds = makeInputs(model);
      const body = { id: `req-${model.id}`, inputs: Object.entries(feeds).map(([name, t]) => jsonInput(name, t)) };
      const answer = await infer(`${server.url}/v2/models/${model.id}/versions/${model.version}/infer`, body);
      expect(answer.status, JSON.stringify(answer.json).slice(0, 300)).toBe(200);
      expect(answer.json).toMatchObject({ model_name: model.id, model_version: model.version, id: `req-${model.id}` });
      const want = await runReference(path.join(modelsDir, model.file), feeds);
      expect(answer.json.outputs.map((o: { name: string }) => o.name)).toEqual(model.outputs.map((o) => o.name));
      for (const [name, t] of Object.entries(want)) {
        expect(answer.outputs[name].dims).toEqual(t.dims);
        expect(answer.outputs[name].data).toEqual(expectedJsonValues(t));
      }
    }
  });

  it('carries INT64 exactly beyond 2^53 and answers only the selected outputs', async () => {
    const feeds = makeInputs(entry('dtypes'));
    feeds.i64 = { type: 'int64', data: new BigInt64Array([9007199254740993n, -5n, 0n, 1n, 2n, 3n, 4n, 5n]), dims: [2, 4] };
    const body = { inputs: Object.entries(feeds).map(([name, t]) => jsonInput(name, t)), outputs: [{ name: 'i64_plus_1' }] };
    const response = await fetch(`${server.url}/v2/models/dtypes/infer`, { method: 'POST', body: JSON.stringify(body) });
    const text = await response.text();
    expect(text).toContain('"data":[9007199254740994,-4,1,2,3,4,5,6]');
    expect(JSON.parse(text).outputs.map((o: { name: string }) => o.name)).toEqual(['i64_plus_1']);
  });

  it('takes and gives binary tensor data (Inference-Header-Content-Length), equal to onnxruntime-node', async () => {
    const model = entry('dtypes');
    const feeds = makeInputs(model);
    const want = await runReference(path.join(modelsDir, model.file), feeds);
    const answer = await infer(
      `${server.url}/v2/models/dtypes/infer`,
      {
        id: 'bin',
        inputs: [],
        parameters: { binary_data_output: true },
        outputs: [{ name: 'f16_identity' }, { name: 'b_not' }, { name: 'scalar_neg', parameters: { binary_data: false } }],
      },
      { binaryInputs: feeds },
    );
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/octet-stream');
    expect(answer.json.outputs[0].parameters.binary_data_size).toBe(16);
    expect([...(answer.outputs.f16_identity.data as Uint16Array)]).toEqual([...(want.f16_identity.data as Uint16Array)]);
    expect([...(answer.outputs.b_not.data as Uint8Array)]).toEqual([...(want.b_not.data as Uint8Array)]);
    expect(answer.outputs.scalar_neg.data).toEqual(expectedJsonValues(want.scalar_neg));
  });
});

describe('v2 errors', () => {
  const tiny = (body: unknown) => infer(`${server.url}/v2/models/tiny-mlp/infer`, body);
  const x16 = Array.from({ length: 16 }, (_, i) => i / 16);

  it.each<[string, unknown, number]>([
    ['not JSON', '{"inputs": [', 400],
    ['no inputs', { inputs: [] }, 400],
    ['unknown datatype', { inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP33', data: x16 }] }, 400],
    ['shape/data mismatch', { inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: x16.slice(1) }] }, 400],
    ['wrong name', { inputs: [{ name: 'y', shape: [1, 16], datatype: 'FP32', data: x16 }] }, 400],
    ['wrong datatype for the model', { inputs: [{ name: 'x', shape: [1, 16], datatype: 'INT32', data: x16.map(() => 1) }] }, 400],
    ['a string in FP32 data', { inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: [...x16.slice(1), 'a'] }] }, 400],
    ['fixed dim wrong', { inputs: [{ name: 'x', shape: [2, 8], datatype: 'FP32', data: x16 }] }, 400],
    [
      'data nested 100,000 deep',
      `{"inputs":[{"name":"x","shape":[1,16],"datatype":"FP32","data":${'['.repeat(1e5)}1${']'.repeat(1e5)}}]}`,
      400,
    ],
    ['unknown output', { inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: x16 }], outputs: [{ name: 'nope' }] }, 400],
  ])('%s → 400 with a JSON error and code', async (_, body, status) => {
    const answer = await tiny(body);
    expect(answer.status).toBe(status);
    expect(answer.json).toMatchObject({ code: 'INVALID_INPUT' });
    expect(typeof answer.json.error).toBe('string');
  });

  it('unknown model or version → 404; ids never reach the file system', async () => {
    for (const p of [
      '/v2/models/nope/infer',
      '/v2/models/tiny-mlp/versions/9/infer',
      '/v2/models/..%2f..%2fpackage.json',
      '/v2/models/../registry.json',
    ]) {
      const response = await fetch(server.url + p, {
        method: p.endsWith('infer') ? 'POST' : 'GET',
        body: p.endsWith('infer') ? '{}' : undefined,
      });
      expect(response.status, p).toBe(404);
      expect((await response.json()).code).toBe('NOT_FOUND');
    }
  });

  it('a body over the limit → 413', async () => {
    const response = await fetch(`${server.url}/v2/models/tiny-mlp/infer`, { method: 'POST', body: new Uint8Array(9 * 1024 * 1024) });
    expect(response.status).toBe(413);
    expect((await response.json()).code).toBe('BODY_TOO_LARGE');
    // Chunked, no Content-Length: the limit is counted as the bytes arrive.
    const chunks = Array.from({ length: 9 }, () => new Uint8Array(1024 * 1024));
    const stream = new ReadableStream<Uint8Array>({ pull: (c) => (chunks.length ? c.enqueue(chunks.pop()!) : c.close()) });
    const chunked = await fetch(`${server.url}/v2/models/tiny-mlp/infer`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);
    expect((await chunked.json()).code).toBe('BODY_TOO_LARGE');
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
  });

  it('binary data that does not add up → 400', async () => {
    const head = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', parameters: { binary_data_size: 64 } }] });
    const body = Buffer.concat([Buffer.from(head), Buffer.alloc(60)]);
    const response = await fetch(`${server.url}/v2/models/tiny-mlp/infer`, {
      method: 'POST',
      body,
      headers: { 'inference-header-content-length': String(Buffer.byteLength(head)) },
    });
    expect(response.status).toBe(400);
    expect((await response.json()).code).toBe('INVALID_INPUT');
  });

  it('survives fuzzed bodies: every answer is a JSON 4xx, and the server still infers afterwards', async () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const valid = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: x16 }] });
    const values = [null, -1, Number.POSITIVE_INFINITY, 'x', [], {}, true, [[[]]], 2 ** 53, '9'.repeat(30)];
    for (let i = 0; i < 300; i++) {
      let body: string | Uint8Array<ArrayBuffer>;
      const kind = i % 3;
      if (kind === 0) body = Uint8Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256));
      else if (kind === 1) {
        const chars = [...valid];
        for (let k = 0; k < 3; k++) chars[Math.floor(random() * chars.length)] = String.fromCharCode(32 + Math.floor(random() * 90));
        body = chars.join('');
      } else {
        const json = JSON.parse(valid);
        const target = [json, json.inputs, json.inputs[0], json.inputs[0].shape, json.inputs[0].data][Math.floor(random() * 5)];
        const keys = Array.isArray(target) ? [0, 1] : Object.keys(target).concat('extra');
        (target as Record<string, unknown>)[keys[Math.floor(random() * keys.length)]] = values[Math.floor(random() * values.length)];
        body = JSON.stringify(json);
      }
      const headers: Record<string, string> = i % 7 === 0 ? { 'inference-header-content-length': String(Math.floor(random() * 300)) } : {};
      const response = await fetch(`${server.url}/v2/models/tiny-mlp/infer`, { method: 'POST', body, headers });
      const text = await response.text();
      if (response.status === 200) continue; // a mutation may leave the body valid
      expect(response.status, text).toBeGreaterThanOrEqual(400);
      expect(response.status, text).toBeLessThan(500);
      expect(JSON.parse(text).code).toBe('INVALID_INPUT');
    }
    expect((await tiny(JSON.parse(valid))).status).toBe(200);
    expect(server.process.exitCode).toBeNull();
  });
});
