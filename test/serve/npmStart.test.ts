// `npm start` (src/server/main.ts) answers the Open Inference Protocol on the same port as the rest.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAppServer } from '../helpers/appServer';
import type { SpawnedServer } from '../helpers/spawnServer';
import { infer } from './v2client';

let server: SpawnedServer;
beforeAll(async () => (server = await startAppServer({ ONDEVICE_WORKERS: '1' })));
afterAll(async () => server?.stop());

it('serves /v2 next to the app, the models and the collector', async () => {
  expect(await (await fetch(`${server.url}/v2/health/ready`)).json()).toEqual({ ready: true });
  const answer = await infer(`${server.url}/v2/models/tiny-mlp/infer`, {
    inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: Array.from({ length: 16 }, () => 0) }],
  });
  expect(answer.status).toBe(200);
  expect(answer.outputs.probs.dims).toEqual([1, 4]);
  expect((await fetch(`${server.url}/models/registry.json`)).status).toBe(200);
  expect((await fetch(`${server.url}/v1/summary`)).status).toBe(200);
});
