// A standalone `ondevice serve --collector URL` posts its inferences to a real collector process, and the
// queue in between is bounded: what it cannot deliver is dropped, counted and logged, never silently.
import Database from 'better-sqlite3';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverToCollector } from '../../src/inference/collectorDelivery';
import { InferenceEventQueue } from '../../src/inference/InferenceEventQueue';
import type { ServerInferenceRecord } from '../../src/inference/ServerInferenceRecord';
import { startCollector, type StartedCollector } from '../collector/startCollector';
import { spawnServer, type SpawnedServer } from '../helpers/spawnServer';
import { infer } from './v2client';
import { waitFor } from '../helpers/waitFor';

let collector: StartedCollector;
let serve: SpawnedServer;

beforeAll(async () => {
  collector = await startCollector({ env: { COLLECTOR_SITE_KEYS: 'edge' } });
  serve = await spawnServer(process.execPath, ['bin/ondevice.mjs', 'serve', '--workers', '1', '--collector', collector.url], {
    env: { ONDEVICE_COLLECTOR_SITE_KEY: 'edge' },
  });
});
afterAll(async () => {
  await serve?.stop();
  await collector?.stop();
  collector?.cleanup();
});

const record = (i: number): ServerInferenceRecord => ({
  type: 'inference',
  backend: 'server',
  timestamp: Date.now(),
  installId: 'server-test',
  sessionId: 'server-test-session',
  modelId: 'tiny-mlp',
  modelVersion: '1',
  ms: 0.5 + i,
  inputDims: { x: [1, 16] },
});

describe('ondevice serve --collector', () => {
  it('posts each inference to the collector with backend "server" and the caller ids', async () => {
    expect(serve.output()).toContain(`telemetry to ${collector.url}`);
    const body = { inputs: [{ name: 'x', shape: [2, 16], datatype: 'FP32', data: Array.from({ length: 32 }, () => 1) }] };
    const headers = { 'x-ondevice-install-id': 'phone-42', 'x-ondevice-session-id': 'visit-9' };
    for (let i = 0; i < 2; i++) expect((await infer(`${serve.url}/v2/models/tiny-mlp/infer`, body, { headers })).status).toBe(200);

    await waitFor('two server inferences in the collector summary', async () => {
      const summary = await (await fetch(`${collector.url}/v1/summary`)).json();
      return summary.groups.some((g: any) => g.modelId === 'tiny-mlp' && g.backend === 'server' && g.count === 2) || undefined;
    });
    const db = new Database(collector.dbPath, { readonly: true });
    try {
      const rows = db
        .prepare(`SELECT site_key AS siteKey, install_id AS installId, session_id AS sessionId, payload FROM events`)
        .all() as any[];
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row).toMatchObject({ siteKey: 'edge', installId: 'phone-42', sessionId: 'visit-9' });
        expect(JSON.parse(row.payload)).toMatchObject({ type: 'inference', backend: 'server', inputDims: { x: [2, 16] }, output: {} });
      }
    } finally {
      db.close();
    }
  });
});

describe('InferenceEventQueue', () => {
  it('bounds what it holds for an unreachable collector: the excess and the rest at close are dropped and counted', async () => {
    const port = await closedPort();
    const log: string[] = [];
    const queue = new InferenceEventQueue({
      deliver: deliverToCollector({ url: `http://127.0.0.1:${port}`, siteKey: 'edge', timeoutMs: 2000 }),
      maxQueued: 3,
      flushDelayMs: 10,
      minRetryMs: 50,
      log: (line) => log.push(line),
    });
    for (let i = 0; i < 5; i++) queue.record(record(i));
    expect(queue.stats).toMatchObject({ queued: 3, dropped: 2 });
    await waitFor('a failed delivery', () => queue.stats.failedDeliveries > 0);
    const stats = await queue.close(300);
    expect(stats).toMatchObject({ queued: 0, delivered: 0, dropped: 5 });
    expect(log.join('\n')).toMatch(/dropped 1 event\(s\): the queue is full/);
    expect(log.join('\n')).toMatch(/ECONNREFUSED/);
    expect(log.join('\n')).toMatch(/\(5 in all\)/);
  });

  it("sends a full batch at once, not at the end of the first event's wait", async () => {
    const queue = new InferenceEventQueue({
      deliver: deliverToCollector({ url: collector.url, siteKey: 'edge' }),
      maxBatch: 2,
      flushDelayMs: 600_000,
    });
    queue.record(record(4));
    queue.record(record(5));
    await waitFor('the full batch to be delivered', () => queue.stats.delivered === 2, { timeoutMs: 10_000 });
    expect(await queue.close(1000)).toMatchObject({ delivered: 2, dropped: 0 });
  });

  it('drops a batch the collector refuses for good (unknown site key) and counts it; delivers the next', async () => {
    const log: string[] = [];
    const refused = new InferenceEventQueue({
      deliver: deliverToCollector({ url: collector.url, siteKey: 'not-a-key' }),
      log: (l) => log.push(l),
    });
    refused.record(record(0));
    refused.record(record(1));
    await refused.flush();
    expect(refused.stats).toMatchObject({ queued: 0, delivered: 0, dropped: 2, failedDeliveries: 1 });
    expect(log.join('\n')).toContain('403 UNKNOWN_SITE_KEY');

    const accepted = new InferenceEventQueue({
      deliver: deliverToCollector({ url: `${collector.url}/v1/events`, siteKey: 'edge' }),
      log: (l) => log.push(l),
    });
    accepted.record(record(2));
    accepted.record({ ...record(3), inputDims: { x: [1, 2 ** 40] } }); // past the schema's dim limit: never sent
    await accepted.flush();
    expect(accepted.stats).toMatchObject({ queued: 0, delivered: 1, dropped: 1 });
  });
});

/** A port nothing listens on: bound once, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
