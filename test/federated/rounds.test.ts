// The federated rounds against the real `npm start` server: the client endpoints and every refusal with its stable
// code, a job's rounds closing at their target or their deadline, a round with too few clients ending the job
// without a candidate. The clients are simulated in Node (simulatedClient.ts) with the maths of the page's worker.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoundOffer } from '../../src/core/schema/FederatedRound';
import { cornerDigits } from '../../src/retrain/digits/drift';
import type { Job } from '../../src/retrain/JobStore';
import { labelledPrediction } from '../collector/makeEvents';
import { postEvents } from '../collector/startCollector';
import { waitFor } from '../helpers/waitFor';
import { startAppServer } from '../helpers/appServer';
import type { SpawnedServer } from '../helpers/spawnServer';
import { simulatedUpdate, type ClientData } from '../../scripts/federated/simulatedClient';

const dir = mkdtempSync(path.join(tmpdir(), 'ondevice-federated-rounds-'));
let server: SpawnedServer;
const round = (install: string, key = 'demo') => `${server.url}/v1/federated/digits/round?install=${install}&key=${key}`;
const updates = (roundId: string, install: string, key = 'demo') =>
  `${server.url}/v1/federated/digits/rounds/${roundId}/updates?install=${install}&key=${key}`;
const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const json = async (r: Response) => ({
  status: r.status,
  body: (await r.json()) as { code?: string; error?: string } & Record<string, unknown>,
});

async function startJob(rounds?: number): Promise<Job> {
  const r = await fetch(`${server.url}/v1/federated/digits/rounds`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rounds === undefined ? {} : { rounds }),
  });
  expect(r.status, await r.clone().text()).toBe(202);
  return ((await r.json()) as { job: Job }).job;
}

async function offerFor(install: string): Promise<RoundOffer> {
  return waitFor(
    `a round for ${install}`,
    async () => {
      const r = await fetch(round(install));
      if (r.status === 204) return undefined;
      expect(r.status).toBe(200);
      return (await r.json()) as RoundOffer;
    },
    { timeoutMs: 30_000 },
  );
}

async function finished(jobId: string): Promise<Job> {
  return waitFor(
    `job ${jobId} to finish`,
    async () => {
      const { job } = (await (await fetch(`${server.url}/v1/jobs/${jobId}`)).json()) as { job: Job };
      return job.state === 'running' || job.state === 'queued' ? undefined : job;
    },
    { timeoutMs: 120_000 },
  );
}

/**
 * Three clients with 30 corner digits each, features from the stable version's variant (as a page's worker
 * computes them), read from the manifest before any round opens.
 */
async function simulatedClients(): Promise<ClientData[]> {
  const manifest = (await (await fetch(`${server.url}/v1/manifest?install=sim`)).json()) as {
    models: { digits: { trainable: { variant: { url: string; sha256: string }; features: string; output: string } } };
  };
  const { trainable } = manifest.models.digits;
  const offer = { model: trainable };
  const variant = new Uint8Array(await (await fetch(new URL(trainable.variant.url, server.url))).arrayBuffer());
  expect(createHash('sha256').update(variant).digest('hex')).toBe(trainable.variant.sha256);
  const session = await ort.InferenceSession.create(variant);
  try {
    const digits = cornerDigits(90, 5, 'train');
    const pixels = new Float32Array(90 * 784);
    digits.forEach((d, i) => pixels.set(d.pixels, i * 784));
    const out = await session.run({ image: new ort.Tensor('float32', pixels, [90, 1, 28, 28]) });
    const features = out[offer.model.features].data as Float32Array;
    const probabilities = out[offer.model.output].data as Float32Array;
    return [0, 1, 2].map((c) => {
      const rows = Array.from({ length: 30 }, (_, i) => c * 30 + i);
      return {
        installId: `sim-${c}`,
        features: Float32Array.from(rows.flatMap((r) => Array.from(features.subarray(r * 1152, (r + 1) * 1152)))),
        labels: rows.map((r) => digits[r].label),
        heldBack: rows.map((_, i) => i % 5 === 4),
        current: rows.map((r) => {
          const p = probabilities.subarray(r * 10, (r + 1) * 10);
          return p.indexOf(Math.max(...p));
        }),
      };
    });
  } finally {
    await session.release();
  }
}

