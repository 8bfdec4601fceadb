import type { TelemetryEvent } from '../core/eventSchema';
import { TokenBucketLimiter } from '../http/TokenBucketLimiter';

/**
 * Events per install per minute, per site key (`COLLECTOR_INSTALL_EVENTS_PER_MINUTE`). A batch that
 * would take any of its installs over the limit is refused whole with 429, so the client keeps it and
 * retries later: nothing acknowledged is dropped. Install ids are chosen by the client, so this bounds
 * one honest-looking install, not an attacker who rotates ids (the per-IP limit covers that).
 *
 * @example
 * const limiter = new InstallEventLimiter(600);
 * const refused = limiter.admit(batch.events, 'demo', Date.now()); // null: go ahead
 */
export class InstallEventLimiter {
  private readonly buckets: TokenBucketLimiter;

  /** `perMinute` 0 disables the limit; `what` names what is counted in the 429's message. */
  constructor(
    private readonly perMinute: number,
    private readonly what = 'events',
  ) {
    this.buckets = new TokenBucketLimiter({ perSecond: perMinute / 60, burst: perMinute, maxClients: 100_000 });
  }

  admit(events: readonly TelemetryEvent[], siteKey: string, nowMs: number): { retryAfterSeconds: number; error: string } | null {
    if (this.perMinute <= 0) return null;
    const costs = new Map<string, number>();
    for (const e of events) {
      const key = `${siteKey}\u0000${e.installId}`;
      costs.set(key, (costs.get(key) ?? 0) + 1);
    }
    const taken = this.buckets.takeAll(costs, nowMs);
    if (taken.ok) return null;
    return { retryAfterSeconds: taken.retryAfterSeconds, error: `more than ${this.perMinute} ${this.what} per install per minute` };
  }
}
