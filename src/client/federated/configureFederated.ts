import type { TelemetryConfig } from '../../telemetry/TelemetryConfig';
import { federatedOptions } from '../../telemetry/validateTelemetryConfig';
import { FederatedClient, type FederatedStatus } from './FederatedClient';

let client: FederatedClient | undefined;

/**
 * Start, keep or stop this page's federated client after `configure()`: it runs while telemetry has
 * `federated` on, against `server` (the ondevice server, ending with `/`). Pages only: a worker or a
 * service worker keeps examples but does not poll.
 */
export function configureFederated(telemetry: TelemetryConfig | false | undefined, server: string): void {
  const options = telemetry ? federatedOptions(telemetry) : undefined;
  const wanted =
    options && typeof fetch === 'function' && typeof document !== 'undefined'
      ? { server, siteKey: telemetry ? telemetry.siteKey : undefined, pollIntervalMs: options.pollIntervalMs }
      : undefined;
  const same =
    client &&
    wanted &&
    client.options.server === wanted.server &&
    client.options.siteKey === wanted.siteKey &&
    client.options.pollIntervalMs === wanted.pollIntervalMs;
  if (same) return;
  client?.stop();
  client = undefined;
  if (!wanted) return;
  client = new FederatedClient(wanted);
  client.start();
}

/**
 * What this page's federated fine-tuning has done: whether it takes part (`configure({ telemetry: { federated: true } })`),
 * the rounds it answered, the last round it looked at and the last problem. Nothing but head updates and counts
 * ever leaves the device.
 *
 * @example
 * const { active, rounds, lastError } = federatedStatus();
 */
export function federatedStatus(): FederatedStatus {
  return client ? { ...client.status } : { active: false, rounds: 0, lastRound: null, lastError: null };
}

/** @internal Ask for rounds now instead of at the next poll (tests). */
export function pollFederatedNow(): Promise<void> {
  return client?.pollNow() ?? Promise.resolve();
}
