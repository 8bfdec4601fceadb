// /v2 in `npm start` serves what the release server published: a request without a version runs the stable one,
// `/v2/models/{id}/versions/{v}` any published one, and a model that was only ever published (never in the
// registry) is served too.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTinyMlp, tinyMlpWeights } from '../../scripts/onnx/models/tinyMlpModel';
import { writeTransformerModel } from '../../scripts/onnx/transformer/writeTransformerModel';
import { closeReferenceSessions, compareOutputs, runReference } from '../helpers/reference';
import { startAppServer } from '../helpers/appServer';
import type { SpawnedServer } from '../helpers/spawnServer';
import { call, publish, setPercent } from '../releases/startReleaseServer';
import { infer } from './v2client';

const input = { inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: Array.from({ length: 16 }, (_, i) => i / 16) }] };
const probs = async (url: string) => {
  const answer = await infer(url, input);
  expect(answer.status).toBe(200);
  return { version: answer.json.model_version as string, probs: Array.from(answer.outputs.probs.data as Float32Array) };
};

describe('/v2 serves released versions', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await startAppServer({ ONDEVICE_WORKERS: '1' });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await closeReferenceSessions();
  });

  it('runs the stable version without a version, any published one by /versions/{v}, and follows a promotion', async () => {
    const v1 = await probs(`${server.url}/v2/models/tiny-mlp/infer`);
    expect(v1.version).toBe('1');
    expect((await publish(server.url, 'tiny-mlp', '2', encodeTinyMlp(tinyMlpWeights(20261201)))).status).toBe(201);

    // A candidate at 0 %: the stable version still answers by default, the candidate by its version.
    expect(await probs(`${server.url}/v2/models/tiny-mlp/infer`)).toEqual(v1);
    const v2 = await probs(`${server.url}/v2/models/tiny-mlp/versions/2/infer`);
    expect(v2.version).toBe('2');
    expect(v2.probs).not.toEqual(v1.probs);
    const metadata = await (await fetch(`${server.url}/v2/models/tiny-mlp`)).json();
    expect(metadata.versions).toEqual(['1', '2']);

    expect((await setPercent(server.url, 'tiny-mlp', '2', 100)).status).toBe(200);
    expect(await probs(`${server.url}/v2/models/tiny-mlp/infer`)).toEqual(v2);
    // The retired version is still published, so still runs by its version.
    expect(await probs(`${server.url}/v2/models/tiny-mlp/versions/1/infer`)).toEqual(v1);
    const unknown = await call(`${server.url}/v2/models/tiny-mlp/versions/9/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    expect([unknown.status, unknown.body.error]).toEqual([404, 'unknown version "9" of model "tiny-mlp"']);
  }, 120_000);

  it('serves a model that is only published, not in the registry', async () => {
    const counter = new Uint8Array(readFileSync('models/generated/counter.onnx'));
    expect((await publish(server.url, 'only-released', '1', counter)).status).toBe(201);
    const metadata = await (await fetch(`${server.url}/v2/models/only-released`)).json();
    expect(metadata).toMatchObject({ name: 'only-released', versions: ['1'] });
    const ready = await (await fetch(`${server.url}/v2/models/only-released/versions/1/ready`)).json();
    expect(ready).toEqual({ name: 'only-released', version: '1', ready: true });
  }, 60_000);

  it('runs a released multi-file set from the disk copy of its files, the data files laid out by location; answers equal onnxruntime-node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ondevice-v2-shards-'));
    try {
      const set = writeTransformerModel({ dir, bytes: 3e6, shards: 3, hidden: 64, locations: ['onnx::w1', 'w/2 b.bin', 'w3.bin'] });
      execFileSync(process.execPath, ['bin/ondevice.mjs', 'release', 'publish', set.model, '--model', 'v2-shards', '--version', '1'], {
        env: { ...process.env, ONDEVICE_SERVER: server.url },
        stdio: 'pipe',
      });
      const values = Float32Array.from({ length: 4 * set.hidden }, (_, i) => Math.cos(i / 5));
      const answer = await infer(`${server.url}/v2/models/v2-shards/infer`, {
        inputs: [{ name: 'input', shape: [1, 4, set.hidden], datatype: 'FP32', data: Array.from(values) }],
      });
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      expect(answer.json.model_version).toBe('1');
      const expected = await runReference(set.model, { input: { type: 'float32', data: values, dims: [1, 4, set.hidden] } });
      expect(compareOutputs({ logits: answer.outputs.logits }, expected, { atol: 1e-4, rtol: 1e-3 })).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
