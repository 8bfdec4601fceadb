import { describe, expect, test } from 'vitest';
import { LIMITS, validateBatch, type TelemetryEvent } from '../../src/core/eventSchema';
import { splitBatches } from '../../src/telemetry/splitBatches';
import { summarizeOutput } from '../../src/telemetry/summarizeOutput';
import { readCollectorAnswer } from '../../src/telemetry/readCollectorAnswer';
import { configure, getConfig } from '../../src/client/configure';
import type { TelemetryConfig } from '../../src/telemetry/TelemetryConfig';

const event = (i: number, message = 'x'): TelemetryEvent => ({
  type: 'error',
  id: `event-${String(i).padStart(8, '0')}`,
  ts: Date.UTC(2026, 10, 29),
  installId: 'install-1234',
  sessionId: 'session-1234',
  modelId: 'tiny-mlp',
  modelVersion: '1',
  code: 'INFERENCE_FAILED',
  message,
});

describe('splitBatches', () => {
  test('every body fits the byte budget, is a valid batch, and no event is lost or repeated', () => {
    const events = Array.from({ length: 700 }, (_, i) => event(i, 'm'.repeat(i % 300)));
    const batches = splitBatches(events, 'demo', LIMITS.maxKeepaliveBytes - 4096);
    expect(batches.length).toBeGreaterThan(1);
    const seen: string[] = [];
    for (const { body, ids } of batches) {
      expect(new TextEncoder().encode(body).byteLength).toBeLessThanOrEqual(LIMITS.maxKeepaliveBytes - 4096);
      const parsed = validateBatch(JSON.parse(body));
      expect(parsed.ok).toBe(true);
      if (parsed.ok) {
        // The ids handed back for acknowledgement are exactly the body's.
        expect(ids).toEqual(parsed.events.map((e) => e.id));
        seen.push(...ids);
      }
    }
    expect(seen).toEqual(events.map((e) => e.id));
  });

  test('respects the per-batch event limit', () => {
    const batches = splitBatches(
      Array.from({ length: 1200 }, (_, i) => event(i)),
      undefined,
      10_000_000,
    );
    expect(batches.map((b) => (JSON.parse(b.body) as { events: unknown[] }).events.length)).toEqual([500, 500, 200]);
  });
});

describe('summarizeOutput', () => {
  test('argmax and score of class scores; nothing for non-class outputs', () => {
    expect(summarizeOutput({ y: { type: 'float32', data: Float32Array.of(0.1, 0.7, 0.2), dims: [1, 3] } })).toEqual({
      topClass: 1,
      score: expect.closeTo(0.7, 5),
    });
    expect(summarizeOutput({ y: { type: 'float32', data: Float32Array.of(0.1), dims: [1, 1] } })).toEqual({});
    expect(summarizeOutput({ y: { type: 'int64', data: BigInt64Array.of(1n, 2n), dims: [1, 2] } })).toEqual({});
  });
});

