import { describe, expect, test } from 'vitest';
import { LIMITS, validateBatch, type TelemetryEvent } from '../../src/core/eventSchema';
import { splitBatches } from '../../src/telemetry/splitBatches';
import { summarizeOutput } from '../../src/telemetry/summarizeOutput';

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
