import { LIMITS, type TelemetryEvent } from '../core/eventSchema';
import { onLifecycle, type LifecycleEvent } from '../core/lifecycle';
import { pageGlobals } from '../core/pageGlobals';
import { collectDeviceInfo } from './collectDeviceInfo';
import { eventFromLifecycle, type EventInput } from './eventFromLifecycle';
import { EventQueue } from './EventQueue';
import { installId, sharedInstallId } from './installId';
import { newId } from './newId';
import { rememberPrediction } from './recentPredictions';
import { readCollectorAnswer, type CollectorAnswer, type DeferredEvent, type RejectedEvent } from './readCollectorAnswer';
import { splitBatches } from './splitBatches';
import { openTelemetryChannel, type TelemetryChannelMessage } from './telemetryChannel';
import type { TelemetryConfig } from './TelemetryConfig';
import { warnOnce } from './warnOnce';

const FLUSH_INTERVAL_MS = 5000;
const FLUSH_AT_EVENTS = 50;
const SEND_TIMEOUT_MS = 10_000;
/** At most this many unacknowledged events are kept (memory and IndexedDB); the oldest go first, counted. */
export const MAX_PENDING_EVENTS = 2000;
/** Of those, at most this many `sample` events (up to 128 KiB each): the oldest samples go first, counted. */
export const MAX_PENDING_SAMPLES = 100;
// Chrome allows 64 KiB in flight across all keepalive requests of a page; stay under it with headroom.
const KEEPALIVE_BODY_BYTES = LIMITS.maxKeepaliveBytes - 4 * 1024;

/** What a telemetry client has done so far; see `telemetryStatus()`. */
export interface TelemetryStatus {
  /** Events recorded and not yet acknowledged by the collector (kept in IndexedDB meanwhile). */
  pending: number;
  /** Events the collector acknowledged (stored, or already stored: it dedupes by id). */
  sent: number;
  /** Events given up on: refused one by one by the collector, or the oldest when the queue was full. */
  dropped: number;
  /**
   * The last thing that went wrong (the collector's error code, or a client code), `at` in ms since epoch.
   * `RATE_LIMITED` (with `retryAfterMs`) while events wait because the collector deferred them; it turns
   * back to `null` after the next send that leaves nothing deferred.
   */
  lastError: TelemetryError | null;
}

/** `telemetryStatus().lastError`. */
export interface TelemetryError {
  code: string;
  message: string;
  /** When it happened, ms since epoch. */
  at: number;
  /** `RATE_LIMITED` only: the events wait this long after `at` before they are sent again. */
  retryAfterMs?: number;
}

/**
 * Field telemetry: batches events, persists them until the collector acknowledges them, flushes on
 * `visibilitychange`→hidden and on `pagehide` (Safari does not reliably fire the former on unload).
 * An event leaves the IndexedDB queue only after the collector acknowledged it or refused that very
 * event; refusals are counted and said on the console, never silent. In a worker, every event is also
 * handed to the page's client, because a worker is terminated with its page without any unload event.
 */
export class Telemetry {
  readonly sessionId = newId();
  readonly sampled: boolean;
  /** The user agreed to share model inputs (`shareInputs`): `reportFeedback`'s input goes as a `sample` event. */
  shareInputs = false;
  private readonly queue: EventQueue;
  /** Every event this page knows is not yet acknowledged (so an unload flush can send synchronously). */
  private readonly pending = new Map<string, TelemetryEvent>();
  /** Events that came from the IndexedDB queue at start: the unload flush sends this page's own first. */
  private readonly replayed = new Set<string>();
  /** Events a worker handed over: the worker sends them itself; this page covers only its unload. */
  private readonly forwarded = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly unloadInFlight = new Set<string>();
  /** Events the collector deferred (over its per-install limit): not sent again before this time (ms since epoch). */
  private readonly notBefore = new Map<string, number>();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly isPage = pageGlobals().document !== undefined;
  private channel: BroadcastChannel | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> | undefined;
  /** Settles when the events earlier pages left in IndexedDB are loaded (flush waits for it). */
  private replay: Promise<void> = Promise.resolve();
  private failures = 0;
  private sent = 0;
  private dropped = 0;
  private lastError: TelemetryStatus['lastError'] = null;
  private readonly stops: (() => void)[] = [];
  private stopped = false;

  constructor(
    readonly config: TelemetryConfig,
    options: { queueName?: string } = {},
  ) {
    this.sampled = Math.random() < (config.sampleRate ?? 1);
    this.queue = new EventQueue(options.queueName);
  }

