import type { InferenceEvent } from '../core/schema/TelemetryEvent';
import type { DeliveryOutcome } from './InferenceEventQueue';

/** What `deliverToWriter` needs of the collector's EventWriter (`Collector.writer`). */
export interface InferenceEventWriter {
  /** One transaction; resolves after commit. */
  insertBatch(events: readonly InferenceEvent[], meta: { siteKey: string; receivedAtMs: number }): Promise<unknown>;
}

/** In process (`npm start`): straight into the collector's EventWriter, one transaction per batch. */
export function deliverToWriter(writer: InferenceEventWriter, siteKey: string) {
  return async (events: InferenceEvent[]): Promise<DeliveryOutcome> => {
    // A failed transaction rolled back: nothing was stored, so the batch is retried as a whole.
    await writer.insertBatch(events, { siteKey, receivedAtMs: Date.now() });
    return { ok: true };
  };
}

export interface RemoteCollector {
  /** The collector's base URL (`http://collector:8080`) or its `/v1/events` URL. */
  url: string;
  siteKey: string;
  /** Bound on one POST. Default 10 000 ms. */
  timeoutMs?: number;
}

/**
 * A standalone `ondevice serve`: POST batches to a collector's `/v1/events`, as a browser client does.
 * 429/503/5xx and network errors are retried (honouring `Retry-After`); any other refusal is final.
 */
export function deliverToCollector(collector: RemoteCollector) {
  const url = eventsUrl(collector.url);
  return async (events: InferenceEvent[]): Promise<DeliveryOutcome> => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ siteKey: collector.siteKey, events }),
        signal: AbortSignal.timeout(collector.timeoutMs ?? 10_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { ok: false, permanent: false, reason: `${url}: ${(error as Error).message}${cause ? ` (${cause})` : ''}` };
    }
    const text = await response.text().catch(() => '');
    if (response.ok) {
      const rejected = (JSON.parse(text || '{}') as { rejected?: unknown[] }).rejected?.length ?? 0;
      return { ok: true, rejected };
    }
    const retryAfterSeconds = Number(response.headers.get('retry-after'));
    const code = /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? '';
    return {
      ok: false,
      permanent: !(response.status === 429 || response.status === 408 || response.status >= 500),
      reason: `${url} answered ${response.status} ${code}`.trim(),
      ...(retryAfterSeconds > 0 ? { retryAfterMs: retryAfterSeconds * 1000 } : {}),
    };
  };
}

function eventsUrl(base: string): string {
  const url = new URL(base);
  if (!url.pathname.endsWith('/v1/events')) url.pathname = `${url.pathname.replace(/\/$/, '')}/v1/events`;
  return url.href;
}
