// Names every object inherits (`toString`, `constructor`, `__proto__`, `hasOwnProperty`, …) used as model
// ids against the real `npm start` process: never found as a configured model, never a failed job or a
// failing listener, and no built-in prototype changes in the server.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceEvent, feedbackEvent } from '../collector/makeEvents';
import { postEvents } from '../collector/startCollector';
import { startAppServer } from '../helpers/appServer';
import type { SpawnedServer } from '../helpers/spawnServer';
import { waitFor } from '../helpers/waitFor';

const INHERITED = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'toLocaleString'];
let server: SpawnedServer;

beforeAll(async () => {
  // The probe reports on the server's own prototypes (SIGUSR2): see test/collector/prototypeProbe.mjs.
  const probe = `--import=${pathToFileURL('test/collector/prototypeProbe.mjs').href}`;
  server = await startAppServer({ NODE_OPTIONS: [process.env.NODE_OPTIONS, probe].filter(Boolean).join(' ') });
});
afterAll(async () => {
  await server?.stop();
});

/** Everything the server printed up to now, and the built-in prototype properties it changed since it started. */
async function settledOutput(): Promise<{ output: string; changed: string[] }> {
  const seen = server.output().split('prototype-probe ').length;
  server.process.kill('SIGUSR2');
  const line = await waitFor(
    'the prototype probe of the server process',
    async () => {
      const parts = server.output().split('prototype-probe ');
      return parts.length > seen ? parts[parts.length - 1].split('\n')[0] : undefined;
    },
    { timeoutMs: 10_000 },
  );
  return { output: server.output(), changed: JSON.parse(line) as string[] };
}

const startJob = (model: string) =>
  fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model }) });

describe('names inherited from Object.prototype are never models', () => {
  it('POST /v1/jobs {"model": "toString"} (and the others) is 404 UNKNOWN_MODEL: no job, no alert', async () => {
    for (const model of INHERITED) {
      const res = await startJob(model);
      expect({ model, status: res.status, body: await res.json() }).toMatchObject({ model, status: 404, body: { code: 'UNKNOWN_MODEL' } });
    }
    expect((await (await fetch(`${server.url}/v1/jobs`)).json()).jobs).toEqual([]);
    const alerts = await (await fetch(`${server.url}/v1/alerts`)).json();
    expect([...alerts.firing, ...alerts.history].filter((a: { rule: string }) => a.rule === 'retrain-job-failed')).toEqual([]);
  });

  it('a model published as `constructor` is a release like any other, and still has no retraining configured', async () => {
    const bytes = readFileSync('public/models/tiny-mlp.onnx');
    for (const id of ['constructor', 'hasownproperty']) {
      const published = await fetch(`${server.url}/v1/releases/${id}/1`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      expect(published.status, await published.clone().text()).toBe(201);
      const status = await (await fetch(`${server.url}/v1/releases/${id}`)).json();
      expect(status).toMatchObject({ stable: '1' });
      const manifest = await (await fetch(`${server.url}/v1/manifest?install=${randomUUID()}`)).json();
      expect(manifest.models[id]).toMatchObject({ id, version: '1', state: 'stable' });
      const job = await startJob(id);
      expect({ id, status: job.status, body: await job.json() }).toMatchObject({ id, status: 404, body: { code: 'UNKNOWN_MODEL' } });
    }
    expect((await (await fetch(`${server.url}/v1/jobs`)).json()).jobs).toEqual([]);
  });

  it('`sample` events with modelId "toString" are stored, and no listener fails', async () => {
    const events = INHERITED.filter((id) => /^[a-z0-9]/i.test(id)).flatMap((modelId) => {
      const predictionId = randomUUID();
      const common = { modelId, modelVersion: '1', installId: `install-${modelId}` };
      return [
        inferenceEvent({ ...common, predictionId, topClass: 1 }),
        feedbackEvent({ ...common, predictionId, label: 2, predicted: 1 }),
        {
          type: 'sample',
          id: randomUUID(),
          ts: Date.now(),
          sessionId: 'session-1',
          ...common,
          predictionId,
          label: 2,
          predicted: 1,
          inputs: { x: { type: 'float32', dims: [1, 16], data: new Array(16).fill(0.5) } },
        },
      ];
    });
    const r = await postEvents(server.url, { siteKey: 'demo', events });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ accepted: events.length, rejected: [], deferred: [] });
    const summary = await (await fetch(`${server.url}/v1/summary`)).json();
    expect(summary.models.map((m: { modelId: string }) => m.modelId)).toEqual(expect.arrayContaining(['toString', 'constructor']));
    const { output, changed } = await settledOutput();
    expect(output).not.toMatch(/listener failed|TypeError/);
    expect(changed).toEqual([]);
  });
});
