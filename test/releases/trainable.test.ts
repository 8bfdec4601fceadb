// Trainable releases (federated fine-tuning): the release server derives each trainable version's features
// variant — at seeding for a registry entry that declares `trainable`, at publish for a version that declares it or
// inherits it from the stable one — checks it in a sandbox child, serves it, and names it in the manifest.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTrainableHead, withHeadWeights } from '../../src/node/onnx/trainableHead';
import { mnistSplit } from '../../src/retrain/digits/mnistSplit';
import { call, publish, startReleaseServer, type StartedReleaseServer } from './startReleaseServer';

const DIGITS = new Uint8Array(readFileSync('models/trained/digits-1.onnx'));
const TINY_MLP = new Uint8Array(readFileSync('models/generated/tiny-mlp.onnx'));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function outputsOf(model: Uint8Array) {
  const session = await ort.InferenceSession.create(model);
  try {
    const pixels = new Float32Array(4 * 784);
    mnistSplit()
      .heldOut.slice(0, 4)
      .forEach((s, i) => pixels.set(s.pixels, i * 784));
    const out = await session.run({ image: new ort.Tensor('float32', pixels, [4, 1, 28, 28]) });
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { dims: t.dims, data: Array.from(t.data as Float32Array) }]));
  } finally {
    await session.release();
  }
}

describe('trainable releases', () => {
  let srv: StartedReleaseServer;
  beforeAll(async () => {
    srv = await startReleaseServer();
  }, 60_000);
  afterAll(async () => {
    await srv?.stop();
    srv?.cleanup();
  });

  it("seeds digits with its declared head: the manifest names the features variant, which outputs the model's probabilities and flat [N, 1152]", async () => {
    const { body } = await call(`${srv.url}/v1/manifest?install=i-1`);
    expect(body.models.digits.trainable).toMatchObject({
      features: 'flat',
      weight: 'dense_w',
      bias: 'dense_b',
      featureCount: 1152,
      classes: 10,
      output: 'probabilities',
      variant: { url: '/v1/releases/digits/1/model.features.onnx' },
    });
    expect(body.models['tiny-mlp'].trainable).toBeUndefined();
    const res = await fetch(`${srv.url}/v1/releases/digits/1/model.features.onnx`);
    expect(res.status).toBe(200);
    const variant = new Uint8Array(await res.arrayBuffer());
    expect(sha(variant)).toBe(body.models.digits.trainable.variant.sha256);
    const [own, derived] = [await outputsOf(DIGITS), await outputsOf(variant)];
    expect(derived.probabilities).toEqual(own.probabilities);
    expect(derived.flat.dims).toEqual([4, 1152]);
    expect((await call(`${srv.url}/v1/releases/tiny-mlp/1/model.features.onnx`)).status).toBe(404);
  });

  it('a new version inherits the head: its own variant is derived, checked and served', async () => {
    const head = readTrainableHead(DIGITS, { features: 'flat', weight: 'dense_w', bias: 'dense_b' });
    const v2 = withHeadWeights(
      DIGITS,
      head,
      head.weightValues.map((w) => w * 0.5),
      head.biasValues,
    );
    const res = await publish(srv.url, 'digits', '2', v2);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.trainable).toMatchObject({ features: 'flat', variant: { url: '/v1/releases/digits/2/model.features.onnx' } });
    const variant = new Uint8Array(await (await fetch(`${srv.url}/v1/releases/digits/2/model.features.onnx`)).arrayBuffer());
    expect(sha(variant)).toBe(res.body.trainable.variant.sha256);
    expect((await outputsOf(variant)).probabilities).toEqual((await outputsOf(v2)).probabilities);
    // Opting out: trainable=none publishes without a head.
    const none = await publish(
      srv.url,
      'digits',
      '3',
      withHeadWeights(
        DIGITS,
        head,
        head.weightValues,
        head.biasValues.map((b) => b + 1),
      ),
      '?trainable=none',
    );
    expect(none.status).toBe(201);
    expect(none.body.trainable).toBeNull();
  });

  it('a declared head the model does not have is refused (422 NOT_TRAINABLE), nothing published', async () => {
    const spec = encodeURIComponent(JSON.stringify({ features: 'x', weight: 'W', bias: 'b' }));
    const res = await publish(srv.url, 'tiny-mlp', '2', TINY_MLP, `?trainable=${spec}`);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'NOT_TRAINABLE', error: expect.stringMatching(/no MatMul\(x, W\)/) });
    const bad = await publish(srv.url, 'tiny-mlp', '2', TINY_MLP, '?trainable=%7B%22features%22%3A1%7D');
    expect(bad).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT' } });
    const status = await call(`${srv.url}/v1/releases/tiny-mlp`);
    expect(status.body.versions.map((v: { version: string }) => v.version)).toEqual(['1']);
  });
});
