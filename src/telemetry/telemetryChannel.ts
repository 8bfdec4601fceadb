import type { TelemetryEvent } from '../core/eventSchema';

/**
 * What telemetry clients of one origin and collector tell each other over a BroadcastChannel. A worker
 * (the demo's pipeline worker) gets no `pagehide`: when its page closes it is simply terminated, so it
 * hands every event to the page's client, which sends it in the page-close flush. Acknowledgements and
 * drops are shared so no client keeps resending what another one delivered.
 */
export type TelemetryChannelMessage =
  { type: 'event'; event: TelemetryEvent } | { type: 'acknowledged'; ids: string[] } | { type: 'dropped'; ids: string[] };

/** One channel per collector URL and site key, or undefined where BroadcastChannel is missing. */
export function openTelemetryChannel(collectorUrl: string): BroadcastChannel | undefined {
  return typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel(`ondevice-telemetry ${collectorUrl}`);
}
