// Federated fine-tuning on the device, in real Chromium against the real `npm start`: labelled inputs stay in the
// local example store (IndexedDB, bounded, cleared on request and with the model's data), only the label goes on
// the wire, and in idle time the page answers a round with a head update its worker computed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleHash } from '../../src/client/federated/exampleHash';
import { cornerDigits } from '../../src/retrain/digits/drift';
import type { Job } from '../../src/retrain/JobStore';
import { waitFor } from '../helpers/waitFor';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';

const dir = mkdtempSync(path.join(tmpdir(), 'ondevice-federated-client-'));
let session: BrowserSession;

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
          federated: { rounds: 1, targetClients: 1, minClients: 1, roundTimeoutMs: 60_000, minLocalExamples: 10 },
        },
      },
    }),
  );
  // The page polls every 200 ms here, past the default per-install limit (60 a minute).
  session = await startBrowserSession({
    env: {
      ONDEVICE_RETRAIN_CONFIG: path.join(dir, 'retrain.json'),
      ONDEVICE_FEDERATED_POLL_MS: '50',
      ONDEVICE_FEDERATED_INSTALL_REQUESTS_PER_MINUTE: '0',
    },
  });
}, 120_000);
afterAll(async () => {
  await session?.close();
});

/** Every request body the page sends, as text. */
function recordBodies(page: Page): string[] {
  const bodies: string[] = [];
  page.on('request', (r) => {
    const body = r.postData();
    if (body !== null) bodies.push(`${r.method()} ${new URL(r.url()).pathname} ${body}`);
  });
  return bodies;
}

/** Run digits on `count` corner digits and report each label with its input, with `telemetry` configured. */
async function drawAndReport(page: Page, count: number, telemetry: Record<string, unknown>) {
  const digits = cornerDigits(count, 3, 'train').map((d) => ({ pixels: Array.from(d.pixels), label: d.label }));
  return page.evaluate(
    async ({ digits, telemetry }) => {
      const O = (window as any).OnDevice;
      O.configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo', ...telemetry } });
      const model = await O.loadModel('digits', { backend: 'wasm', warmup: false });
      for (const d of digits) {
        const image = { type: 'float32', data: new Float32Array(d.pixels), dims: [1, 1, 28, 28] };
        await model.run({ image }, { transfer: false });
        O.reportFeedback({
          modelId: 'digits',
          modelVersion: model.version,
          predictionId: model.lastPredictionId,
          label: d.label,
          input: image,
        });
      }
      await O.flushTelemetry();
      return { version: model.version };
    },
    { digits, telemetry },
  );
}

const kept = (page: Page) => page.evaluate(async () => (await (window as any).OnDevice.__testing.localExamples('digits')).length as number);

