// `ondevice serve --models-dir DIR` (and ONDEVICE_MODELS_DIR), and `ondevice serve model.onnx`, as real processes: a plain folder of .onnx files
// (one with its weights in an external data file beside it: listed with its signature) is served, each file as
// its name lower-cased, answers checked against onnxruntime-node; two files that map to one id, and a folder with nothing to serve,
// stop the server at start with INVALID_INPUT saying what to do.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/node/onnx/encodeModel';
import { idOfModelFile } from '../../src/inference/readModelsDir';
import { closeReferenceSessions, runReference } from '../helpers/reference';
import { spawnServer, type SpawnedServer } from '../helpers/spawnServer';
import { infer, jsonInput } from './v2client';

const root = mkdtempSync(path.join(tmpdir(), 'ondevice-models-dir-'));
const plain = path.join(root, 'plain');
let server: SpawnedServer | undefined;

/** y = x · W with W (4×2 float32) in `weights.bin` beside the model. */
function writeExternalModel(dir: string): void {
  const weights = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(weights.buffer));
  const model = encodeModel({
    irVersion: 8,
    opsets: [{ domain: '', version: 17 }],
    producerName: 'test',
    producerVersion: '1',
    graph: {
      name: 'g',
      nodes: [{ opType: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
      inputs: [{ name: 'x', type: 'float32', shape: [1, 4] }],
      outputs: [{ name: 'y', type: 'float32', shape: [1, 2] }],
      initializers: [{ name: 'W', type: 'float32', dims: [4, 2], external: { location: 'weights.bin', offset: 0, length: 32 } }],
    },
  });
  writeFileSync(path.join(dir, 'Linear Layer.onnx'), model);
}

function ondevice(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['bin/ondevice.mjs', ...args],
      { env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(() => {
  for (const dir of [plain, path.join(root, 'twins'), path.join(root, 'empty')]) rmSync(dir, { recursive: true, force: true });
  for (const dir of ['plain', 'twins', 'empty']) mkdirSync(path.join(root, dir));
  copyFileSync('models/generated/tiny-mlp.onnx', path.join(plain, 'Tiny_MLP.onnx'));
  copyFileSync('models/generated/dtypes.onnx', path.join(plain, 'dtypes.onnx'));
  writeExternalModel(plain);
  writeFileSync(path.join(plain, 'notes.txt'), 'not a model');
  copyFileSync('models/generated/tiny-mlp.onnx', path.join(root, 'twins', 'Model.onnx'));
  copyFileSync('models/generated/tiny-mlp.onnx', path.join(root, 'twins', 'model.ONNX'));
});
afterAll(async () => {
  await server?.stop();
  await closeReferenceSessions();
  rmSync(root, { recursive: true, force: true });
});

describe('ids from file names', () => {
  it('lower-cases the stem and replaces what the id rules do not allow with -', () => {
    expect(idOfModelFile('Tiny_MLP.onnx')).toBe('tiny_mlp');
    expect(idOfModelFile('Linear Layer.onnx')).toBe('linear-layer');
    expect(idOfModelFile('résumé v2.ONNX')).toBe('r-sum--v2');
    expect(idOfModelFile('_hidden.onnx')).toBe('hidden');
  });
});

describe('ondevice serve --models-dir <a plain folder of .onnx files>', () => {
  it('serves each .onnx file as its name (one with external data, listed with its signature), with the answers onnxruntime-node gives', async () => {
    server = await spawnServer(process.execPath, ['bin/ondevice.mjs', 'serve', '--workers', '1', '--models-dir', plain], {
      timeoutMs: 120_000,
    });
    expect(server.output()).toContain('3 models (dtypes, linear-layer, tiny_mlp)');
    const tiny = await (await fetch(`${server.url}/v2/models/tiny_mlp`)).json();
    expect(tiny).toMatchObject({ name: 'tiny_mlp', versions: ['1'] });
    const x = { type: 'float32' as const, data: Float32Array.from({ length: 16 }, (_, i) => i / 16), dims: [1, 16] };
    const answer = await infer(`${server.url}/v2/models/tiny_mlp/infer`, { inputs: [jsonInput('x', x)] });
    expect(answer.status).toBe(200);
    const expected = await runReference(path.join(plain, 'Tiny_MLP.onnx'), { x });
    for (const [name, t] of Object.entries(expected))
      expect(Array.from(answer.outputs[name].data as Float32Array)).toEqual(Array.from(t.data as Float32Array));

    // Listed with its signature, read in a sandbox child that loaded the model and its external data file.
    const linear = await (await fetch(`${server.url}/v2/models/linear-layer`)).json();
    expect(linear).toMatchObject({ name: 'linear-layer', versions: ['1'] });
    expect(linear.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [1, 4] }]);
    expect(linear.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [1, 2] }]);
    expect((await fetch(`${server.url}/v2/models/notes`)).status).toBe(404);
    await server.stop();
    server = undefined;
  });

  it('ONDEVICE_MODELS_DIR does the same', async () => {
    server = await spawnServer(process.execPath, ['bin/ondevice.mjs', 'serve', '--workers', '1'], {
      env: { ONDEVICE_MODELS_DIR: plain },
      timeoutMs: 120_000,
    });
    expect((await fetch(`${server.url}/v2/models/dtypes`)).status).toBe(200);
    await server.stop();
    server = undefined;
  });

  it('two files that map to one id stop it at start, naming both', async () => {
    const r = await ondevice(['serve', '--models-dir', path.join(root, 'twins')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/INVALID_INPUT: .*Model\.onnx and .*model\.ONNX would both be served as model "model"/);
  });

  it('a folder with neither a registry.json nor .onnx files (or none at all) says what to pass', async () => {
    for (const dir of [path.join(root, 'empty'), path.join(root, 'missing')]) {
      const r = await ondevice(['serve', '--models-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(dir);
      expect(r.stderr).toMatch(
        /INVALID_INPUT: .*pass --models-dir \(or set ONDEVICE_MODELS_DIR to\) a folder with a registry\.json, or a folder of \.onnx files/,
      );
    }
  });
});

describe('ondevice serve <model.onnx>', () => {
  it('serves that one file (its external data found beside it) as its name, with the answers onnxruntime-node gives', async () => {
    server = await spawnServer(process.execPath, ['bin/ondevice.mjs', 'serve', path.join(plain, 'Linear Layer.onnx'), '--workers', '1'], {
      timeoutMs: 120_000,
    });
    expect(server.output()).toContain('1 models (linear-layer)');
    const x = { type: 'float32' as const, data: Float32Array.from([1, 0.5, -2, 3]), dims: [1, 4] };
    const answer = await infer(`${server.url}/v2/models/linear-layer/infer`, { inputs: [jsonInput('x', x)] });
    expect(answer.status).toBe(200);
    const expected = await runReference(path.join(plain, 'Linear Layer.onnx'), { x });
    expect(Array.from(answer.outputs.y.data as Float32Array)).toEqual(Array.from(expected.y.data as Float32Array));
    // Only that file: the folder's other models are not served.
    expect((await fetch(`${server.url}/v2/models/tiny_mlp`)).status).toBe(404);
    await server.stop();
    server = undefined;
  });

  it('a missing data file, a path that is not a model, or a file with --models-dir is refused before it listens', async () => {
    const lonely = path.join(root, 'lonely');
    mkdirSync(lonely, { recursive: true });
    copyFileSync(path.join(plain, 'Linear Layer.onnx'), path.join(lonely, 'linear.onnx'));
    const missing = await ondevice(['serve', path.join(lonely, 'linear.onnx')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/MODEL_FETCH_FAILED: .*names external data file "weights\.bin", which is not at/);
    const notModel = await ondevice(['serve', path.join(plain, 'notes.txt')]);
    expect(notModel.code).toBe(1);
    expect(notModel.stderr).toMatch(/INVALID_INPUT: .*notes\.txt is not an \.onnx file/);
    const both = await ondevice(['serve', path.join(plain, 'dtypes.onnx'), '--models-dir', plain]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('pass a model file or --models-dir, not both');
  });
});
