import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertConfig } from '../../src/collector/alertRules';
import type { TelemetryEvent } from '../../src/core/eventSchema';
import { inferenceEvent, labelledPrediction } from './makeEvents';
import { getJson, postEvents, startCollector, type StartedCollector } from './startCollector';
import { waitFor } from '../helpers/waitFor';

const MINUTE = 60_000;
const ALERTS: AlertConfig = {
  evaluationIntervalMs: 500,
  rules: [
    { name: 'accuracy-drop', metric: 'accuracy', op: '<', threshold: 0.9, windowMs: 10 * MINUTE, minSamples: 20 },
    // Windows run on the collector's receive clock, so the drift test cannot backdate a baseline: a
    // 3-second current window lets the baseline it posts become "the past" within the test.
    { name: 'prediction-drift', metric: 'psi', op: '>', threshold: 0.2, windowMs: 3000, baselineWindowMs: 10 * MINUTE, minSamples: 100 },
  ],
};
const FAST_MONITOR = { COLLECTOR_EVAL_THROTTLE_MS: '100', COLLECTOR_MONITOR_SAMPLE_MS: '100' };

/** A real webhook receiver that records every JSON body it is sent. */
async function startWebhook(): Promise<{ server: Server; url: string; received: any[] }> {
  const received: any[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

async function postAll(url: string, events: TelemetryEvent[]) {
  for (let i = 0; i < events.length; i += 500) {
    const r = await postEvents(url, { siteKey: 'demo', events: events.slice(i, i + 500) });
    expect(r.status).toBe(200);
  }
}

const alertsOf = async (url: string) => (await getJson(`${url}/v1/alerts`)).body as { firing: any[]; history: any[] };

describe('collector alerts (real process, real webhook)', () => {
  let c: StartedCollector;
  let hook: Awaited<ReturnType<typeof startWebhook>>;

  beforeAll(async () => {
    hook = await startWebhook();
    c = await startCollector({ alerts: ALERTS, env: { ...FAST_MONITOR, COLLECTOR_WEBHOOK_URL: hook.url } });
  });
  afterAll(async () => {
    await c?.stop();
    c?.cleanup();
    await new Promise((r) => hook?.server.close(r));
  });

  it('fires on an accuracy drop, resolves on recovery, and tells the webhook both', async () => {
    const model = 'acc-model';
    // 20 right, 20 wrong: accuracy 0.5 over 40 samples.
    await postAll(
      c.url,
      Array.from({ length: 40 }, (_, i) => labelledPrediction({ modelId: model, predicted: i % 3, correct: i % 2 === 0 })).flat(),
    );
    const fired = await waitFor(
      'accuracy alert to fire',
      async () => (await alertsOf(c.url)).firing.find((a) => a.rule === 'accuracy-drop' && a.labels.modelId === model),
      { timeoutMs: 10_000 },
    );
    expect(fired).toMatchObject({ state: 'firing', op: '<', threshold: 0.9, samples: 40, value: 0.5 });

    // 400 correct predictions: (20 + 400) / 440 ≈ 0.955 ≥ 0.9.
    await postAll(
      c.url,
      Array.from({ length: 400 }, (_, i) => labelledPrediction({ modelId: model, predicted: i % 3, correct: true })).flat(),
    );
    const resolved = await waitFor(
      'accuracy alert to resolve',
      async () => (await alertsOf(c.url)).history.find((a) => a.id === fired.id && a.state === 'resolved'),
      { timeoutMs: 10_000 },
    );
    // Evaluation may run between the two posts, so the value is anywhere from ~0.93 to 420/440.
    expect(resolved.resolvedValue).toBeGreaterThanOrEqual(0.9);
    expect((await alertsOf(c.url)).firing.find((a) => a.id === fired.id)).toBeUndefined();

    const delivered = await waitFor(
      'webhook to receive firing and resolved',
      async () => {
        const mine = hook.received.filter((p) => p.alert.id === fired.id);
        return mine.length >= 2 ? mine : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(delivered.map((p) => p.status)).toEqual(['firing', 'resolved']);
    expect(delivered[0]).toMatchObject({ source: 'ondevice-collector', alert: { rule: 'accuracy-drop', labels: { modelId: model } } });
  });

  it('fires on a shifted prediction distribution and not on an unchanged one', async () => {
    const classes = ['cat', 'dog', 'bird', 'fish'];
    const dist = (modelId: string, counts: number[], ts: number) =>
      counts.flatMap((n, i) => Array.from({ length: n }, () => inferenceEvent({ modelId, topClass: classes[i], ts })));
    await postAll(c.url, [
      ...dist('stable-model', [100, 100, 100, 100], Date.now()),
      ...dist('shifted-model', [100, 100, 100, 100], Date.now()),
    ]);
    // The baseline is in the past once the collector measures PSI for a model (it needs both windows):
    // keep sending the stable model's unchanged distribution until that happens.
    await waitFor('the baseline to leave the current window', async () => {
      await postAll(c.url, dist('stable-model', [5, 5, 5, 5], Date.now()));
      const data = (await getJson(`${c.url}/dashboard/data.json`)).body;
      return data.psi.some((s: any) => s.name === 'stable-model@1') ? true : undefined;
    });
    await postAll(c.url, [...dist('stable-model', [50, 50, 50, 50], Date.now()), ...dist('shifted-model', [170, 10, 10, 10], Date.now())]);

    const fired = await waitFor(
      'drift alert to fire',
      async () => (await alertsOf(c.url)).firing.find((a) => a.rule === 'prediction-drift'),
      { timeoutMs: 10_000 },
    );
    expect(fired.labels).toEqual({ modelId: 'shifted-model', modelVersion: '1' });
    expect(fired.value).toBeGreaterThan(0.2);
    // The evaluation that fired it also measured the stable model, whose PSI is 0: no alert.
    const { history } = await alertsOf(c.url);
    expect(history.filter((a) => a.labels.modelId === 'stable-model')).toEqual([]);
    const data = (await getJson(`${c.url}/dashboard/data.json`)).body;
    const stable = data.psi.find((s: any) => s.name === 'stable-model@1');
    expect(stable.v.at(-1)).toBeCloseTo(0, 10);
  });
});

describe('collector alerts with a dead webhook', () => {
  let c: StartedCollector;

  beforeAll(async () => {
    // Port 9 (discard) on loopback: nothing listens, every attempt is refused and retried.
    c = await startCollector({ alerts: ALERTS, env: { ...FAST_MONITOR, COLLECTOR_WEBHOOK_URL: 'http://127.0.0.1:9/hook' } });
  });
  afterAll(async () => {
    await c?.stop();
    c?.cleanup();
  });

  it('keeps ingest fast while deliveries fail and retry', async () => {
    const bad = Array.from({ length: 40 }, (_, i) =>
      labelledPrediction({ modelId: 'dead-hook-model', predicted: i, correct: false }),
    ).flat();
    await postAll(c.url, bad);
    await waitFor('alert to fire', async () => (await alertsOf(c.url)).firing.length > 0, { timeoutMs: 10_000 });
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const r = await postEvents(c.url, { siteKey: 'demo', events: [inferenceEvent({ modelId: 'dead-hook-model' })] });
      latencies.push(performance.now() - t0);
      expect(r.status).toBe(200);
    }
    expect(Math.max(...latencies)).toBeLessThan(500);
  });
});
