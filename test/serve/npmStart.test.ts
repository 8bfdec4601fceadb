// `npm start` (src/start/main.ts) answers the Open Inference Protocol on the same port as the rest, and
// its collector stores every answered inference as an `inference` event with backend 'server'.
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startAppServer } from '../helpers/appServer';
import type { SpawnedServer } from '../helpers/spawnServer';
import { infer } from './v2client';
import { waitFor } from '../helpers/waitFor';

// Each test has its own server and database: the telemetry test counts every server inference there is.
let dbPath: string;
let server: SpawnedServer;
beforeEach(async () => {
  dbPath = path.join(mkdtempSync(path.join(tmpdir(), 'ondevice-npmstart-')), 'collector.sqlite');
  server = await startAppServer({ ONDEVICE_WORKERS: '1', COLLECTOR_DB_PATH: dbPath });
});
afterEach(async () => server?.stop());

const tinyMlpBody = { inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: Array.from({ length: 16 }, () => 0) }] };

it('serves /v2 next to the app, the models and the collector', async () => {
  expect(await (await fetch(`${server.url}/v2/health/ready`)).json()).toEqual({ ready: true });
  const answer = await infer(`${server.url}/v2/models/tiny-mlp/infer`, tinyMlpBody);
  expect(answer.status).toBe(200);
  expect(answer.outputs.probs.dims).toEqual([1, 4]);
  expect((await fetch(`${server.url}/models/registry.json`)).status).toBe(200);
  expect((await fetch(`${server.url}/v1/summary`)).status).toBe(200);
});

it('records server inferences as telemetry: backend "server" in the summary and the dashboard, with the caller ids when sent', async () => {
  const caller = { 'x-ondevice-install-id': 'caller-install-7', 'x-ondevice-session-id': 'caller-session-7' };
  expect((await infer(`${server.url}/v2/models/tiny-mlp/infer`, tinyMlpBody)).status).toBe(200);
  for (let i = 0; i < 3; i++)
    expect((await infer(`${server.url}/v2/models/tiny-mlp/infer`, tinyMlpBody, { headers: caller })).status).toBe(200);

  // 1 without headers + 3 with the caller's ids.
  const group = await waitFor('four tiny-mlp inferences with backend "server" in /v1/summary', async () => {
    const summary = await (await fetch(`${server.url}/v1/summary`)).json();
    const found = summary.groups.find((g: { modelId: string; backend: string }) => g.modelId === 'tiny-mlp' && g.backend === 'server');
    return found?.count === 4 ? found : undefined;
  });
  expect(group).toMatchObject({ modelVersion: '1', backendShare: 1 });
  expect(group.latencyMs.p50).toBeGreaterThanOrEqual(0);

  const dashboard = await (await fetch(`${server.url}/dashboard/data.json`)).json();
  const serverBuckets: number[] = dashboard.latency.backends.server;
  expect(serverBuckets.reduce((a, b) => a + b, 0)).toBe(4);

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  expect(metrics).toMatch(/ondevice_inference_duration_seconds_count\{[^}]*model_id="tiny-mlp"[^}]*backend="server"[^}]*\} 4/);

  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db
      .prepare(
        `SELECT install_id AS installId, session_id AS sessionId, COUNT(*) AS n FROM events
                WHERE type = 'inference' AND backend = 'server' GROUP BY install_id, session_id ORDER BY n`,
      )
      .all() as { installId: string; sessionId: string; n: number }[];
    expect(rows).toHaveLength(2);
    expect(rows[0].installId).toMatch(/^server-[0-9a-f-]{36}$/);
    expect(rows[0].n).toBe(1);
    expect(rows[1]).toEqual({ installId: 'caller-install-7', sessionId: 'caller-session-7', n: 3 });
  } finally {
    db.close();
  }
});
