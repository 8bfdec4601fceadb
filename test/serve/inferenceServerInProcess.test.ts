// createInferenceServer mounted in a real node:http server: bounded queue, access off loopback, telemetry.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createInferenceServer, type InferenceServer, type InferenceServerOptions } from '../../src/inference/createInferenceServer';
import type { ServerInferenceRecord } from '../../src/inference/ServerInferenceRecord';
import { closeReferenceSessions, runReference } from '../helpers/reference';
import { expectedJsonValues, infer } from './v2client';
import { waitFor } from '../helpers/waitFor';

const modelsDir = path.resolve('public/models');
let running: { http: Server; inference: InferenceServer } | undefined;

async function start(options: Partial<InferenceServerOptions>): Promise<{ url: string; inference: InferenceServer }> {
  const inference = await createInferenceServer({ host: '127.0.0.1', modelsDir, workers: 1, ...options });
  const http = createServer((req, res) => void inference.handle(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  running = { http, inference };
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, inference };
}

afterAll(() => closeReferenceSessions());

afterEach(async () => {
  if (!running) return;
  running.http.closeAllConnections();
  await new Promise((resolve) => running!.http.close(resolve));
  await running.inference.close();
  running = undefined;
});

const det = (side: number) => ({
  x: { type: 'float32' as const, data: new Float32Array(3 * side * side).fill(0.5), dims: [1, 3, side, side] },
});
const tinyBody = { inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: Array.from({ length: 16 }, () => 0.25) }] };

describe('createInferenceServer', () => {
  it('a full queue answers 503 with Retry-After at once; queued requests still complete', async () => {
    const { url, inference } = await start({ workers: 1, queueLimit: 1 });
    const first = infer(`${url}/v2/models/ppocr-v4-det/infer`, { inputs: [] }, { binaryInputs: det(640) });
    await waitFor('the first request to occupy the worker', () => inference.pool.busy === 1, { intervalMs: 5 });
    const second = infer(`${url}/v2/models/ppocr-v4-det/infer`, { inputs: [] }, { binaryInputs: det(320) });
    await waitFor('the second request to be queued', () => inference.pool.queued === 1, { intervalMs: 5 });
    const third = await infer(`${url}/v2/models/tiny-mlp/infer`, tinyBody);
    expect(third.status).toBe(503);
    expect(third.json.code).toBe('QUEUE_FULL');
    expect(third.headers.get('retry-after')).toBe('1');
    expect(inference.pool.busy).toBe(1); // the refusal did not wait for the worker
    const [a, b] = await Promise.all([first, second]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.outputs['sigmoid_0.tmp_0'].dims).toEqual([1, 1, 640, 640]);
    expect((await infer(`${url}/v2/models/tiny-mlp/infer`, tinyBody)).status).toBe(200);
  });

  it('a worker process that dies fails only its request with WORKER_CRASHED; a new process takes the next one', async () => {
    const { url, inference } = await start({ workers: 1, queueLimit: 4 });
    const running = infer(`${url}/v2/models/ppocr-v4-det/infer`, { inputs: [] }, { binaryInputs: det(640) });
    await waitFor('the request to occupy the worker', () => inference.pool.busy === 1 && inference.pool.processIds.length === 1, {
      intervalMs: 5,
    });
    const [dying] = inference.pool.processIds;
    process.kill(dying, 'SIGKILL');
    const crashed = await running;
    expect(crashed.status).toBe(500);
    expect(crashed.json.code).toBe('WORKER_CRASHED');
    await waitFor('a new process', () => inference.pool.processIds.length === 1, { intervalMs: 5 });
    expect(inference.pool.processIds[0]).not.toBe(dying);
    expect(inference.pool.size).toBe(1);
    expect((await infer(`${url}/v2/models/tiny-mlp/infer`, tinyBody)).status).toBe(200);
  });

  it('off loopback /v2 needs the Bearer token and is rate-limited per client', async () => {
    const { url } = await start({ host: '0.0.0.0', apiToken: 'secret-token', rateLimit: { perSecond: 0.001, burst: 3 } });
    const without = await fetch(`${url}/v2/health/live`);
    expect(without.status).toBe(401);
    expect((await without.json()).code).toBe('UNAUTHORIZED');
    expect((await fetch(`${url}/v2/health/live`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const auth = { authorization: 'Bearer secret-token' };
    expect((await infer(`${url}/v2/models/tiny-mlp/infer`, tinyBody, { headers: auth })).status).toBe(200);
    expect((await fetch(`${url}/v2/health/live`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${url}/v2/health/live`, { headers: auth })).status).toBe(200);
    const limited = await fetch(`${url}/v2/health/live`, { headers: auth });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('off loopback without a configured token, /v2 stays closed', async () => {
    const { url } = await start({ host: '0.0.0.0' });
    expect((await fetch(`${url}/v2/health/live`, { headers: { authorization: 'Bearer anything' } })).status).toBe(401);
  });

  it('records each inference with backend "server" and the caller’s ids, or the server’s own', async () => {
    const records: ServerInferenceRecord[] = [];
    const { url } = await start({ recordInference: (event) => records.push(event) });
    const headers = { 'x-ondevice-install-id': 'install-abc', 'x-ondevice-session-id': 'session-xyz' };
    expect((await infer(`${url}/v2/models/tiny-mlp/infer`, { ...tinyBody, id: 'r1' }, { headers })).status).toBe(200);
    expect((await infer(`${url}/v2/models/tiny-mlp/infer`, tinyBody)).status).toBe(200);
    expect((await infer(`${url}/v2/models/tiny-mlp/infer`, { inputs: [] })).status).toBe(400);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      type: 'inference',
      backend: 'server',
      modelId: 'tiny-mlp',
      modelVersion: '1',
      installId: 'install-abc',
      sessionId: 'session-xyz',
      requestId: 'r1',
      inputDims: { x: [1, 16] },
    });
    expect(records[0].ms).toBeGreaterThan(0);
    expect(records[1].installId).toMatch(/^server-/);
    expect(records[1].sessionId).not.toBe('session-xyz');
  });

  it('dynamic batching merges concurrent requests into one run and answers each exactly as alone', async () => {
    const { url, inference } = await start({ workers: 1, batching: { maxBatch: 8, maxDelayMs: 2000 } });
    const rows = [1, 2, 1, 3, 1];
    const tensors = rows.map((n, r) => Float32Array.from({ length: n * 16 }, (_, k) => Math.sin(r * 100 + k)));
    const answers = await Promise.all(
      tensors.map((data, r) =>
        infer(`${url}/v2/models/tiny-mlp/infer`, {
          id: `b${r}`,
          inputs: [{ name: 'x', shape: [rows[r], 16], datatype: 'FP32', data: [...data] }],
        }),
      ),
    );
    for (const [r, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(answer.json.id).toBe(`b${r}`);
      const want = await runReference(path.join(modelsDir, 'tiny-mlp.onnx'), {
        x: { type: 'float32', data: tensors[r], dims: [rows[r], 16] },
      });
      expect(answer.outputs.probs.dims).toEqual([rows[r], 4]);
      expect(answer.outputs.probs.data).toEqual(expectedJsonValues(want.probs));
    }
    expect(inference.batcher!.stats.requests).toBe(5);
    expect(inference.batcher!.stats.runs).toBeLessThan(5);
    // A model without a leading batch dim on every tensor runs alone.
    const counter = await infer(`${url}/v2/models/counter/infer`, {
      inputs: [
        { name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
        { name: 'state', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] },
      ],
    });
    expect(counter.status).toBe(200);
  });
});