describe('readCollectorAnswer', () => {
  const ids = ['event-00000001', 'event-00000002', 'event-00000003'];
  const answer = (status: number, body: unknown) => readCollectorAnswer(new Response(JSON.stringify(body), { status }), ids);

  test('a 200 without `rejected` acknowledges every event (a collector that stores all or nothing)', async () => {
    expect(await answer(200, { accepted: 3, stored: 3, duplicates: 0 })).toEqual({
      kind: 'accepted',
      acknowledged: ids,
      rejected: [],
      deferred: [],
    });
  });

  test('a 429 listing `deferred` acknowledges the rest of the batch and keeps exactly the deferred events', async () => {
    const deferred = [
      { id: ids[1], code: 'RATE_LIMITED', retryAfterMs: 2000 },
      { id: ids[2], code: 'RATE_LIMITED', retryAfterMs: 4000 },
      { id: 'not-in-this-batch', code: 'RATE_LIMITED', retryAfterMs: 1000 },
    ];
    const body = {
      error: 'over the limit',
      code: 'RATE_LIMITED',
      path: '$',
      accepted: 1,
      stored: 1,
      duplicates: 0,
      rejected: [],
      deferred,
    };
    expect(await answer(429, body)).toEqual({ kind: 'accepted', acknowledged: [ids[0]], rejected: [], deferred: deferred.slice(0, 2) });
    // The collector's wish is bounded: never a busy loop, never an hour's wait; Retry-After when the event says nothing.
    const response = new Response(
      JSON.stringify({ ...body, deferred: [{ id: ids[0], retryAfterMs: 0 }, { id: ids[1], retryAfterMs: 1e12 }, { id: ids[2] }] }),
      { status: 429, headers: { 'retry-after': '7' } },
    );
    expect(await readCollectorAnswer(response, ids)).toMatchObject({
      acknowledged: [],
      deferred: [
        { id: ids[0], code: 'RATE_LIMITED', retryAfterMs: 1000 },
        { id: ids[1], retryAfterMs: 3_600_000 },
        { id: ids[2], retryAfterMs: 7000 },
      ],
    });
  });

  test('a 429 without `deferred` (the whole batch, or an older collector) retries it after Retry-After', async () => {
    const response = new Response(JSON.stringify({ code: 'RATE_LIMITED', error: 'too many requests' }), {
      status: 429,
      headers: { 'retry-after': '3' },
    });
    expect(await readCollectorAnswer(response, ids)).toEqual({
      kind: 'retry',
      code: 'RATE_LIMITED',
      message: 'too many requests',
      retryAfterMs: 3000,
    });
  });

  test('a 200 with `rejected` acknowledges the others and drops only those', async () => {
    const rejected = [{ id: ids[1], code: 'INVALID_EVENT', path: '$.events[1].label' }];
    expect(await answer(200, { accepted: 2, duplicates: 0, rejected })).toEqual({
      kind: 'accepted',
      acknowledged: [ids[0], ids[2]],
      rejected,
      deferred: [],
    });
  });

  test('a 400 naming one event (the older collector) rejects that event only', async () => {
    expect(await answer(400, { error: 'must be well-formed text', code: 'INVALID_BATCH', path: '$.events[2].message' })).toMatchObject({
      kind: 'invalid',
      rejected: [{ id: ids[2], code: 'INVALID_BATCH', path: '$.events[2].message' }],
    });
  });

  test('403 is a refusal (keep the events), 429/5xx retry, a body that is not a batch is undeliverable', async () => {
    expect(await answer(403, { error: 'unknown site key', code: 'UNKNOWN_SITE_KEY', path: '$.siteKey' })).toMatchObject({
      kind: 'refused',
      code: 'UNKNOWN_SITE_KEY',
    });
    expect(await answer(429, { code: 'RATE_LIMITED' })).toMatchObject({ kind: 'retry' });
    expect(await answer(503, { code: 'STORAGE_FAILED' })).toMatchObject({ kind: 'retry' });
    expect(await answer(400, { error: 'body is not valid JSON', code: 'INVALID_JSON', path: '$' })).toMatchObject({
      kind: 'undeliverable',
      code: 'INVALID_JSON',
    });
  });
});

describe('configure({ telemetry }) rejects what it can check up front', () => {
  test.each([
    ['an endpoint that is not a URL', { endpoint: 'not a url' }],
    ['a bare word endpoint', { endpoint: 'collector' }],
    ['a non-http endpoint', { endpoint: 'ftp://example.com/v1/events' }],
    ['a sample rate above 1', { endpoint: '/v1/events', sampleRate: 1.5 }],
    ['a negative sample rate', { endpoint: '/v1/events', sampleRate: -0.1 }],
    ['a NaN sample rate', { endpoint: '/v1/events', sampleRate: Number.NaN }],
    ['a malformed site key', { endpoint: '/v1/events', siteKey: 'my key' }],
  ])('%s: INVALID_INPUT, and the configuration is unchanged', (_, telemetry) => {
    const before = getConfig().telemetry;
    expect(() => configure({ telemetry: telemetry as TelemetryConfig })).toThrow(
      expect.objectContaining({ name: 'OnDeviceError', code: 'INVALID_INPUT' }),
    );
    expect(getConfig().telemetry).toBe(before);
  });

  test('a missing site key, a path, an absolute URL and the edges of the sample rate are accepted', () => {
    for (const telemetry of [
      { endpoint: '/v1/events' },
      { endpoint: 'https://collector.example/v1/events', siteKey: 'demo', sampleRate: 0 },
      { endpoint: './v1/events', sampleRate: 1 },
    ]) {
      expect(configure({ telemetry }).telemetry).toEqual(telemetry);
    }
    configure({ telemetry: false });
  });
});
