import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '../../src/core/eventSchema';
import { inferenceEvent } from './makeEvents';
import { getJson, postEvents, startCollector, type StartedCollector } from './startCollector';

const LIMITS = { COLLECTOR_MAX_MODELS_PER_SITE: '5', COLLECTOR_MAX_VERSIONS_PER_MODEL: '2' };

async function postAll(url: string, events: TelemetryEvent[]) {
  for (let i = 0; i < events.length; i += 500) {
    const r = await postEvents(url, { siteKey: 'demo', events: events.slice(i, i + 500) });
    expect(r.status).toBe(200);
  }
}

/** Distinct values of one label in a Prometheus exposition. */
function labelValues(text: string, metric: string, label: string): Set<string> {
  const re = new RegExp(`^${metric}\\{[^}]*${label}="([^"]*)"`, 'gm');
  return new Set([...text.matchAll(re)].map((m) => m[1]));
}

/** 2 000 distinct ids from one site key (the attack was 20 000), then 6 versions of the first one, then a registry model. */
async function postAttack(url: string) {
  await postAll(url, [
    ...Array.from({ length: 2000 }, (_, i) => inferenceEvent({ modelId: `m-${i}`, modelVersion: '1' })),
    ...Array.from({ length: 6 }, (_, v) => inferenceEvent({ modelId: 'm-0', modelVersion: `v${v}` })),
  ]);
  // A registry model still counts after the budget is spent.
  await postAll(url, [inferenceEvent({ modelId: 'tiny-mlp', modelVersion: '1' })]);
}

describe('model-id cardinality (real process)', () => {
  let c: StartedCollector | undefined;

  beforeEach(async () => {
    c = await startCollector({ env: LIMITS });
  });
  afterEach(async () => {
    await c?.stop();
    c?.cleanup();
    c = undefined;
  });

  it('keeps at most the budget of model ids and versions apart and folds the rest into __other__, counted', async () => {
    const { url } = c!;
    await postAttack(url);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    const ids = labelValues(metrics, 'ondevice_inference_duration_seconds_count', 'model_id');
    expect([...ids].sort()).toEqual(['__other__', 'm-0', 'm-1', 'm-2', 'm-3', 'm-4', 'tiny-mlp']);
    expect(metrics).toMatch(/^ondevice_folded_events_total\{reason="model"\} 1995$/m);
    expect(metrics).toMatch(/^ondevice_folded_events_total\{reason="version"\} 5$/m);
    expect(metrics.length).toBeLessThan(64 * 1024);

    const summary = (await getJson(`${url}/v1/summary`)).body;
    const keys = summary.models.map((m: any) => `${m.modelId}@${m.modelVersion}`).sort();
    expect(keys).toEqual(['__other__@__other__', 'm-0@1', 'm-0@__other__', 'm-0@v0', 'm-1@1', 'm-2@1', 'm-3@1', 'm-4@1', 'tiny-mlp@1']);
    expect(summary.models.find((m: any) => m.modelId === '__other__').inferences).toBe(1995);
    expect(summary.events.inference).toBe(2007); // nothing dropped

    const dashboard = (await getJson(`${url}/dashboard/data.json`)).body;
    expect(dashboard.summary.groups.length).toBe(9);
  });

  it('rebuilds the same bounded keys after a restart', async () => {
    await postAttack(c!.url);
    await c!.stop();
    c = await startCollector({ dir: c!.dir, env: LIMITS });
    await postAll(c.url, [inferenceEvent({ modelId: 'm-new-after-restart' }), inferenceEvent({ modelId: 'm-3', modelVersion: '1' })]);
    const metrics = await (await fetch(`${c.url}/metrics`)).text();
    const ids = labelValues(metrics, 'ondevice_inference_duration_seconds_count', 'model_id');
    expect([...ids].sort()).toEqual(['__other__', 'm-0', 'm-1', 'm-2', 'm-3', 'm-4', 'tiny-mlp']);
  });
});
