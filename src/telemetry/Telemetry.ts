import { pageGlobals } from '../core/pageGlobals';
import { onLifecycle, type LifecycleEvent } from '../core/lifecycle';
import type { Feeds } from '../core/protocol';
import { collectDeviceInfo } from './collectDeviceInfo';
import { EventQueue } from './EventQueue';
import { installId } from './installId';
import { newId } from './newId';
import { LIMITS, type TelemetryEvent } from '../core/eventSchema';
import { splitBatches } from './splitBatches';
import { summarizeOutput } from './summarizeOutput';
import type { TelemetryConfig } from './TelemetryConfig';

type EventInput = TelemetryEvent extends infer E
  ? E extends TelemetryEvent
    ? Omit<E, 'id' | 'ts' | 'installId' | 'sessionId'>
    : never
  : never;

const FLUSH_INTERVAL_MS = 5000;
const FLUSH_AT_EVENTS = 50;
const SEND_TIMEOUT_MS = 10_000;
// Chrome allows 64 KiB in flight across all keepalive requests of a page; stay under it with headroom.
const KEEPALIVE_BODY_BYTES = LIMITS.maxKeepaliveBytes - 4 * 1024;

/**
 * Field telemetry: batches events, persists them until the collector acknowledges them, flushes on
 * `visibilitychange`→hidden and on `pagehide` (Safari does not reliably fire the former on unload).
 * An event leaves the IndexedDB queue only after a 2xx from the collector, which dedupes by event id,
 * so retries never double-count and nothing acknowledged is ever lost.
 */
export class Telemetry {
  readonly sessionId = newId();
  readonly sampled: boolean;
  private readonly queue: EventQueue;
  /** Every event this page knows is not yet acknowledged (so an unload flush can send synchronously). */
  private readonly pending = new Map<string, TelemetryEvent>();
  private readonly inFlight = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  private readonly stops: (() => void)[] = [];

  constructor(
    readonly config: TelemetryConfig,
    options: { queueName?: string } = {},
  ) {
    this.sampled = Math.random() < (config.sampleRate ?? 1);
    this.queue = new EventQueue(options.queueName);
  }

  start(): void {
    if (!this.sampled) return;
    this.stops.push(onLifecycle((event) => this.fromLifecycle(event)));
    const onHidden = () => {
      if (pageGlobals().document?.visibilityState === 'hidden') this.flushOnUnload();
    };
    const onPageHide = () => this.flushOnUnload();
    const onOnline = () => void this.flush();
    // Pages and workers both get 'online'; only pages have visibility and pagehide.
    addEventListener('online', onOnline);
    this.stops.push(() => removeEventListener('online', onOnline));
    const document = pageGlobals().document;
    if (document) {
      document.addEventListener('visibilitychange', onHidden);
      addEventListener('pagehide', onPageHide);
      this.stops.push(() => {
        document.removeEventListener('visibilitychange', onHidden);
        removeEventListener('pagehide', onPageHide);
      });
    }
    void collectDeviceInfo()
      .then((device) => this.track({ type: 'session', modelId: '-', device }))
      .catch(() => undefined);
    // Replay what earlier pages could not deliver.
    void this.queue
      .peek(5000)
      .then((events) => {
        for (const e of events) this.pending.set(e.id, e);
        if (events.length) void this.flush();
      })
      .catch(() => undefined);
  }

  stop(): void {
    for (const s of this.stops.splice(0)) s();
    clearTimeout(this.timer);
  }

  /** Record an event; it is persisted before any attempt to send it. */
  track(input: EventInput): TelemetryEvent | undefined {
    if (!this.sampled) return undefined;
    const event = { ...input, id: newId(), ts: Date.now(), installId: installId(), sessionId: this.sessionId } as TelemetryEvent;
    this.pending.set(event.id, event);
    void this.queue.put([event]).catch(() => undefined);
    if (this.pending.size - this.inFlight.size >= FLUSH_AT_EVENTS) void this.flush();
    else this.schedule();
    return event;
  }

  /** Events not yet acknowledged by the collector (this page's view). */
  get unacknowledged(): number {
    return this.pending.size;
  }

  /** Send everything pending; resolves when the attempt is over (acknowledged or kept for later). */
  flush(): Promise<void> {
    this.flushing ??= this.sendPending().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private schedule(delayMs = FLUSH_INTERVAL_MS): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
  }

