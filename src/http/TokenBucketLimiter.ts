export interface TokenBucketOptions {
  /** Sustained requests per second per client; 0 or less disables limiting. */
  perSecond: number;
  /** Requests a client may burst before being limited. */
  burst: number;
  /** Clients tracked at most; the least recently seen is forgotten first (bounds memory under spoofed IPs). */
  maxClients?: number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * One token bucket per client key (IP address).
 *
 * @example
 * const limiter = new TokenBucketLimiter({ perSecond: 20, burst: 60 });
 * const r = limiter.take(req.socket.remoteAddress ?? '', Date.now());
 * if (!r.ok) res.setHeader('Retry-After', r.retryAfterSeconds);
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedMs: number }>();
  private readonly maxClients: number;

  constructor(private readonly options: TokenBucketOptions) {
    this.maxClients = options.maxClients ?? 10_000;
  }

  take(key: string, nowMs: number): TakeResult {
    return this.takeAll(new Map([[key, 1]]), nowMs);
  }

  /** Take `cost` tokens from each key's bucket, all or none: one refused key refuses the lot. */
  takeAll(costs: ReadonlyMap<string, number>, nowMs: number): TakeResult {
    if (this.options.perSecond <= 0) return { ok: true };
    const buckets = [...costs].map(([key, cost]) => ({ bucket: this.refill(key, nowMs), cost }));
    let retryAfterSeconds = 0;
    for (const { bucket, cost } of buckets) {
      if (bucket.tokens < cost) {
        retryAfterSeconds = Math.max(
          retryAfterSeconds,
          Math.ceil((Math.min(cost, this.options.burst) - bucket.tokens) / this.options.perSecond),
        );
      }
    }
    if (retryAfterSeconds > 0) return { ok: false, retryAfterSeconds: Math.max(1, retryAfterSeconds) };
    for (const { bucket, cost } of buckets) bucket.tokens -= cost;
    return { ok: true };
  }

  /** The tokens `key` has now (fractional; Infinity when limiting is off). Take some with `takeTokens`. */
  available(key: string, nowMs: number): number {
    if (this.options.perSecond <= 0) return Infinity;
    return this.refill(key, nowMs).tokens;
  }

  /** Take `count` tokens from `key`'s bucket, refilled at `available` (the caller checked there are enough). */
  takeTokens(key: string, count: number, nowMs: number): void {
    if (this.options.perSecond <= 0 || count <= 0) return;
    this.refill(key, nowMs).tokens -= count;
  }

  /** How long until a bucket that has `tokens` now holds `needed`, in ms (0 when it does already). */
  msUntil(tokens: number, needed: number): number {
    if (this.options.perSecond <= 0 || needed <= tokens) return 0;
    return Math.ceil(((needed - tokens) / this.options.perSecond) * 1000);
  }

  private refill(key: string, nowMs: number): { tokens: number; updatedMs: number } {
    const { perSecond, burst } = this.options;
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-insert below: Map order is our LRU order
      bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * perSecond);
      bucket.updatedMs = nowMs;
    } else {
      bucket = { tokens: burst, updatedMs: nowMs };
      if (this.buckets.size >= this.maxClients) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    this.buckets.set(key, bucket);
    return bucket;
  }
}
