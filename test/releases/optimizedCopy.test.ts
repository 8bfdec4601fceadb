// Publishing derives a pre-optimised copy of the upload (onnxruntime-node, level `extended`), checks it computes
// the upload's outputs, stores it content-addressed and serves it beside model.onnx; a copy that cannot be
// derived leaves the publish alone and says why. A real server process and real onnxruntime-node.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleFeeds } from '../../src/core/sampleFeeds';
import { checkSameOutputs } from '../../src/node/checkSameOutputs';
import { encodeModel } from '../../src/node/onnx/encodeModel';
import { call, publish, setPercent, startReleaseServer, type StartedReleaseServer } from './startReleaseServer';

const TINY_MLP = new Uint8Array(readFileSync('models/generated/tiny-mlp.onnx'));
// v2: the same graph with other weights (same signature, other outputs), as test/browser/releasesClient.test.ts builds it.
const V2 = Uint8Array.from(TINY_MLP);
for (let i = 2600; i < 2700; i++) V2[i] ^= 0x11;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Loads, but cannot run on the sample inputs (a free dim of 1 does not reshape to 2×3): no copy can be checked. */
const RESHAPE = encodeModel({
  irVersion: 8,
  opsets: [{ domain: '', version: 17 }],
  producerName: 'ondevice-test',
  producerVersion: '1',
  graph: {
    name: 'reshape',
    nodes: [{ opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
    inputs: [{ name: 'x', type: 'float32', shape: ['n'] }],
    outputs: [{ name: 'y', type: 'float32', shape: [2, 3] }],
    initializers: [{ name: 'shape', type: 'int64', dims: [2], values: [2n, 3n] }],
  },
});

async function run(model: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ x: new ort.Tensor('float32', x, [x.length / 16, 16]) });
    return out.probs.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('the pre-optimised copy of a published version', () => {
  let srv: StartedReleaseServer;
  beforeAll(async () => {
    srv = await startReleaseServer();
  }, 60_000);
  afterAll(async () => {
    await srv?.stop();
    srv?.cleanup();
  });
  // tiny-mlp v2 is published once per file, by whichever test needs it first (so each test also runs alone).
  let v2: ReturnType<typeof publish> | undefined;
  const publishV2 = () => (v2 ??= publish(srv.url, 'tiny-mlp', '2', V2));

  it('is derived at publish, recorded with its own sha256, served immutable and computes what model.onnx computes', async () => {
    const res = await publishV2();
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const { optimized } = res.body;
    expect(optimized).toEqual({
      url: '/v1/releases/tiny-mlp/2/model.extended.onnx',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      bytes: expect.any(Number),
      onnxruntime: ort.env.versions.node,
    });
    expect(res.body.optimizedError).toBeUndefined();
    expect(res.body.release.entry.optimized).toEqual(optimized);
    // The original's verification is unchanged: its own sha256, its own URL.
    expect(res.body.release.entry).toMatchObject({ url: '/v1/releases/tiny-mlp/2/model.onnx', sha256: sha(V2), bytes: V2.byteLength });
    expect(optimized.sha256).not.toBe(sha(V2));

    const status = (await call(`${srv.url}/v1/releases/tiny-mlp`)).body;
    const decision = status.decisions.find((d: any) => d.version === '2' && d.action === 'publish');
    expect(decision.evidence.optimized).toEqual({ sha256: optimized.sha256, bytes: optimized.bytes, onnxruntime: optimized.onnxruntime });

    const served = await fetch(`${srv.url}${optimized.url}`, { signal: AbortSignal.timeout(10_000) });
    expect(served.status).toBe(200);
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(served.headers.get('etag')).toBe(`"${optimized.sha256}"`);
    const copy = new Uint8Array(await served.arrayBuffer());
    expect(copy.byteLength).toBe(optimized.bytes);
    expect(sha(copy)).toBe(optimized.sha256);
    const revalidated = await fetch(`${srv.url}${optimized.url}`, {
      headers: { 'if-none-match': `"${optimized.sha256}"` },
      signal: AbortSignal.timeout(10_000),
    });
    expect(revalidated.status).toBe(304);

    const original = new Uint8Array(await (await fetch(`${srv.url}/v1/releases/tiny-mlp/2/model.onnx`)).arrayBuffer());
    const x = Float32Array.from({ length: 3 * 16 }, (_, i) => Math.sin(i * 0.7));
    const [expected, actual] = [await run(original, x), await run(copy, x)];
    expect(Array.from(expected)).not.toEqual(Array.from(await run(TINY_MLP, x))); // v2 is not v1
    for (const [i, e] of expected.entries()) expect(Math.abs(actual[i] - e)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(e));
  });

  it("is served in the manifest with its version, and the seeded version's registry copy is unchanged", async () => {
    expect((await publishV2()).status).toBe(201);
    const before = (await call(`${srv.url}/v1/manifest?install=i-1`)).body.models['tiny-mlp'];
    expect(before).toMatchObject({ version: '1', state: 'stable' });
    expect(before.optimized).toBeUndefined(); // tiny-mlp's registry entry has no copy
    expect((await setPercent(srv.url, 'tiny-mlp', '2', 100)).status).toBe(200);
    const after = (await call(`${srv.url}/v1/manifest?install=i-1`)).body.models;
    expect(after['tiny-mlp']).toMatchObject({ version: '2', state: 'stable' });
    expect(after['tiny-mlp'].optimized).toMatchObject({
      url: '/v1/releases/tiny-mlp/2/model.extended.onnx',
      onnxruntime: ort.env.versions.node,
    });
    const registry = JSON.parse(readFileSync('models/registry.json', 'utf8')) as Array<{ id: string; optimized?: { file: string } }>;
    const digits = registry.find((e) => e.id === 'digits')!;
    expect(after.digits.optimized.url).toBe(`/models/${digits.optimized!.file}`);
  });

  it('does not fail a publish when no copy can be checked: the version is published without one, and the answer says why', async () => {
    const res = await publish(srv.url, 'reshape', '1', RESHAPE);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.release).toMatchObject({ state: 'stable', sha256: sha(RESHAPE) });
    expect(res.body.optimized).toBeNull();
    expect(res.body.optimizedError).toMatch(
      /^no pre-optimised copy: reshape@1: the original did not run on the sample inputs: .*cannot be reshaped/,
    );
    expect(res.body.release.entry.optimized).toBeUndefined();
    const status = (await call(`${srv.url}/v1/releases/reshape`)).body;
    expect(status.decisions[0].evidence).toMatchObject({ optimized: null, optimizedError: res.body.optimizedError });
    const manifest = (await call(`${srv.url}/v1/manifest?install=i-1`)).body.models.reshape;
    expect(manifest).toMatchObject({ version: '1', url: '/v1/releases/reshape/1/model.onnx' });
    expect(manifest.optimized).toBeUndefined();
    const missing = await call(`${srv.url}/v1/releases/reshape/1/model.extended.onnx`);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('NOT_FOUND');
    // A seeded registry version's copy is a static file, not a release leaf.
    expect((await call(`${srv.url}/v1/releases/digits/1/model.extended.onnx`)).status).toBe(404);
  });

  it('is refused when it does not compute what the upload computes (the check publish and models:optimize share)', async () => {
    const feeds = sampleFeeds([{ name: 'x', type: 'float32', shape: ['batch', 16] }]);
    expect(await checkSameOutputs(V2, V2, feeds, 'tiny-mlp@2')).toBe(0);
    // v1's weights stand in for a copy that went wrong: same signature, other outputs.
    const wrong = checkSameOutputs(V2, TINY_MLP, feeds, 'tiny-mlp@2');
    await expect(wrong).rejects.toMatchObject({ code: 'INFERENCE_FAILED' });
    await expect(wrong).rejects.toThrow(/^tiny-mlp@2 output probs\[\d+\]: .* in the original$/);
  });
});
