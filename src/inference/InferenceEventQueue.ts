import type { InferenceEvent } from '../core/schema/TelemetryEvent';
import { inferenceEventOf } from './inferenceEventOf';
import type { RecordInference } from './ServerInferenceRecord';

/** What one delivery attempt came to. A `permanent` failure is not retried: its events are dropped (counted). */
export type DeliveryOutcome = { ok: true; rejected?: number } | { ok: false; permanent: boolean; reason: string; retryAfterMs?: number };

export interface InferenceEventQueueOptions {
  /** Delivers one batch: the collector's EventWriter in process, or a POST to a collector's /v1/events. */
  deliver: (events: InferenceEvent[]) => Promise<DeliveryOutcome>;
  /** Events held at most; one more is dropped and counted. Default 10 000. */
  maxQueued?: number;
  /** Events per delivery at most. Default 200. */
  maxBatch?: number;
  /** How long the first queued event waits for company. Default 1000 ms. */
  flushDelayMs?: number;
  /** Backoff after a failed delivery, doubling from `minRetryMs` up to this. Default 30 000 ms. */
  maxRetryMs?: number;
  minRetryMs?: number;
  log?: (line: string) => void;
}

export interface InferenceEventQueueStats {
  queued: number;
  delivered: number;
  /** Events given up on: queue full, refused for good by the collector, or still queued at close. */
  dropped: number;
  failedDeliveries: number;
}

/**
 * Server inference events on their way to a collector: `push` never blocks and never throws (an
 * inference response must not wait for telemetry); batches go out one at a time, a failed batch stays
 * at the head and is retried with backoff, and memory is bounded — past `maxQueued` new events are
 * dropped, counted in `stats.dropped` and logged.
 *
 * @example
 * const queue = new InferenceEventQueue({ deliver: deliverToCollector({ url, siteKey }) });
 * const inference = await createInferenceServer({ host, recordInference: queue.record });
 * await queue.close(3000);
 */
export class InferenceEventQueue {
  private readonly queue: InferenceEvent[] = [];
  private readonly maxQueued: number;
  private readonly maxBatch: number;
  private readonly flushDelayMs: number;
  private readonly minRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly log: (line: string) => void;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<boolean> | undefined;
  private retryMs = 0;
  private closed = false;
  private dropLogged = false;
  private droppedUnlogged = 0;
  readonly stats: InferenceEventQueueStats = { queued: 0, delivered: 0, dropped: 0, failedDeliveries: 0 };

  constructor(private readonly options: InferenceEventQueueOptions) {
    this.maxQueued = options.maxQueued ?? 10_000;
    this.maxBatch = options.maxBatch ?? 200;
    this.flushDelayMs = options.flushDelayMs ?? 1000;
    this.minRetryMs = options.minRetryMs ?? 1000;
    this.maxRetryMs = options.maxRetryMs ?? 30_000;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** `recordInference` for createInferenceServer: the record as an `inference` event, queued. */
  readonly record: RecordInference = (record) => {
    const checked = inferenceEventOf(record);
    if (checked.ok) this.push(checked.event);
    else this.drop(1, `not a valid event: ${checked.error}`);
  };

  push(event: InferenceEvent): void {
    if (this.closed || this.queue.length >= this.maxQueued) {
      this.drop(1, this.closed ? 'the queue is closed' : `the queue is full (${this.maxQueued} events)`);
      return;
    }
    this.queue.push(event);
    this.stats.queued = this.queue.length;
    if (this.queue.length === this.maxBatch && this.retryMs === 0) {
      // A full batch goes now rather than at the end of the first event's wait.
      this.clearTimer();
      this.schedule(0);
    } else this.schedule(this.retryMs || this.flushDelayMs);
  }

  /**
   * Delivers what is queued now; resolves when the queue is empty or a delivery failed. Never rejects.
   */
  async flush(): Promise<void> {
    this.clearTimer();
    while (this.sending) await this.sending;
    while (this.queue.length > 0) {
      this.sending = this.deliverOne();
      const delivered = await this.sending;
      this.sending = undefined;
      if (!delivered) return;
    }
  }

  /**
   * Stops accepting events and delivers the rest until `timeoutMs` has passed (a delivery under way
   * finishes within its own bound); what is left then is dropped and counted.
   */
  async close(timeoutMs: number): Promise<InferenceEventQueueStats> {
    this.closed = true;
    this.clearTimer();
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) {
      await this.flush();
      const wait = Math.min(this.retryMs, deadline - Date.now());
      if (this.queue.length > 0 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    if (this.queue.length > 0) this.drop(this.queue.splice(0).length, `still undelivered ${timeoutMs} ms after close`);
    this.stats.queued = 0;
    this.reportDrops();
    return { ...this.stats };
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.sending || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().then(() => {
        if (this.queue.length > 0) this.schedule(this.retryMs || this.flushDelayMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One batch from the head; true when it left the queue (delivered, or refused for good). */
  private async deliverOne(): Promise<boolean> {
    const batch = this.queue.slice(0, this.maxBatch);
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.options.deliver(batch);
    } catch (error) {
      outcome = { ok: false, permanent: false, reason: (error as Error)?.message ?? String(error) };
    }
    if (outcome.ok) {
      this.queue.splice(0, batch.length);
      this.stats.delivered += batch.length - (outcome.rejected ?? 0);
      if (outcome.rejected) this.drop(outcome.rejected, 'the collector rejected them');
      this.retryMs = 0;
      this.stats.queued = this.queue.length;
      this.reportDrops();
      return true;
    }
    this.stats.failedDeliveries++;
    if (outcome.permanent) {
      this.queue.splice(0, batch.length);
      this.stats.queued = this.queue.length;
      this.drop(batch.length, `the collector refused the batch: ${outcome.reason}`);
      this.reportDrops();
      return true;
    }
    this.retryMs = Math.min(this.maxRetryMs, Math.max(outcome.retryAfterMs ?? 0, this.retryMs ? this.retryMs * 2 : this.minRetryMs));
    this.log(`serve: telemetry delivery failed (${outcome.reason}); ${this.queue.length} events queued, retry in ${this.retryMs} ms`);
    return false;
  }

  private drop(count: number, why: string): void {
    this.stats.dropped += count;
    // The first drop of a run is logged at once, the rest summed up at the next delivery: a full queue
    // under load must not turn into a log line per request.
    if (!this.dropLogged) this.log(`serve: telemetry dropped ${count} event(s): ${why} (${this.stats.dropped} in all)`);
    else this.droppedUnlogged += count;
    this.dropLogged = true;
  }

  private reportDrops(): void {
    if (this.droppedUnlogged > 0) this.log(`serve: telemetry dropped ${this.droppedUnlogged} more event(s) (${this.stats.dropped} in all)`);
    this.dropLogged = false;
    this.droppedUnlogged = 0;
  }
}
