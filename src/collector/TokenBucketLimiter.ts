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
    const { perSecond, burst } = this.options;
    if (perSecond <= 0) return { ok: true };
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
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) };
  }
}
