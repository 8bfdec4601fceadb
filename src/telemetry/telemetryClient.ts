import type { FeedbackEvent } from '../core/eventSchema';
import { feedbackEvent, type Feedback } from './feedbackEvent';
import { sampleEvent } from './sampleEvent';
import { sampleInputs } from './sampleInputs';
import { Telemetry, type TelemetryStatus } from './Telemetry';
import type { TelemetryConfig } from './TelemetryConfig';
import { sharesInputs, validateTelemetryConfig } from './validateTelemetryConfig';

export type { Feedback } from './feedbackEvent';
export type { TelemetryError, TelemetryStatus } from './Telemetry';

const clients = new Map<string, Telemetry>();
/** The client `configure({ telemetry })` set up, replaced when the configuration changes. */
let configured: string | undefined;

const keyOf = (config: TelemetryConfig) => `${config.endpoint}|${config.siteKey ?? ''}`;

/**
 * The telemetry client for an endpoint, started on first use (one per endpoint and site key). Throws
 * INVALID_INPUT for a config that can never work (see validateTelemetryConfig).
 */
export function telemetryFor(config: TelemetryConfig): Telemetry | undefined {
  validateTelemetryConfig(config);
  // Pages and workers (the demo's pipeline worker) report; Node and service workers do not.
  if (typeof fetch === 'undefined' || typeof location === 'undefined') return undefined;
  const key = keyOf(config);
  let client = clients.get(key);
  if (!client) {
    client = new Telemetry(config);
    client.start();
    clients.set(key, client);
  }
  // Consent can change without changing where events go (the demo's checkbox): the latest config says.
  client.shareInputs = sharesInputs(config);
  return client;
}

/**
 * The library-wide telemetry (`configure({ telemetry })`). A new config replaces the previous client:
 * fixing a refused site key must not leave the old client resending with it. Its unacknowledged events
 * stay in IndexedDB and the new client sends them.
 */
export function configureTelemetry(config: TelemetryConfig | false | undefined): void {
  if (config) validateTelemetryConfig(config);
  const key = config ? keyOf(config) : undefined;
  if (configured !== undefined && configured !== key) {
    clients.get(configured)?.stop();
    clients.delete(configured);
  }
  configured = key;
  if (config) telemetryFor(config);
}

export function activeTelemetry(): Telemetry[] {
  return [...clients.values()];
}

/**
 * Report ground truth for an earlier prediction, so the collector can track accuracy per model version.
 * With `input` (or `inputs`) and `configure({ telemetry: { …, shareInputs: true } })`, the input also
 * travels as a `sample` event (a training example); without that consent only the label is sent.
 * Throws INVALID_INPUT for a label the collector could never accept (empty, not an integer), or an input
 * that is malformed or too big (details.reason SAMPLE_TOO_LARGE); then nothing is sent.
 *
 * @example
 * const out = await model.run({ image });
 * // …later, when the user corrects the result:
 * reportFeedback({ modelId: model.id, predictionId: model.lastPredictionId!, label: 7, input: image });
 */
export function reportFeedback(feedback: Feedback): void {
  const event = feedbackEvent(feedback) as Omit<FeedbackEvent, 'id' | 'ts' | 'installId' | 'sessionId'>;
  const sharing = [...clients.values()].filter((c) => c.shareInputs);
  const sample =
    feedback.input !== undefined || feedback.inputs !== undefined
      ? sampleEvent(event, sampleInputs({ ...feedback, predictionId: event.predictionId }, sharing.length > 0))
      : undefined;
  for (const client of clients.values()) {
    client.track(event);
    if (sample && client.shareInputs) client.track(sample);
  }
}

/**
 * Send everything pending now (e.g. before a test reads the collector); resolves when the attempt is
 * over, with `telemetryStatus()` after it: `pending: 0` when everything was delivered, else what waits
 * and why (`lastError`, e.g. `RATE_LIMITED` with `retryAfterMs` when the collector deferred samples over
 * its per-install limit: they are sent again by themselves).
 *
 * @example
 * const { pending, lastError } = await flushTelemetry();
 * if (pending > 0 && lastError?.code === 'RATE_LIMITED') showNote(`sending in ${lastError.retryAfterMs} ms`);
 */
export async function flushTelemetry(): Promise<TelemetryStatus> {
  await Promise.all([...clients.values()].map((c) => c.flush()));
  return telemetryStatus();
}

/**
 * How telemetry is doing on this page: events waiting for the collector, acknowledged, dropped, and
 * the last problem (e.g. `UNKNOWN_SITE_KEY` when the collector refuses the site key). Zeros and
 * `lastError: null` when telemetry is not configured.
 *
 * @example
 * const { pending, lastError } = telemetryStatus();
 * if (lastError) console.log(lastError.code, lastError.message);
 */
export function telemetryStatus(): TelemetryStatus {
  const all = [...clients.values()].map((c) => c.status());
  const lastError = all
    .map((s) => s.lastError)
    .filter((e) => e !== null)
    .reduce<TelemetryStatus['lastError']>((latest, e) => (latest === null || e.at >= latest.at ? e : latest), null);
  return {
    pending: all.reduce((n, s) => n + s.pending, 0),
    sent: all.reduce((n, s) => n + s.sent, 0),
    dropped: all.reduce((n, s) => n + s.dropped, 0),
    lastError,
  };
}