  start(): void {
    if (!this.sampled) return;
    void sharedInstallId();
    this.stops.push(onLifecycle((event) => this.fromLifecycle(event)));
    const onOnline = () => void this.flush();
    // Pages and workers both get 'online'; only pages have visibility and pagehide.
    addEventListener('online', onOnline);
    this.stops.push(() => removeEventListener('online', onOnline));
    const document = pageGlobals().document;
    if (document) {
      const onHidden = () => {
        if (pageGlobals().document?.visibilityState === 'hidden') this.flushOnUnload();
      };
      const onPageHide = () => this.flushOnUnload();
      document.addEventListener('visibilitychange', onHidden);
      addEventListener('pagehide', onPageHide);
      this.stops.push(() => {
        document.removeEventListener('visibilitychange', onHidden);
        removeEventListener('pagehide', onPageHide);
      });
    }
    this.channel = openTelemetryChannel(this.url());
    if (this.channel) {
      const channel = this.channel;
      const onMessage = (event: MessageEvent<TelemetryChannelMessage>) => this.fromChannel(event.data);
      channel.addEventListener('message', onMessage);
      this.stops.push(() => {
        channel.removeEventListener('message', onMessage);
        channel.close();
      });
    }
    void collectDeviceInfo()
      .then((device) => this.track({ type: 'session', modelId: '-', device }))
      .catch(() => undefined);
    // Replay what earlier pages (or an earlier client of this page) could not deliver.
    this.replay = this.queue
      .peek(MAX_PENDING_EVENTS)
      .then((events) => {
        for (const e of events) {
          if (this.pending.has(e.id)) continue;
          this.pending.set(e.id, e);
          this.replayed.add(e.id);
        }
        this.trim();
      })
      .catch(() => undefined);
    void this.replay.then(() => (this.pending.size > 0 ? this.flush() : undefined));
  }

