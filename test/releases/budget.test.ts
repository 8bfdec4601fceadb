import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, publish, startReleaseServer, type StartedReleaseServer } from './startReleaseServer';

const TINY_MLP = new Uint8Array(readFileSync('models/generated/tiny-mlp.onnx'));

describe('published versions always count (ModelKeyBudget)', () => {
  let srv: StartedReleaseServer;
  beforeAll(async () => {
    // No room for unregistered models or versions: only the registry and releases count apart.
    srv = await startReleaseServer({ env: { COLLECTOR_MAX_MODELS_PER_SITE: '0', COLLECTOR_MAX_VERSIONS_PER_MODEL: '0' } });
  }, 60_000);
  afterAll(async () => {
    await srv?.stop();
    srv?.cleanup();
  });

  it("counts a new model's and a new version's events under their own key, also after a restart", async () => {
    expect((await publish(srv.url, 'brand-new', '1', TINY_MLP)).status).toBe(201);
    expect((await publish(srv.url, 'tiny-mlp', '2', TINY_MLP)).status).toBe(201);
    const send = async () => {
      const events = [
        ['brand-new', '1'],
        ['tiny-mlp', '2'],
      ].map(([modelId, modelVersion]) => ({
        id: randomUUID(),
        type: 'inference',
        ts: Date.now(),
        installId: 'i-1',
        sessionId: 's-1',
        modelId,
        modelVersion,
        backend: 'wasm',
        ms: 5,
        inputDims: { x: [1, 16] },
        output: { topClass: 1 },
      }));
      const res = await call(`${srv.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ siteKey: 'demo', events }),
      });
      expect(res.status).toBe(200);
    };
    const inferences = async (model: string, version: string) =>
      (await call(`${srv.url}/v1/releases/${model}`)).body.versions.find((v: any) => v.version === version).field.inferences;
    await send();
    expect(await inferences('brand-new', '1')).toBe(1);
    expect(await inferences('tiny-mlp', '2')).toBe(1);
    await srv.stop();
    srv = await startReleaseServer({ dir: srv.dir, env: { COLLECTOR_MAX_MODELS_PER_SITE: '0', COLLECTOR_MAX_VERSIONS_PER_MODEL: '0' } });
    await send();
    expect(await inferences('brand-new', '1')).toBe(2);
    expect(await inferences('tiny-mlp', '2')).toBe(2);
  }, 60_000);
});