describe('federated: on the device', () => {
  it('keeps labelled inputs on the device, bounded per version, and sends only the feedback', async () => {
    const page = await session.open();
    const wire = recordBodies(page);
    await drawAndReport(page, 5, { federated: { maxExamplesPerVersion: 3, pollIntervalMs: 60_000 } });
    await waitFor('three kept examples', async () => ((await kept(page)) === 3 ? true : undefined), { timeoutMs: 10_000 });
    const oldestFirst = await page.evaluate(async () =>
      (
        (await (window as any).OnDevice.__testing.localExamples('digits')) as {
          label: number;
          version: string;
          inputs: { image: { dims: number[] } };
        }[]
      ).map((e) => [e.label, e.version, e.inputs.image.dims]),
    );
    const labels = cornerDigits(5, 3, 'train').map((d) => d.label);
    expect(oldestFirst).toEqual(labels.slice(2).map((l) => [l, '1', [1, 1, 28, 28]]));
    const events = wire
      .filter((b) => b.startsWith('POST /v1/events'))
      .flatMap((b) => JSON.parse(b.slice(b.indexOf('{'))).events as { type: string }[]);
    expect(events.filter((e) => e.type === 'feedback')).toHaveLength(5);
    expect(events.filter((e) => e.type === 'sample')).toHaveLength(0);
    expect(wire.every((b) => !b.includes('"inputs"') && !b.includes('"data"'))).toBe(true);

    expect(await page.evaluate(() => (window as any).OnDevice.clearLocalExamples('digits'))).toBe(3);
    expect(await kept(page)).toBe(0);
    await page.close();
  });

  it("deleting the model's data deletes its kept examples; a bad federated option is INVALID_INPUT", async () => {
    const page = await session.open();
    await drawAndReport(page, 2, { federated: { pollIntervalMs: 60_000 } });
    await waitFor('two kept examples', async () => ((await kept(page)) === 2 ? true : undefined), { timeoutMs: 10_000 });
    await page.evaluate(() => (window as any).OnDevice.modelStore.delete('digits'));
    expect(await kept(page)).toBe(0);
    const refused = await page.evaluate(() => {
      try {
        (window as any).OnDevice.configure({ telemetry: { endpoint: '/v1/events', federated: { pollIntervalMs: 5 } } });
        return null;
      } catch (e) {
        return { code: (e as any).code, message: (e as Error).message };
      }
    });
    expect(refused).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/pollIntervalMs must be a number ≥ 100/) });
    await page.close();
  });

  it('answers a round in idle time: its worker trains the head, the update carries no input', async () => {
    const page = await session.open();
    const wire = recordBodies(page);
    await drawAndReport(page, 15, { federated: { pollIntervalMs: 200 } });
    // Examples are held back by a hash of their random id (a fifth on average): draw more until the page has
    // something to evaluate on and 10 to train on, as a round asks, so that both rounds are answered.
    for (let more = 0; ; more++) {
      const ids = await page.evaluate(async () =>
        ((await (window as any).OnDevice.__testing.localExamples('digits')) as { id: string }[]).map((e) => e.id),
      );
      const heldBack = ids.filter((id) => exampleHash(id) < 0.2).length;
      if (heldBack > 0 && ids.length - heldBack >= 10) break;
      expect(more, `${ids.length} examples, ${heldBack} held back`).toBeLessThan(10);
      await drawAndReport(page, 5, { federated: { pollIntervalMs: 200 } });
    }
    const started = await fetch(`${session.server.url}/v1/federated/digits/rounds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(started.status).toBe(202);
    const { job } = (await started.json()) as { job: Job };
    // The train round, then the evaluation round: both answered by this page alone.
    const done = await waitFor(
      'the job to finish',
      async () => {
        const { job: j } = (await (await fetch(`${session.server.url}/v1/jobs/${job.id}`)).json()) as { job: Job };
        return j.state === 'running' ? undefined : j;
      },
      { timeoutMs: 120_000 },
    );
    // The page's own account of what it did, to read a failure by.
    const seen = JSON.stringify(await page.evaluate(() => (window as any).OnDevice.federatedStatus()));
    expect(done.metrics, `job ${done.state}: ${done.reason}; page: ${seen}`).not.toBeNull();
    const rounds = (done.metrics as { rounds: { kind: string; clients: number; examples: number }[] }).rounds;
    expect(rounds.map((r) => [r.kind, r.clients])).toEqual([
      ['train', 1],
      ['evaluate', 1],
    ]);
    // 15 or more examples, about a fifth held back (by example id).
    expect(rounds[0].examples).toBeGreaterThanOrEqual(10);
    const status = await page.evaluate(() => (window as any).OnDevice.federatedStatus());
    expect(status).toMatchObject({ active: true, rounds: 2, lastError: null });
    const sent = wire.filter((b) => b.includes('/v1/federated/'));
    expect(sent).toHaveLength(2);
    expect(sent.every((b) => !b.includes('"inputs"') && !b.includes('"image"'))).toBe(true);
    expect(JSON.parse(sent[0].slice(sent[0].indexOf('{')))).toMatchObject({
      dW: expect.any(Array),
      db: expect.any(Array),
      examples: rounds[0].examples,
    });
    await page.close();
  }, 180_000);
});
