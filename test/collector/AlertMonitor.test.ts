import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertMonitor, type AlertTransition } from '../../src/collector/AlertMonitor';
import type { AlertRule } from '../../src/collector/alertRules';
import { openSqliteStorage, type SqliteStorage } from '../../src/collector/openSqliteStorage';
import { inlineReadQueries } from '../../src/collector/ReadQueries';
import type { TelemetryEvent } from '../../src/core/eventSchema';
import { errorEvent, inferenceEvent, labelledPrediction } from './makeEvents';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1);

const rules: AlertRule[] = [
  { name: 'accuracy-drop', metric: 'accuracy', op: '<', threshold: 0.9, windowMs: 10 * MINUTE, minSamples: 20 },
  { name: 'drift', metric: 'psi', op: '>', threshold: 0.2, windowMs: 10 * MINUTE, baselineWindowMs: 60 * MINUTE, minSamples: 100 },
  { name: 'latency', metric: 'latency_p95', op: '>', threshold: 200, windowMs: 10 * MINUTE, minSamples: 20 },
  { name: 'errors', metric: 'error_rate', op: '>', threshold: 0.02, windowMs: 10 * MINUTE, minSamples: 50 },
];

/** An in-memory store and a monitor on a fake clock: alert logic without timers or HTTP. */
function setup() {
  let nowMs = T0;
  const storage = openSqliteStorage(':memory:');
  const store = storage.queries;
  const transitions: AlertTransition[] = [];
  const monitor = new AlertMonitor({
    store: storage.alerts,
    rules,
    measure: (r, nowMs) => inlineReadQueries(storage.queries, storage.alerts).measure(r, nowMs, {}),
    intervalMs: 60_000,
    throttleMs: 1000,
    sampleIntervalMs: 0,
    sampleRetentionMs: 24 * 60 * MINUTE,
    onTransition: (t) => transitions.push(t),
    onError: (e) => {
      throw e;
    },
    now: () => nowMs,
  });
  const ingest = (events: TelemetryEvent[]) => storage.writer.insertBatch(events, { siteKey: 'demo', receivedAtMs: nowMs });
  return {
    storage,
    store,
    monitor,
    transitions,
    ingest,
    advance: (ms: number) => (nowMs += ms),
    now: () => nowMs,
  };
}

const predictions = (modelId: string, n: number, correctShare: number, ts: number, classes = ['cat']) =>
  Array.from({ length: n }, (_, i) =>
    labelledPrediction({ modelId, predicted: classes[i % classes.length], correct: i < Math.round(n * correctShare), ts }),
  ).flat();

let storage: SqliteStorage | undefined;
afterEach(() => storage?.close());

