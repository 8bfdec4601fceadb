export interface WebhookNotifierOptions {
  url: string;
  /** Attempts per payload, first one included. */
  maxAttempts?: number;
  /** Backoff before retry n is baseDelayMs · 2^(n-1), capped at maxDelayMs, with ±20 % jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-attempt bound on the whole request. */
  timeoutMs?: number;
  /** Payloads waiting at most; past it the oldest is dropped (a dead webhook must not grow memory). */
  maxQueue?: number;
  onResult?: (result: 'delivered' | 'failed' | 'dropped', detail: string) => void;
}

/**
 * Delivers JSON payloads to a webhook in order, off the request path: `enqueue` returns at once and a
 * single background loop does the POSTs with bounded retries. Ingest never waits on it.
 *
 * @example
 * const notifier = new WebhookNotifier({ url: 'https://hooks.example/alerts' });
 * notifier.enqueue({ status: 'firing', alert });
 */
export class WebhookNotifier {
  private readonly queue: unknown[] = [];
  private readonly closing = new AbortController();
  private running: Promise<void> | undefined;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly maxQueue: number;

  constructor(private readonly options: WebhookNotifierOptions) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxQueue = options.maxQueue ?? 1000;
  }

  enqueue(payload: unknown): void {
    if (this.closing.signal.aborted) return;
    if (this.queue.length >= this.maxQueue) {
      this.queue.shift();
      this.options.onResult?.('dropped', 'queue full');
    }
    this.queue.push(payload);
    this.kick();
  }

  /** Stop retrying and wait (at most `timeoutMs`) for the attempt in flight. Undelivered payloads are dropped. */
  async close(timeoutMs = 2000): Promise<void> {
    this.closing.abort();
    if (!this.running) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  private kick(): void {
    if (this.running) return;
    // Fire-and-forget by design: run() never rejects. The re-kick covers a payload enqueued after the
    // loop saw an empty queue but before this callback cleared `running`.
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0 && !this.closing.signal.aborted) this.kick();
    });
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0 && !this.closing.signal.aborted) {
      const payload = this.queue.shift();
      const outcome = await this.deliver(JSON.stringify(payload));
      this.options.onResult?.(outcome.ok ? 'delivered' : 'failed', outcome.detail);
    }
  }

  private async deliver(body: string): Promise<{ ok: boolean; detail: string }> {
    let detail = '';
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1 && !(await this.sleep(this.backoffMs(attempt - 1)))) break;
      try {
        const res = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.timeoutMs)]),
        });
        await res.body?.cancel();
        if (res.ok) return { ok: true, detail: `HTTP ${res.status} after ${attempt} attempt(s)` };
        detail = `HTTP ${res.status}`;
        // Other 4xx mean the receiver rejects this payload; retrying will not change its mind.
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) break;
      } catch (e) {
        detail = (e as Error).message;
      }
    }
    return { ok: false, detail };
  }

  private backoffMs(retry: number): number {
    const base = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (retry - 1));
    return base * (0.8 + Math.random() * 0.4);
  }

  /** Resolves false when closing cut the wait short. */
  private sleep(ms: number): Promise<boolean> {
    const signal = this.closing.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
