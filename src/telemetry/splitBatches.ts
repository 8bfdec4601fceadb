import { LIMITS, type TelemetryEvent } from './schema';

/** Split events into bodies of at most `maxBytes` (UTF-8) and `maxEvents` events each. */
export function splitBatches(
  events: TelemetryEvent[],
  siteKey: string | undefined,
  maxBytes: number,
  maxEvents = LIMITS.maxEventsPerBatch,
): string[] {
  const encoder = new TextEncoder();
  const envelope = (parts: string[]) => `{${siteKey ? `"siteKey":${JSON.stringify(siteKey)},` : ''}"events":[${parts.join(',')}]}`;
  const overhead = encoder.encode(envelope([])).byteLength;
  const bodies: string[] = [];
  let parts: string[] = [];
  let bytes = overhead;
  for (const event of events) {
    const json = JSON.stringify(event);
    const size = encoder.encode(json).byteLength + 1;
    if (overhead + size > maxBytes) continue; // cannot fit alone; the schema's limits make this unreachable
    if (parts.length > 0 && (bytes + size > maxBytes || parts.length >= maxEvents)) {
      bodies.push(envelope(parts));
      parts = [];
      bytes = overhead;
    }
    parts.push(json);
    bytes += size;
  }
  if (parts.length) bodies.push(envelope(parts));
  return bodies;
}