describe('AlertMonitor', () => {
  it('fires when accuracy drops below the threshold and resolves when it recovers', async () => {
    const s = setup();
    storage = s.storage;
    await s.ingest(predictions('m', 40, 0.95, s.now()));
    expect(await s.monitor.evaluate()).toEqual([]);

    s.advance(MINUTE);
    await s.ingest(predictions('m', 60, 0.5, s.now())); // window: 68/100 correct
    const fired = await s.monitor.evaluate();
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({
      status: 'firing',
      alert: { rule: 'accuracy-drop', labels: { modelId: 'm', modelVersion: '1' }, samples: 100 },
    });
    expect(fired[0].alert.value).toBeCloseTo(0.68, 10);
    expect(await s.monitor.evaluate()).toEqual([]); // still firing: no second transition

    // The bad minute slides out of the 10-minute window; fresh feedback is good again.
    s.advance(10 * MINUTE + 1000);
    await s.ingest(predictions('m', 30, 1, s.now()));
    const resolved = await s.monitor.evaluate();
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ status: 'resolved', alert: { id: fired[0].alert.id, state: 'resolved', resolvedValue: 1 } });
    expect(await s.storage.alerts.listAlerts(10)).toHaveLength(1);
  });

  it('does not judge a series below minSamples', async () => {
    const s = setup();
    storage = s.storage;
    await s.ingest(predictions('m', 10, 0, s.now()));
    expect(await s.monitor.evaluate()).toEqual([]);
  });

  it('uses the inference as the prediction and falls back to feedback.predicted', async () => {
    const s = setup();
    storage = s.storage;
    const [inference, feedback] = labelledPrediction({ modelId: 'm', predicted: 'cat', correct: true, ts: s.now() });
    await s.ingest([inference, feedback]);
    expect(await s.store.accuracy({ sinceMs: 0, untilMs: s.now() + 1 })).toEqual([
      { modelId: 'm', modelVersion: '1', total: 1, correct: 1 },
    ]);
    // No inference for this prediction id: `predicted` on the feedback decides; without it, it is not counted.
    const [, orphan] = labelledPrediction({ modelId: 'm', predicted: 'dog', correct: false, ts: s.now() });
    await s.ingest([{ ...orphan, id: 'orphan-feedback-1' } as TelemetryEvent]);
    expect((await s.store.accuracy({ sinceMs: 0, untilMs: s.now() + 1 }))[0].total).toBe(1);
    await s.ingest([{ ...orphan, id: 'orphan-feedback-2', predictionId: 'other-pred', predicted: 'dog' } as TelemetryEvent]);
    expect((await s.store.accuracy({ sinceMs: 0, untilMs: s.now() + 1 }))[0]).toMatchObject({ total: 2, correct: 1 });
  });

  it('fires on a shifted prediction distribution and not on an unchanged one', async () => {
    const s = setup();
    storage = s.storage;
    const classes = ['a', 'b', 'c', 'd'];
    const dist = (modelId: string, counts: number[], ts: number) =>
      counts.flatMap((n, i) => Array.from({ length: n }, () => inferenceEvent({ modelId, topClass: classes[i], ts })));
    // Windows run on the collector's clock: the baseline is what arrived 30 minutes ago.
    await s.ingest([...dist('stable', [100, 100, 100, 100], s.now()), ...dist('shifted', [100, 100, 100, 100], s.now())]);
    s.advance(30 * MINUTE);
    await s.ingest([...dist('stable', [50, 50, 50, 50], s.now()), ...dist('shifted', [170, 10, 10, 10], s.now())]);
    const t = await s.monitor.evaluate();
    expect(t.map((x) => [x.alert.rule, x.alert.labels.modelId])).toEqual([['drift', 'shifted']]);
    const psi = await s.storage.alerts.monitorSamples({ sinceMs: 0, untilMs: s.now() + 1 }, 'psi');
    expect(psi.find((p) => p.labels.modelId === 'stable')?.value).toBeCloseTo(0, 10);
    expect(psi.find((p) => p.labels.modelId === 'shifted')!.value).toBeGreaterThan(0.2);
  });

  it('fires the latency SLO per backend and the error rate per model version', async () => {
    const s = setup();
    storage = s.storage;
    await s.ingest(
      [
        ...Array.from({ length: 30 }, () => inferenceEvent({ modelId: 'slow', backend: 'wasm', ms: 350 })),
        ...Array.from({ length: 30 }, () => inferenceEvent({ modelId: 'slow', backend: 'webgpu', ms: 20 })),
        ...Array.from({ length: 95 }, () => inferenceEvent({ modelId: 'flaky' })),
        ...Array.from({ length: 5 }, () => errorEvent({ modelId: 'flaky' })),
      ].map((e) => ({ ...e, ts: s.now() })),
    );
    const t = await s.monitor.evaluate();
    expect(t.map((x) => [x.alert.rule, x.alert.series]).sort()).toEqual([
      ['errors', '{"modelId":"flaky","modelVersion":"1"}'],
      ['latency', '{"backend":"wasm","modelId":"slow","modelVersion":"1"}'],
    ]);
  });

  it('reloads firing alerts after a restart instead of firing them twice', async () => {
    const s = setup();
    storage = s.storage;
    await s.ingest(predictions('m', 40, 0.5, s.now()));
    expect(await s.monitor.evaluate()).toHaveLength(1);
    s.monitor.close();
    const again = new AlertMonitor({
      store: s.storage.alerts,
      rules,
      measure: (r, nowMs) => inlineReadQueries(s.storage.queries, s.storage.alerts).measure(r, nowMs, {}),
      intervalMs: 60_000,
      throttleMs: 1000,
      sampleIntervalMs: 0,
      sampleRetentionMs: MINUTE,
      onTransition: () => {},
      onError: () => {},
      now: s.now,
    });
    await again.ready;
    expect(again.firingAlerts()).toHaveLength(1);
    expect(await again.evaluate()).toEqual([]);
  });
});

describe('AlertMonitor: alerts raised by other parts of the server (externalRules)', () => {
  it('raises once per series, lists it as firing, resolves it, and keeps it firing across a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ondevice-external-alert-'));
    const dbPath = path.join(dir, 'collector.sqlite');
    const open = (externalRules?: string[]) => {
      const s = openSqliteStorage(dbPath);
      const transitions: AlertTransition[] = [];
      const monitor = new AlertMonitor({
        store: s.alerts,
        rules,
        measure: async (r) => r.map(() => []),
        intervalMs: 60_000,
        throttleMs: 1000,
        sampleIntervalMs: 0,
        sampleRetentionMs: MINUTE,
        onTransition: (t) => transitions.push(t),
        onError: (e) => {
          throw e;
        },
        now: () => T0,
        externalRules,
      });
      return { s, monitor, transitions };
    };
    const first = open(['retrain-job-failed']);
    const raise = () =>
      first.monitor.raise({ rule: 'retrain-job-failed', labels: { model: 'digits' }, value: 1, description: 'job failed' });
    expect(await raise()).toMatchObject({ status: 'firing', alert: { rule: 'retrain-job-failed', labels: { model: 'digits' } } });
    expect(await raise()).toBeUndefined();
    expect(first.monitor.firingAlerts()).toHaveLength(1);
    await first.s.close();

    // Restarted with the rule declared external: still firing. Without it: resolved as a removed rule.
    const second = open(['retrain-job-failed']);
    await second.monitor.ready;
    expect(second.monitor.firingAlerts().map((a) => a.rule)).toEqual(['retrain-job-failed']);
    expect(await second.monitor.clear('retrain-job-failed', { model: 'digits' }, 0)).toMatchObject({ status: 'resolved' });
    expect(second.monitor.firingAlerts()).toEqual([]);
    expect(await second.monitor.clear('retrain-job-failed', { model: 'digits' }, 0)).toBeUndefined();
    await second.monitor.raise({ rule: 'retrain-job-failed', labels: { model: 'digits' }, value: 1, description: 'again' });
    await second.s.close();
    const third = open();
    await third.monitor.ready;
    expect(third.monitor.firingAlerts()).toEqual([]);
    expect(third.transitions).toMatchObject([{ status: 'resolved', alert: { rule: 'retrain-job-failed' } }]);
    await third.s.close();
  });
});