beforeAll(async () => {
  writeFileSync(
    path.join(dir, 'retrain.json'),
    JSON.stringify({
      models: {
        digits: {
          mode: 'federated',
          evaluator: 'digits',
          minFieldSamples: 1,
          cooldownMs: 0,
          triggers: { accuracyAlert: false },
          federated: { rounds: 2, targetClients: 3, minClients: 2, roundTimeoutMs: 4000, epochs: 2, learningRate: 0.01 },
        },
      },
    }),
  );
  server = await startAppServer({ ONDEVICE_RETRAIN_CONFIG: path.join(dir, 'retrain.json'), ONDEVICE_FEDERATED_POLL_MS: '50' });
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe('federated rounds over HTTP', () => {
  it('offers no round without a job; refuses a bad site key or install id', async () => {
    expect((await fetch(round('install-a'))).status).toBe(204);
    expect(await json(await fetch(round('install-a', 'nope')))).toMatchObject({ status: 403, body: { code: 'UNKNOWN_SITE_KEY' } });
    expect(await json(await fetch(`${server.url}/v1/federated/digits/round?install=a`))).toMatchObject({
      status: 403,
      body: { code: 'UNKNOWN_SITE_KEY' },
    });
    expect(await json(await fetch(round('bad%20id')))).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT' } });
  });

  it('a job offers the head and the variant; every malformed update is refused with its code and never counted', async () => {
    const [client] = await simulatedClients();
    const job = await startJob();
    const offer = await offerFor('install-a');
    expect(offer).toMatchObject({ kind: 'train', modelId: 'digits', version: '1', head: { features: 1152, classes: 10 }, minExamples: 10 });
    expect(offer.head.W).toHaveLength(11520);
    expect(offer.model).toMatchObject({ features: 'flat', output: 'probabilities' });
    expect(offer.deadlineMs).toBeGreaterThan(0);
    expect(offer.model.url).toBe('/v1/releases/digits/1/model.features.onnx');
    const good = { ...(simulatedUpdate(client, offer) as { dW: number[]; db: number[] }), installId: 'install-a' };

    const refusals: [unknown, number, string][] = [
      ['{not json', 400, 'INVALID_INPUT'],
      [{ ...good, dW: good.dW.slice(1) }, 400, 'WRONG_SHAPE'],
      [{ ...good, db: [...good.db, 0] }, 400, 'WRONG_SHAPE'],
      [JSON.stringify(good).replace(/"dW":\[[^,]*,/, '"dW":[1e999,'), 400, 'NOT_FINITE'],
      [{ ...good, examples: 3 }, 422, 'TOO_FEW_EXAMPLES'],
      [{ ...good, installId: 'someone-else' }, 400, 'INVALID_INPUT'],
      [{ ...good, extra: 1 }, 400, 'INVALID_INPUT'],
      [{ ...good, dW: [...good.dW, ...good.dW, ...good.dW] }, 413, 'BODY_TOO_LARGE'],
    ];
    for (const [body, status, code] of refusals) {
      expect(await json(await post(updates(offer.roundId, 'install-a'), body)), code).toMatchObject({ status, body: { code } });
    }
    expect(await json(await post(updates('no-such-round', 'install-a'), good))).toMatchObject({
      status: 404,
      body: { code: 'UNKNOWN_ROUND' },
    });
    const counted = async () =>
      ((await (await fetch(`${server.url}/v1/federated/digits/rounds?job=${job.id}`)).json()) as { rounds: { updates?: number }[] })
        .rounds[0].updates;
    expect(await counted()).toBe(0);
    expect((await post(updates(offer.roundId, 'install-a'), good)).status).toBe(202);
    expect(await counted()).toBe(1);
    expect(await json(await post(updates(offer.roundId, 'install-a'), good))).toMatchObject({
      status: 409,
      body: { code: 'DUPLICATE_UPDATE' },
    });
    // Answered: this install is offered nothing more in this round.
    expect((await fetch(round('install-a'))).status).toBe(204);

    // No other client comes: the round ends at its deadline with 1 client, below minClients, and the job says so.
    const done = await finished(job.id);
    expect(done.state).toBe('refused');
    expect(done.reason).toMatch(/round 1 \(train\) ended with 1 client \(need 2 by 4000 ms\): no candidate/);
    expect(await json(await post(updates(offer.roundId, 'install-b'), { ...good, installId: 'install-b' }))).toMatchObject({
      status: 409,
      body: { code: 'ROUND_CLOSED' },
    });
    const listed = (await (await fetch(`${server.url}/v1/federated/digits/rounds?job=${job.id}`)).json()) as {
      rounds: { seq: number; state: string; summary: { clients: number } }[];
    };
    expect(listed.rounds).toEqual([expect.objectContaining({ seq: 1, state: 'closed', summary: expect.objectContaining({ clients: 1 }) })]);
  }, 120_000);

  it('runs a whole job: rounds close at their target, or at the deadline without a client that went away; then the gate', async () => {
    const clients = await simulatedClients();
    const job = await startJob(2);
    let offer = await offerFor('sim-0');
    const answered: string[] = [];
    for (let seq = 1; seq <= 3; seq++) {
      // In round 2 the third client has gone: the round waits for it only until its deadline.
      const present = seq === 2 ? clients.slice(0, 2) : clients;
      for (const c of present) {
        const o = seq === 1 && c === clients[0] ? offer : await offerFor(c.installId);
        expect(o.kind).toBe(seq === 3 ? 'evaluate' : 'train');
        const r = await post(updates(o.roundId, c.installId), simulatedUpdate(c, o));
        expect(r.status, await r.text()).toBe(202);
        answered.push(o.roundId);
      }
      if (seq < 3) offer = await offerFor('sim-0');
    }
    const done = await finished(job.id);
    expect(['succeeded', 'refused']).toContain(done.state);
    const rounds = (done.metrics as { rounds: { round: number; kind: string; clients: number; closedBy: string; updateNorm?: number }[] })
      .rounds;
    expect(rounds.map((r) => [r.round, r.kind, r.clients, r.closedBy])).toEqual([
      [1, 'train', 3, 'target'],
      [2, 'train', 2, 'deadline'],
      [3, 'evaluate', 3, 'target'],
    ]);
    expect(rounds[0].updateNorm).toBeGreaterThan(0);
    expect(done.metrics).toMatchObject({ mode: 'federated', baseAccuracy: { count: 1996 }, fieldAccuracy: { count: 18 } });
    expect(done.logTail).toMatch(/round 1\/2 \(train\): 3 clients, 72 examples, update norm/);
    expect(done.logTail).toMatch(/gate: /);
  }, 180_000);
});

describe('federated jobs started by the accuracy alert; rounds under the per-install limit', () => {
  let alerting: SpawnedServer;
  beforeAll(async () => {
    writeFileSync(
      path.join(dir, 'retrain-alert.json'),
      JSON.stringify({
        models: {
          digits: {
            mode: 'federated',
            evaluator: 'digits',
            cooldownMs: 0,
            triggers: { accuracyAlert: true },
            federated: { rounds: 1, targetClients: 3, minClients: 3, roundTimeoutMs: 30_000 },
          },
        },
      }),
    );
    writeFileSync(
      path.join(dir, 'alerts.json'),
      JSON.stringify({
        evaluationIntervalMs: 200,
        rules: [{ name: 'accuracy-drop', metric: 'accuracy', op: '<', threshold: 0.9, windowMs: 3_600_000, minSamples: 20 }],
      }),
    );
    alerting = await startAppServer({
      ONDEVICE_RETRAIN_CONFIG: path.join(dir, 'retrain-alert.json'),
      COLLECTOR_ALERT_RULES: path.join(dir, 'alerts.json'),
      COLLECTOR_EVAL_THROTTLE_MS: '100',
      COLLECTOR_MAX_FEEDBACK_PER_INSTALL: '100',
      ONDEVICE_FEDERATED_INSTALL_REQUESTS_PER_MINUTE: '3',
    });
  }, 60_000);
  afterAll(async () => {
    await alerting?.stop();
  });

  it('the accuracy alert starts a federated job: its first round is offered', async () => {
    const events = Array.from({ length: 30 }, (_, i) =>
      labelledPrediction({ modelId: 'digits', predicted: i % 10, correct: i % 3 === 0, installId: 'install-alert' }),
    ).flat();
    expect((await postEvents(alerting.url, { siteKey: 'demo', events })).status).toBe(200);
    const job = await waitFor(
      'a job started by the alert',
      async () => ((await (await fetch(`${alerting.url}/v1/jobs?model=digits`)).json()) as { jobs: Job[] }).jobs[0],
      { timeoutMs: 30_000 },
    );
    expect(job).toMatchObject({ trigger: 'accuracy-alert', modelId: 'digits' });
    let probe = 0;
    const offer = await waitFor(
      'the first round',
      async () => {
        const r = await fetch(`${alerting.url}/v1/federated/digits/round?install=probe-${++probe}&key=demo`);
        return r.status === 200 ? ((await r.json()) as RoundOffer) : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(offer.kind).toBe('train');
    // 3 round requests a minute per install here: the fourth in a row is refused, with when to come back.
    const asks = [];
    for (let i = 0; i < 4; i++) asks.push(await fetch(`${alerting.url}/v1/federated/digits/round?install=limited&key=demo`));
    expect(asks.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(asks[3].headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await asks[3].json()) as { code: string }).code).toBe('RATE_LIMITED');
    // Another install is not held back by that one.
    expect((await fetch(`${alerting.url}/v1/federated/digits/round?install=other&key=demo`)).status).toBe(200);
  }, 120_000);
});
