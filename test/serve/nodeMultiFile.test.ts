// `ondevice/node` with multi-file models: from a path (onnxruntime-node reads the data files beside it, after
// ondevice has checked them), from a registry whose files are named apart from their locations, and from a URL;
// every bad input named. Outputs are compared with onnxruntime-node run directly on the same files.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, OnDeviceError } from '../../src/node';
import { encodeModel } from '../../src/node/onnx/encodeModel';
import { transformerEntry, writeTransformerModel } from '../../scripts/onnx/transformer/writeTransformerModel';
import { closeReferenceSessions, compareOutputs, runReference } from '../helpers/reference';
import type { Feeds } from '../../src/core/protocol';

const root = mkdtempSync(path.join(tmpdir(), 'ondevice-node-multifile-'));
const SET = writeTransformerModel({
  dir: path.join(root, 'set'),
  bytes: 4e6,
  shards: 3,
  hidden: 64,
  locations: ['a.bin', 'onnx::MatMul_7', 'w/c.bin'],
});
const feeds: Feeds = { input: { type: 'float32', data: Float32Array.from({ length: 4 * 64 }, (_, i) => Math.cos(i)), dims: [1, 4, 64] } };

// A registry folder with the files renamed (registry file names are plain).
const modelsDir = path.join(root, 'models');
mkdirSync(modelsDir);
copyFileSync(SET.model, path.join(modelsDir, 'tf.onnx'));
const renamed = SET.files.map((f, i) => ({ location: f.location, file: `tf-${i}.bin`, sha256: f.sha256, bytes: f.bytes }));
for (const [i, f] of SET.files.entries()) copyFileSync(f.path, path.join(modelsDir, renamed[i].file));
const entry = { ...transformerEntry(SET, { id: 'tf', file: 'tf.onnx' }), externalData: renamed };
// The same bytes under another name, listed with a wrong sha256.
copyFileSync(SET.files[2].path, path.join(modelsDir, 'tf-wrong-2.bin'));
const wrongHash = {
  ...entry,
  id: 'tf-wrong',
  externalData: renamed.map((d, i) => (i === 2 ? { ...d, file: 'tf-wrong-2.bin', sha256: '0'.repeat(64) } : d)),
};
writeFileSync(path.join(modelsDir, 'registry.json'), JSON.stringify([entry, wrongHash]));

// Beside a path: one file missing, one cut short.
mkdirSync(path.join(root, 'missing/w'), { recursive: true });
copyFileSync(SET.model, path.join(root, 'missing/model.onnx'));
copyFileSync(SET.files[0].path, path.join(root, 'missing/a.bin'));
copyFileSync(SET.files[2].path, path.join(root, 'missing/w/c.bin'));
mkdirSync(path.join(root, 'short/w'), { recursive: true });
copyFileSync(SET.model, path.join(root, 'short/model.onnx'));
copyFileSync(SET.files[0].path, path.join(root, 'short/a.bin'));
copyFileSync(SET.files[1].path, path.join(root, 'short/onnx::MatMul_7'));
writeFileSync(path.join(root, 'short/w/c.bin'), readFileSync(SET.files[2].path).subarray(0, 1000));
writeFileSync(
  path.join(root, 'escape.onnx'),
  encodeModel({
    irVersion: 8,
    opsets: [{ domain: '', version: 17 }],
    producerName: 'test',
    producerVersion: '1',
    graph: {
      name: 'g',
      nodes: [{ opType: 'Identity', inputs: ['w'], outputs: ['y'] }],
      inputs: [],
      outputs: [{ name: 'y', type: 'float32', shape: [4] }],
      initializers: [{ name: 'w', type: 'float32', dims: [4], external: { location: '../set/a.bin', offset: 0, length: 16 } }],
    },
  }),
);

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const file = path.join(SET.model, '..', decodeURIComponent(new URL(req.url!, 'http://x').pathname.slice('/m/'.length)));
    try {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.close();
  await closeReferenceSessions();
  rmSync(root, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<OnDeviceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OnDeviceError);
  return error as OnDeviceError;
}

async function expectSameAsDirect(model: Awaited<ReturnType<typeof loadModel>>) {
  const got = await model.run(feeds);
  expect(compareOutputs(got, await runReference(SET.model, feeds), { atol: 1e-5, rtol: 1e-5 })).toEqual([]);
  model.dispose();
}

describe('ondevice/node multi-file models', () => {
  it('from a path: the data files beside it, whatever their names; bytes is the whole set', async () => {
    const model = await loadModel(SET.model, { threads: 1 });
    expect(model.info.bytes).toBe(SET.totalBytes);
    await expectSameAsDirect(model);
  });

  it('from the registry: files named apart from their locations, verified by sha256, laid out for onnxruntime-node', async () => {
    const model = await loadModel('tf', { modelsDir, threads: 1 });
    expect(model.info.bytes).toBe(SET.totalBytes);
    await expectSameAsDirect(model);
  });

  it('from a URL: every file fetched beside it and verified', async () => {
    const model = await loadModel(`${base}/m/transformer.onnx`, { threads: 1, dataFiles: { 'w/c.bin': { sha256: SET.files[2].sha256 } } });
    await expectSameAsDirect(model);
  });

  it('a wrong sha256 (registry, or dataFiles for a path) is INTEGRITY_MISMATCH naming the file', async () => {
    expect(await failure(loadModel('tf-wrong', { modelsDir }))).toMatchObject({
      code: 'INTEGRITY_MISMATCH',
      details: { location: 'w/c.bin' },
    });
    const pinned = await failure(loadModel(SET.model, { dataFiles: { 'a.bin': { sha256: 'f'.repeat(64) } } }));
    expect(pinned).toMatchObject({ code: 'INTEGRITY_MISMATCH', details: { location: 'a.bin' } });
  });

  it('a missing file is MODEL_FETCH_FAILED naming it; a file too short for its tensors MODEL_LOAD_FAILED naming it', async () => {
    const missing = await failure(loadModel(path.join(root, 'missing/model.onnx')));
    expect(missing).toMatchObject({ code: 'MODEL_FETCH_FAILED', details: { location: 'onnx::MatMul_7' } });
    expect(missing.message).toContain('external data file "onnx::MatMul_7" is missing');
    const short = await failure(loadModel(path.join(root, 'short/model.onnx')));
    expect(short).toMatchObject({ code: 'MODEL_LOAD_FAILED', details: { location: 'w/c.bin', fileBytes: 1000 } });
  });

  it('a location that leaves the model folder is INVALID_INPUT', async () => {
    const error = await failure(loadModel(path.join(root, 'escape.onnx')));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('"../set/a.bin", which contains a ".." segment');
  });
});