  /** Stop recording and sending (a replaced configuration); what is pending stays in IndexedDB for the next client. */
  stop(): void {
    this.stopped = true;
    for (const s of this.stops.splice(0)) s();
    clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Record an event; it is persisted before any attempt to send it. */
  track(input: EventInput): TelemetryEvent | undefined {
    if (!this.sampled || this.stopped) return undefined;
    // Recorded at once, never held in memory only: a worker is terminated with its page, and an event
    // waiting for the profile's install id (read from IndexedDB, asked for in start()) would be lost with
    // it. Until that read settles, a worker's first events carry its own per-context id.
    const event = { ...input, id: newId(), ts: Date.now(), installId: installId(), sessionId: this.sessionId } as TelemetryEvent;
    this.pending.set(event.id, event);
    void this.queue.put([event]).catch(() => undefined);
    if (!this.isPage) this.post({ type: 'event', event });
    this.trim();
    if (this.pending.size - this.inFlight.size >= FLUSH_AT_EVENTS) void this.flush();
    else this.schedule();
    return event;
  }

  /** Events not yet acknowledged by the collector (this page's view). */
  get unacknowledged(): number {
    return this.pending.size;
  }

  status(): TelemetryStatus {
    return { pending: this.pending.size, sent: this.sent, dropped: this.dropped, lastError: this.lastError };
  }

  /** Send everything pending (but what the collector deferred); resolves when the attempt is over (acknowledged or kept for later). */
  flush(): Promise<void> {
    this.flushing ??= this.sendPending().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private schedule(delayMs = FLUSH_INTERVAL_MS): void {
    if (this.timer !== undefined || this.stopped) return;
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
    await this.replay;
    if (this.stopped) return;
    // Known offline: keep everything in IndexedDB and wait for the 'online' event instead of failing sends.
    if (isOffline()) return;
    let events = [...this.pending.values()].filter((e) => !this.inFlight.has(e.id) && !this.isDeferred(e.id));
    // Each round either settles at least one event or stops, so this ends.
    while (events.length > 0) {
      const [batch] = splitBatches(events, this.config.siteKey, LIMITS.maxBodyBytes - 1024);
      if (!batch) break;
      const { body, ids } = batch;
      ids.forEach((id) => this.inFlight.add(id));
      let answer: CollectorAnswer;
      try {
        const response = await fetch(this.url(), {
          method: 'POST',
          // text/plain keeps this a "simple" request: no CORS preflight, and the same as sendBeacon.
          headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
          body,
          signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
        });
        answer = await readCollectorAnswer(response, ids);
      } catch (e) {
        answer = { kind: 'retry', code: 'NETWORK_ERROR', message: (e as Error)?.message ?? String(e) };
      } finally {
        ids.forEach((id) => this.inFlight.delete(id));
      }
      const settled = await this.settle(ids, answer);
      if (settled.length === 0) break;
      const done = new Set(settled);
      events = events.filter((e) => !done.has(e.id) && this.pending.has(e.id));
    }
    this.scheduleDeferred();
  }

  /** Apply the collector's answer to the batch `ids`; returns the ids this flush is done with (settled or deferred). */
  private async settle(ids: string[], answer: CollectorAnswer): Promise<string[]> {
    switch (answer.kind) {
      case 'accepted':
        this.failures = 0;
        await this.acknowledge(answer.acknowledged);
        await this.drop(answer.rejected);
        this.defer(answer.deferred);
        return ids;
      case 'invalid':
        await this.drop(answer.rejected);
        return answer.rejected.map((r) => r.id);
      case 'undeliverable':
        await this.drop(ids.map((id) => ({ id, code: answer.code, path: '$' })));
        this.report(answer.code, `the collector refused a batch of ${ids.length} events (${answer.message}); they were dropped`);
        return ids;
      case 'refused':
        this.report(answer.code, this.refusalMessage(answer.code, answer.message));
        this.retryLater();
        return [];
      case 'retry':
        if (answer.code === 'RATE_LIMITED') {
          const retryAfterMs = answer.retryAfterMs ?? this.backoffMs(this.failures + 1);
          this.report(
            'RATE_LIMITED',
            `the collector refused a batch of ${ids.length} events (${answer.message}); ${this.waitingMessage(retryAfterMs)}`,
            retryAfterMs,
          );
        }
        this.retryLater(answer.retryAfterMs);
        return [];
    }
  }

  private refusalMessage(code: string, message: string): string {
    const kept = `${this.pending.size} events stay queued (at most ${MAX_PENDING_EVENTS}) and are sent once it accepts them`;
    if (code === 'UNKNOWN_SITE_KEY') {
      const key = this.config.siteKey ? `site key "${this.config.siteKey}"` : 'missing site key';
      return (
        `the collector at ${this.config.endpoint} refused the ${key} (${message}); ${kept}. ` +
        `Fix: configure({ telemetry: { endpoint: '${this.config.endpoint}', siteKey: '<a key in the collector's COLLECTOR_SITE_KEYS>' } })`
      );
    }
    if (code === 'ORIGIN_NOT_ALLOWED') {
      return `the collector at ${this.config.endpoint} refused this origin (${message}); ${kept}. Fix: add ${globalThis.location?.origin} to the collector's COLLECTOR_ALLOWED_ORIGINS`;
    }
    return `the collector at ${this.config.endpoint} refused the events (${code}: ${message}); ${kept}`;
  }

  /** Record and say (once per code) what went wrong. */
  private report(code: string, message: string, retryAfterMs?: number): void {
    this.lastError = retryAfterMs === undefined ? { code, message, at: Date.now() } : { code, message, retryAfterMs, at: Date.now() };
    warnOnce(`${this.url()} ${code}`, `ondevice telemetry ${code}: ${message}`);
  }

  private waitingMessage(retryAfterMs: number): string {
    return `they stay queued and are sent again in ${Math.ceil(retryAfterMs / 1000)} s`;
  }

  /**
   * Keep the events the collector deferred and send exactly those again after their `retryAfterMs`.
   * With nothing deferred any more, a `RATE_LIMITED` lastError is over: it turns back to null.
   */
  private defer(deferred: DeferredEvent[]): void {
    const now = Date.now();
    for (const d of deferred) if (this.pending.has(d.id)) this.notBefore.set(d.id, now + d.retryAfterMs);
    const [first] = deferred;
    if (first) {
      const retryAfterMs = Math.max(...deferred.map((d) => d.retryAfterMs));
      this.report(
        first.code,
        `the collector deferred ${deferred.length} event(s) over its per-install limit (first: ${first.id}); ${this.waitingMessage(retryAfterMs)}`,
        retryAfterMs,
      );
    } else if (this.lastError?.code === 'RATE_LIMITED' && this.notBefore.size === 0) {
      this.lastError = null;
    }
  }

  private isDeferred(id: string): boolean {
    const until = this.notBefore.get(id);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.notBefore.delete(id);
    return false;
  }

  /** A flush when the earliest deferred event may go again. */
  private scheduleDeferred(): void {
    if (this.stopped || this.notBefore.size === 0) return;
    const delayMs = Math.max(0, Math.min(...this.notBefore.values()) - Date.now());
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, delayMs);
  }

  private async acknowledge(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    for (const id of ids) {
      if (this.pending.delete(id)) this.sent++;
      this.forget(id);
    }
    this.post({ type: 'acknowledged', ids });
    await this.queue.remove(ids).catch(() => undefined);
  }

  private async drop(rejected: RejectedEvent[]): Promise<void> {
    if (rejected.length === 0) return;
    const ids = rejected.map((r) => r.id);
    for (const id of ids) {
      if (this.pending.delete(id)) this.dropped++;
      this.forget(id);
    }
    const [first] = rejected;
    this.report(
      first.code,
      `the collector refused ${rejected.length} event(s) (first: ${first.id} at ${first.path}); they were dropped and counted in telemetryStatus().dropped`,
    );
    this.post({ type: 'dropped', ids });
    await this.queue.remove(ids).catch(() => undefined);
  }

  private forget(id: string): void {
    this.replayed.delete(id);
    this.forwarded.delete(id);
    this.notBefore.delete(id);
  }

  /** Keep at most MAX_PENDING_EVENTS (and MAX_PENDING_SAMPLES samples): drop the oldest, count them and say so. */
  private trim(): void {
    const excess: string[] = [];
    for (const id of this.pending.keys()) {
      if (this.pending.size - excess.length <= MAX_PENDING_EVENTS) break;
      excess.push(id);
    }
    const oldest = new Set(excess);
    const samples = [...this.pending.values()].filter((e) => e.type === 'sample' && !oldest.has(e.id));
    for (const e of samples.slice(0, Math.max(0, samples.length - MAX_PENDING_SAMPLES))) excess.push(e.id);
    if (excess.length === 0) return;
    const own = excess.filter((id) => !this.forwarded.has(id));
    for (const id of excess) {
      this.pending.delete(id);
      this.forget(id);
    }
    if (own.length === 0) return; // a worker's events: that worker still holds them
    this.dropped += own.length;
    this.report(
      'QUEUE_FULL',
      `more than ${MAX_PENDING_EVENTS} events (or ${MAX_PENDING_SAMPLES} samples) were waiting for the collector; the ${own.length} oldest were dropped`,
    );
    void this.queue.remove(own).catch(() => undefined);
  }

  private post(message: TelemetryChannelMessage): void {
    try {
      this.channel?.postMessage(message);
    } catch {
      // A closed channel (the client stopped): the event is in IndexedDB and sent by this client anyway.
    }
  }

  private fromChannel(message: TelemetryChannelMessage): void {
    switch (message?.type) {
      case 'event':
        // Only a page needs a worker's events: for its unload flush. The worker keeps sending them itself.
        if (!this.isPage || this.pending.has(message.event.id)) return;
        this.pending.set(message.event.id, message.event);
        this.forwarded.add(message.event.id);
        this.trim();
        return;
      case 'acknowledged':
      case 'dropped':
        for (const id of message.ids) {
          this.pending.delete(id);
          this.forget(id);
        }
        return;
    }
  }

  /** Try again after the collector's `retryAfterMs`, else with exponential backoff. */
  private retryLater(retryAfterMs?: number): void {
    this.failures++;
    this.schedule(retryAfterMs ?? this.backoffMs(this.failures));
  }

  private backoffMs(failures: number): number {
    return Math.min(60_000, FLUSH_INTERVAL_MS * 2 ** Math.min(failures, 4));
  }

  /**
   * The page may be going away: send what fits in the keepalive budget now (fetch keepalive, else
   * sendBeacon), this page's own and its workers' events first. Everything stays in IndexedDB until
   * acknowledged, so what did not fit, or whose answer never arrives, is replayed by the next page —
   * the collector dedupes.
   */
  private flushOnUnload(): void {
    const all = [...this.pending.values()].filter((e) => !this.unloadInFlight.has(e.id));
    if (all.length === 0) return;
    // Deferred events are written again below but not sent: the collector asked for them later.
    const sendable = all.filter((e) => !this.isDeferred(e.id));
    // Forwarded events are already in IndexedDB (the worker wrote them); a second write may not finish.
    void this.queue.put(all.filter((e) => !this.forwarded.has(e.id))).catch(() => undefined);
    if (isOffline()) return;
    const events = [...sendable.filter((e) => !this.replayed.has(e.id)), ...sendable.filter((e) => this.replayed.has(e.id))];
    const [first] = splitBatches(events, this.config.siteKey, KEEPALIVE_BODY_BYTES);
    if (!first) return;
    const { body, ids } = first;
    // visibilitychange→hidden and pagehide both come on close: a body still in flight is not sent twice
    // (both would count against the keepalive budget).
    ids.forEach((id) => this.unloadInFlight.add(id));
    const done = () => ids.forEach((id) => this.unloadInFlight.delete(id));
    try {
      void fetch(this.url(), { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body, keepalive: true })
        .then((response) => readCollectorAnswer(response, ids))
        .then((answer) => this.settle(ids, answer))
        .catch(() => undefined)
        .finally(done);
    } catch {
      done();
      pageGlobals().navigator?.sendBeacon?.(this.url(), new Blob([body], { type: 'text/plain;charset=UTF-8' }));
    }
  }

  private fromLifecycle(event: LifecycleEvent): void {
    const input = eventFromLifecycle(event);
    if (input?.type === 'inference' && input.output.predictionId)
      rememberPrediction(input.output.predictionId, Object.keys(input.inputDims));
    if (input) this.track(input);
  }
}

function isOffline(): boolean {
  return globalThis.navigator?.onLine === false;
}
