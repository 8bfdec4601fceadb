import { LIMITS, type TelemetryEvent } from '../core/eventSchema';

export interface Batch {
  /** The JSON body: `{ siteKey?, events }`. */
  body: string;
  /** The ids of the events in `body`, in order (acknowledged together). */
  ids: string[];
}

/** Split events into bodies of at most `maxBytes` (UTF-8) and `maxEvents` events each. */
export function splitBatches(
  events: TelemetryEvent[],
  siteKey: string | undefined,
  maxBytes: number,
  maxEvents = LIMITS.maxEventsPerBatch,
): Batch[] {
  const encoder = new TextEncoder();
  const envelope = (parts: string[]) => `{${siteKey ? `"siteKey":${JSON.stringify(siteKey)},` : ''}"events":[${parts.join(',')}]}`;
  const overhead = encoder.encode(envelope([])).byteLength;
  const batches: Batch[] = [];
  let parts: string[] = [];
  let ids: string[] = [];
  let bytes = overhead;
  for (const event of events) {
    const json = JSON.stringify(event);
    const size = encoder.encode(json).byteLength + 1;
    // Cannot fit alone: only a `sample` event (up to LIMITS.maxSampleBytes) under the 60 KiB keepalive
    // budget of an unload flush. It is left out of these bodies, not dropped: it stays queued (IndexedDB)
    // and goes in a regular send, whose bodies (LIMITS.maxBodyBytes) always hold one.
    if (overhead + size > maxBytes) continue;
    if (parts.length > 0 && (bytes + size > maxBytes || parts.length >= maxEvents)) {
      batches.push({ body: envelope(parts), ids });
      parts = [];
      ids = [];
      bytes = overhead;
    }
    parts.push(json);
    ids.push(event.id);
    bytes += size;
  }
  if (parts.length) batches.push({ body: envelope(parts), ids });
  return batches;
}
