// Horizontal scaling: two stateless `ondevice serve` processes behind a plain round-robin HTTP proxy.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeReferenceSessions, runReference } from '../helpers/reference';
import { spawnServer, type SpawnedServer } from '../helpers/spawnServer';
import { infer } from './v2client';

let backends: SpawnedServer[] = [];
let balancer: Server;
let balancerUrl: string;
const served = [0, 0];

beforeAll(async () => {
  backends = await Promise.all([0, 1].map(() => spawnServer(process.execPath, ['bin/ondevice.mjs', 'serve', '--workers', '1'])));
  let next = 0;
  // Any HTTP load balancer works (nginx, HAProxy, a cloud LB); this is the smallest one.
  balancer = createServer((req, res) => {
    const index = next++ % backends.length;
    served[index]++;
    const target = new URL(req.url ?? '/', backends[index].url);
    const upstream = request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => res.writeHead(502).end(error.message));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => balancer.listen(0, '127.0.0.1', resolve));
  balancerUrl = `http://127.0.0.1:${(balancer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  balancer?.closeAllConnections();
  await new Promise((resolve) => balancer?.close(resolve));
  await Promise.all(backends.map((b) => b.stop()));
  await closeReferenceSessions();
});

it('two instances serve one load; every answer is right whichever instance gave it', async () => {
  const rows = Array.from({ length: 40 }, (_, i) => Float32Array.from({ length: 16 }, (_, k) => Math.cos(i + k)));
  // 8 clients in parallel, each sending its share one request after another: at most 8 in flight, which
  // each instance's bounded queue (8 per worker) holds, so no request is turned away with a 503.
  const answers: Awaited<ReturnType<typeof infer>>[] = [];
  let nextRow = 0;
  const client = async () => {
    for (let i = nextRow++; i < rows.length; i = nextRow++) {
      const body = { id: `r${i}`, inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: [...rows[i]] }] };
      answers[i] = await infer(`${balancerUrl}/v2/models/tiny-mlp/infer`, body);
    }
  };
  await Promise.all(Array.from({ length: 8 }, client));
  for (const [i, answer] of answers.entries()) {
    expect(answer.status).toBe(200);
    expect(answer.json.id).toBe(`r${i}`);
    const want = await runReference('public/models/tiny-mlp.onnx', { x: { type: 'float32', data: rows[i], dims: [1, 16] } });
    expect(answer.outputs.probs.data).toEqual([...(want.probs.data as Float32Array)]);
  }
  expect(served).toEqual([20, 20]);
  for (const b of backends) expect(b.process.exitCode).toBeNull();
});