  private url(): string {
    const url = new URL(this.config.endpoint, globalThis.location?.href);
    if (this.config.siteKey) url.searchParams.set('key', this.config.siteKey);
    return url.href;
  }

  private async sendPending(): Promise<void> {
    // Known offline: keep everything in IndexedDB and wait for the 'online' event instead of failing sends.
    if (isOffline()) return;
    const events = [...this.pending.values()].filter((e) => !this.inFlight.has(e.id));
    if (events.length === 0) return;
    // Not unloading: ordinary fetches, bodies up to the collector's limit.
    for (const { body, ids } of splitBatches(events, this.config.siteKey, LIMITS.maxBodyBytes - 1024)) {
      ids.forEach((id) => this.inFlight.add(id));
      try {
        const response = await fetch(this.url(), {
          method: 'POST',
          // text/plain keeps this a "simple" request: no CORS preflight, and the same as sendBeacon.
          headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
          body,
          signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
        });
        if (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 429 && response.status !== 408)) {
          // 2xx: acknowledged. Other 4xx: the collector will never accept these; retrying cannot help.
          await this.acknowledge(ids);
          this.failures = 0;
        } else {
          this.retryLater();
          return;
        }
      } catch {
        this.retryLater();
        return;
      } finally {
        ids.forEach((id) => this.inFlight.delete(id));
      }
    }
  }

  private async acknowledge(ids: string[]): Promise<void> {
    for (const id of ids) this.pending.delete(id);
    await this.queue.remove(ids).catch(() => undefined);
  }

  private retryLater(): void {
    this.failures++;
    this.schedule(Math.min(60_000, FLUSH_INTERVAL_MS * 2 ** Math.min(this.failures, 4)));
  }

  /**
   * The page may be going away: send what fits in the keepalive budget now (fetch keepalive, else
   * sendBeacon). Everything stays in IndexedDB until acknowledged, so what did not fit, or whose
   * answer never arrives, is replayed by the next page — the collector dedupes.
   */
  private flushOnUnload(): void {
    const events = [...this.pending.values()];
    if (events.length === 0) return;
    void this.queue.put(events).catch(() => undefined);
    if (isOffline()) return;
    const [first] = splitBatches(events, this.config.siteKey, KEEPALIVE_BODY_BYTES);
    if (!first) return;
    const { body, ids } = first;
    try {
      void fetch(this.url(), { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body, keepalive: true })
        .then((r) => (r.ok ? this.acknowledge(ids) : undefined))
        .catch(() => undefined);
    } catch {
      pageGlobals().navigator?.sendBeacon?.(this.url(), new Blob([body], { type: 'text/plain;charset=UTF-8' }));
    }
  }

  private fromLifecycle(event: LifecycleEvent): void {
    if (event.report === false) return;
    const modelVersion = event.modelVersion ?? '0';
    switch (event.type) {
      case 'model_load':
        this.track({
          type: 'model_load',
          modelId: event.modelId,
          modelVersion,
          backend: event.info.backend,
          ...(event.fallbackReason ? { fallbackReason: event.fallbackReason.slice(0, LIMITS.maxFallbackReasonLength) } : {}),
          bytes: event.info.bytes,
          fromCache: event.info.fromCache,
          ms: Math.min(event.ms, LIMITS.maxDurationMs),
        });
        break;
      case 'inference':
        this.track({
          type: 'inference',
          modelId: event.modelId,
          modelVersion,
          backend: event.backend,
          ms: Math.min(event.ms, LIMITS.maxDurationMs),
          inputDims: event.inputDims,
          output: { ...summarizeOutput(event.outputs as Feeds), predictionId: event.predictionId },
        });
        break;
      case 'error':
        this.track({
          type: 'error',
          modelId: event.modelId ?? '-',
          modelVersion,
          code: event.error.code,
          message: event.error.message.slice(0, LIMITS.maxMessageLength),
        });
        break;
      case 'backend_lost':
        this.track({
          type: 'error',
          modelId: event.modelId,
          modelVersion,
          code: 'BACKEND_LOST',
          message: event.reason.slice(0, LIMITS.maxMessageLength),
        });
        break;
    }
  }
}

function isOffline(): boolean {
  return globalThis.navigator?.onLine === false;
}
