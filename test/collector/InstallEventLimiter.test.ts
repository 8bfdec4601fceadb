import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SampleEvent, TelemetryEvent } from '../../src/core/eventSchema';
import { InstallEventLimiter } from '../../src/collector/InstallEventLimiter';
import { inferenceEvent } from './makeEvents';

const sample = (installId: string): SampleEvent =>
  ({
    id: randomUUID(),
    ts: 0,
    installId,
    sessionId: 'session-1',
    type: 'sample',
    modelId: 'digits',
    modelVersion: '1',
    predictionId: randomUUID(),
    label: 1,
    inputs: { x: { type: 'float32', dims: [1], data: [0] } },
  }) as SampleEvent;

const ids = (events: readonly { id: string }[]) => events.map((e) => e.id);

describe('InstallEventLimiter', () => {
  it('stores the batch in order up to the tokens of each install and defers the rest, each later than the one before', () => {
    const limiter = new InstallEventLimiter({ eventsPerMinute: 600, samplesPerMinute: 6 }); // a sample token every 10 s
    const a: TelemetryEvent[] = [
      inferenceEvent({ installId: 'a' }),
      ...Array.from({ length: 8 }, () => sample('a')),
      inferenceEvent({ installId: 'a' }),
    ];
    const b = [sample('b'), inferenceEvent({ installId: 'b' })];
    const { admitted, deferred, reason } = limiter.admit([...a, ...b], 'demo', 1_000_000);
    // Both of a's inference events, its first 6 samples, and all of b: the limits are per install.
    expect(ids(admitted)).toEqual(ids([a[0], ...a.slice(1, 7), a[9], ...b]));
    expect(deferred.map((d) => d.event.id)).toEqual(ids(a.slice(7, 9)));
    expect(deferred.map((d) => d.retryAfterMs)).toEqual([10_000, 20_000]);
    expect(reason).toBe('more than 6 sample events per install per minute');
    // Half a minute later three tokens are back: the two deferred samples go, a third new one too, a fourth waits.
    const later = limiter.admit([...a.slice(7, 9), sample('a'), sample('a')], 'demo', 1_030_000);
    expect(later.admitted).toHaveLength(3);
    expect(later.deferred.map((d) => d.retryAfterMs)).toEqual([10_000]);
  });

  it('defers over the event limit too, and a limit of 0 is off', () => {
    const limiter = new InstallEventLimiter({ eventsPerMinute: 60, samplesPerMinute: 0 }); // an event token every second
    const events = Array.from({ length: 62 }, () => inferenceEvent({ installId: 'busy' }));
    const { admitted, deferred, reason } = limiter.admit(events, 'demo', 0);
    expect(admitted).toHaveLength(60);
    expect(deferred.map((d) => d.retryAfterMs)).toEqual([1000, 2000]);
    expect(reason).toBe('more than 60 events per install per minute');
    // The same install under another site key has its own bucket.
    expect(limiter.admit(events.slice(0, 1), 'other-site', 0).deferred).toEqual([]);
    const off = new InstallEventLimiter({ eventsPerMinute: 0, samplesPerMinute: 0 });
    expect(off.admit([...events, ...events, sample('busy')], 'demo', 0)).toMatchObject({ deferred: [], reason: null });
  });
});
