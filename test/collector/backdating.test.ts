import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '../../src/core/eventSchema';
import { inferenceEvent, labelledPrediction } from './makeEvents';
import { getJson, postEvents, startCollector, type StartedCollector } from './startCollector';
import { waitFor } from '../helpers/waitFor';

const HOUR = 60 * 60_000;

async function postAll(url: string, events: TelemetryEvent[]) {
  for (let i = 0; i < events.length; i += 500) {
    const r = await postEvents(url, { siteKey: 'demo', events: events.slice(i, i + 500) });
    expect(r.status).toBe(200);
  }
}

/**
 * The attack on field alerts (faking drift or accuracy without a real population), with the shipped alert rules (config/alerts.json): anyone with the public
 * site key backdates events into the drift baseline window, or floods accuracy with one install's feedback.
 */
describe('alerts cannot be faked with backdated events or one install (real process)', () => {
  let c: StartedCollector;

  beforeAll(async () => {
    c = await startCollector({
      env: { COLLECTOR_EVAL_INTERVAL_MS: '300', COLLECTOR_EVAL_THROTTLE_MS: '100', COLLECTOR_MONITOR_SAMPLE_MS: '100' },
    });
  });
  afterAll(async () => {
    await c?.stop();
    c?.cleanup();
  });

  it('fires neither prediction-drift nor accuracy-drop', async () => {
    const twoHoursAgo = Date.now() - 2 * HOUR;
    // 300 events dated 2 h ago (in the client's words) with one class, 300 current with another: PSI 18.4
    // when the baseline window trusted client time.
    await postAll(c.url, [
      ...Array.from({ length: 300 }, (_, i) =>
        inferenceEvent({ modelId: 'victim', topClass: 'a', ts: twoHoursAgo, installId: `i-${i % 10}` }),
      ),
      ...Array.from({ length: 300 }, (_, i) => inferenceEvent({ modelId: 'victim', topClass: 'b', installId: `i-${i % 10}` })),
    ]);
    // 60 wrong feedback events from one install (accuracy-drop needs 50 samples).
    await postAll(
      c.url,
      Array.from({ length: 60 }, () =>
        labelledPrediction({ modelId: 'victim', predicted: 'b', correct: false, installId: 'attacker' }),
      ).flat(),
    );
    // Control: 60 wrong feedback events from 3 installs do count (20 each) and fire, which also proves an
    // evaluation ran after everything above was stored.
    await postAll(
      c.url,
      Array.from({ length: 60 }, (_, i) =>
        labelledPrediction({ modelId: 'control', predicted: 'b', correct: false, installId: `u-${i % 3}` }),
      ).flat(),
    );
    const fired = await waitFor(
      'the control accuracy alert',
      async () => {
        const { body } = await getJson(`${c.url}/v1/alerts`);
        return body.firing.some((a: any) => a.labels.modelId === 'control') ? body : undefined;
      },
      { timeoutMs: 15_000 },
    );
    expect(fired.firing.map((a: any) => `${a.rule}:${a.labels.modelId}`)).toEqual(['accuracy-drop:control']);
    const data = (await getJson(`${c.url}/dashboard/data.json`)).body;
    // The attacker's 60 feedback events weigh 20: measured, below minSamples, not judged.
    expect(data.summary.models.find((m: any) => m.modelId === 'victim').feedback).toBe(60);
    expect(data.psi.filter((s: any) => s.name.startsWith('victim'))).toEqual([]); // no baseline: nothing to drift from
  });
});

describe('events per install per minute (real process)', () => {
  let c: StartedCollector;

  beforeAll(async () => {
    c = await startCollector({ env: { COLLECTOR_INSTALL_EVENTS_PER_MINUTE: '600' } });
  });
  afterAll(async () => {
    await c?.stop();
    c?.cleanup();
  });

  it('defers the events that take an install past the limit (a 429 listing them) and stores the rest of the batch', async () => {
    const batch = (n: number, installId: string) => Array.from({ length: n }, () => inferenceEvent({ modelId: 'limited', installId }));
    expect((await postEvents(c.url, { siteKey: 'demo', events: batch(500, 'busy') })).status).toBe(200);
    const busy = batch(150, 'busy');
    const quiet = batch(10, 'quiet');
    const limited = await postEvents(c.url, { siteKey: 'demo', events: [...busy, ...quiet] });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED', rejected: [] });
    expect(limited.body.error).toMatch(/600 events per install per minute/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The busy install's first ~100 (its tokens left, plus what refilled meanwhile) and all of the quiet one's are stored.
    const deferred: { id: string; code: string; retryAfterMs: number }[] = limited.body.deferred;
    expect(limited.body.accepted + deferred.length).toBe(160);
    expect(deferred.length).toBeGreaterThan(0);
    // The last of the busy install's events are deferred, in order, each later than the one before.
    expect(deferred.map((d) => d.id)).toEqual(busy.slice(150 - deferred.length).map((e) => e.id));
    expect(deferred.every((d, i) => d.code === 'RATE_LIMITED' && (i === 0 || d.retryAfterMs > deferred[i - 1].retryAfterMs))).toBe(true);
    // Another install is not held back by the busy one.
    expect((await postEvents(c.url, { siteKey: 'demo', events: batch(100, 'quiet') })).status).toBe(200);
    const summary = (await getJson(`${c.url}/v1/summary`)).body;
    expect(summary.events.inference).toBe(500 + limited.body.accepted + 100);
  });
});
