import type { TelemetryEvent } from '../core/eventSchema';
import { TokenBucketLimiter } from '../http/TokenBucketLimiter';

/** An event held back by a per-install limit: the client sends it again after `retryAfterMs`. */
export interface DeferredAdmission {
  event: TelemetryEvent;
  retryAfterMs: number;
}

export interface InstallAdmission {
  /** The events to store now, in batch order. */
  admitted: TelemetryEvent[];
  deferred: DeferredAdmission[];
  /** What was over which limit, for the answer's `error`; null when nothing was deferred. */
  reason: string | null;
}

export interface InstallLimits {
  /** Events per install per minute (per site key); 0 disables. */
  eventsPerMinute: number;
  /** `sample` events per install per minute, on top of the event limit; 0 disables. */
  samplesPerMinute: number;
}

/**
 * Events and samples per install per minute, per site key (`COLLECTOR_INSTALL_EVENTS_PER_MINUTE`,
 * `COLLECTOR_INSTALL_SAMPLES_PER_MINUTE`). Each install's events are taken in batch order while its
 * buckets hold tokens; the rest are deferred, each with the time its tokens will be there, so the batch's
 * other events (another install's, or an install's inference events when only its samples are over) are
 * stored at once. Install ids are chosen by the client, so this bounds one honest-looking install, not an
 * attacker who rotates ids (the per-IP limit covers that).
 *
 * @example
 * const limiter = new InstallEventLimiter({ eventsPerMinute: 600, samplesPerMinute: 30 });
 * const { admitted, deferred } = limiter.admit(batch.events, 'demo', Date.now());
 */
export class InstallEventLimiter {
  private readonly events: TokenBucketLimiter;
  private readonly samples: TokenBucketLimiter;

  constructor(private readonly limits: InstallLimits) {
    const bucket = (perMinute: number) => new TokenBucketLimiter({ perSecond: perMinute / 60, burst: perMinute, maxClients: 100_000 });
    this.events = bucket(limits.eventsPerMinute);
    this.samples = bucket(limits.samplesPerMinute);
  }

  admit(events: readonly TelemetryEvent[], siteKey: string, nowMs: number): InstallAdmission {
    const byInstall = new Map<string, TelemetryEvent[]>();
    for (const e of events) {
      const key = `${siteKey}\u0000${e.installId}`;
      const list = byInstall.get(key);
      if (list) list.push(e);
      else byInstall.set(key, [e]);
    }
    const admitted = new Set<TelemetryEvent>();
    const deferred: DeferredAdmission[] = [];
    let overEvents = false;
    let overSamples = false;
    for (const [key, list] of byInstall) {
      const eventTokens = this.events.available(key, nowMs);
      const sampleTokens = this.samples.available(key, nowMs);
      let events = 0;
      let samples = 0;
      let deferredEvents = 0;
      let deferredSamples = 0;
      for (const e of list) {
        const isSample = e.type === 'sample';
        if (events + 1 <= eventTokens && (!isSample || samples + 1 <= sampleTokens)) {
          events++;
          if (isSample) samples++;
          admitted.add(e);
          continue;
        }
        // Sent again, it needs one more token of each bucket it counts against than those before it.
        deferredEvents++;
        if (isSample) deferredSamples++;
        overEvents ||= events + 1 > eventTokens;
        overSamples ||= isSample && samples + 1 > sampleTokens;
        const retryAfterMs = Math.max(
          this.events.msUntil(eventTokens, events + deferredEvents),
          isSample ? this.samples.msUntil(sampleTokens, samples + deferredSamples) : 0,
          1,
        );
        deferred.push({ event: e, retryAfterMs });
      }
      this.events.takeTokens(key, events, nowMs);
      this.samples.takeTokens(key, samples, nowMs);
    }
    const over = [
      ...(overEvents ? [`${this.limits.eventsPerMinute} events`] : []),
      ...(overSamples ? [`${this.limits.samplesPerMinute} sample events`] : []),
    ];
    return {
      admitted: events.filter((e) => admitted.has(e)),
      deferred,
      reason: over.length ? `more than ${over.join(' or ')} per install per minute` : null,
    };
  }
}
