// The Node API (`src/node`): same loadModel/Model/error codes as the browser, on onnxruntime-node.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, OnDeviceError } from '../../src/node';
import { readRegistry } from '../../src/node/readRegistry';
import type { ModelEntry } from '../../src/registry/ModelEntry';
import { makeInputs } from '../helpers/inputs';
import { closeReferenceSessions, runReference } from '../helpers/reference';

const modelsDir = path.resolve('public/models');
let registry: ModelEntry[];
let scratch: string;

beforeAll(async () => {
  registry = await readRegistry(modelsDir);
  scratch = await mkdtemp(path.join(tmpdir(), 'ondevice-node-'));
});
afterAll(async () => {
  await closeReferenceSessions();
  await rm(scratch, { recursive: true, force: true });
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OnDeviceError);
  return (error as OnDeviceError).code;
}

describe('ondevice/node loadModel', () => {
  it.each(['dtypes', 'tiny-mlp', 'counter', 'silero-vad-v5'])(
    '%s by registry id: outputs equal onnxruntime-node run directly',
    async (id) => {
      const entry = registry.find((e) => e.id === id)!;
      const model = await loadModel(id, { modelsDir, threads: 1 });
      expect(model.id).toBe(id);
      expect(model.version).toBe(entry.version);
      expect(model.inputs).toEqual(entry.inputs);
      expect(model.outputs).toEqual(entry.outputs);
      const feeds = makeInputs(entry);
      const got = await model.run(feeds);
      const want = await runReference(path.join(modelsDir, entry.file), feeds);
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const name of Object.keys(want)) {
        expect(got[name].type).toBe(want[name].type);
        expect(got[name].dims).toEqual(want[name].dims);
        expect([...got[name].data]).toEqual([...want[name].data]);
      }
      model.dispose();
    },
  );

  it('loads a file path and reads inputs/outputs from the session', async () => {
    const model = await loadModel(path.join(modelsDir, 'tiny-mlp.onnx'));
    expect(model.id).toBe('tiny-mlp');
    expect(model.inputs).toEqual([{ name: 'x', type: 'float32', shape: ['batch', 16] }]);
    const out = await model.run({ x: { type: 'float32', data: new Float32Array(32), dims: [2, 16] } });
    expect(out.probs.dims).toEqual([2, 4]);
    model.dispose();
  });

  it('loads an http URL through the shared fetchModel, with content and sha256 checks', async () => {
    const bytes = await readFile(path.join(modelsDir, 'tiny-mlp.onnx'));
    const server = createServer((req, res) => {
      if (req.url === '/m/tiny.onnx') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>app shell</p>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const model = await loadModel(`${base}/m/tiny.onnx`, { sha256: registry.find((e) => e.id === 'tiny-mlp')!.sha256 });
      expect(model.id).toBe('tiny');
      expect((await model.run({ x: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } })).probs.dims).toEqual([1, 4]);
      model.dispose();
      expect(await codeOf(loadModel(`${base}/m/missing.onnx`))).toBe('MODEL_FETCH_FAILED');
      expect(await codeOf(loadModel(`${base}/m/tiny.onnx`, { sha256: 'f'.repeat(64) }))).toBe('INTEGRITY_MISMATCH');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('validates feeds exactly like the browser (shared validateFeeds)', async () => {
    const model = await loadModel('tiny-mlp', { modelsDir });
    expect(await codeOf(model.run({ y: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } }))).toBe('INVALID_INPUT');
    expect(await codeOf(model.run({ x: { type: 'float32', data: new Float32Array(15), dims: [1, 16] } }))).toBe('INVALID_INPUT');
    expect(await codeOf(model.run({ x: { type: 'int32', data: new Int32Array(16), dims: [1, 16] } }))).toBe('INVALID_INPUT');
    model.dispose();
    expect(await codeOf(model.run({ x: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } }))).toBe('DISPOSED');
  });

  it('fails with stable codes: unknown id, missing file, not a model, wrong sha256, corrupt model', async () => {
    expect(await codeOf(loadModel('no-such-model', { modelsDir }))).toBe('INVALID_INPUT');
    expect(await codeOf(loadModel(path.join(scratch, 'missing.onnx')))).toBe('MODEL_FETCH_FAILED');
    const html = path.join(scratch, 'page.onnx');
    await writeFile(html, '<!doctype html><p>not a model</p>');
    expect(await codeOf(loadModel(html))).toBe('MODEL_FETCH_FAILED');
    const copy = path.join(scratch, 'tiny.onnx');
    await copyFile(path.join(modelsDir, 'tiny-mlp.onnx'), copy);
    expect(await codeOf(loadModel(copy, { sha256: '0'.repeat(64) }))).toBe('INTEGRITY_MISMATCH');
    const bytes = await readFile(copy);
    const broken = path.join(scratch, 'broken.onnx');
    await writeFile(broken, bytes.subarray(0, bytes.length >> 1));
    expect(await codeOf(loadModel(broken))).toBe('MODEL_LOAD_FAILED');
    // A registry entry whose file name tries to leave the models folder never reaches the file system.
    const entry = { ...registry.find((e) => e.id === 'tiny-mlp')!, file: '../../package.json' };
    expect(await codeOf(loadModel(entry, { modelsDir }))).toBe('INVALID_INPUT');
  });
});
