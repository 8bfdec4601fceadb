import { LIMITS } from '../core/eventSchema';
import { Telemetry } from './Telemetry';
import type { TelemetryConfig } from './TelemetryConfig';

const clients = new Map<string, Telemetry>();

/** The telemetry client for an endpoint, started on first use (one per endpoint and site key). */
export function telemetryFor(config: TelemetryConfig): Telemetry | undefined {
  // Pages and workers (the demo's pipeline worker) report; Node and service workers do not.
  if (typeof fetch === 'undefined' || typeof location === 'undefined' || !config.endpoint) return undefined;
  const key = `${config.endpoint}|${config.siteKey ?? ''}`;
  let client = clients.get(key);
  if (!client) {
    client = new Telemetry(config);
    client.start();
    clients.set(key, client);
  }
  return client;
}

export function activeTelemetry(): Telemetry[] {
  return [...clients.values()];
}

export interface Feedback {
  modelId: string;
  modelVersion?: string;
  /** The prediction this label is for: `model.lastPredictionId`, or the `predictionId` you passed to `run`. */
  predictionId: string;
  /** The true label. */
  label: string | number;
  predicted?: string | number;
}

/**
 * Report ground truth for an earlier prediction, so the collector can track accuracy per model version.
 *
 * @example
 * const out = await model.run(feeds);
 * // …later, when the user corrects the result:
 * reportFeedback({ modelId: model.id, predictionId: model.lastPredictionId!, label: 'cat' });
 */
export function reportFeedback(feedback: Feedback): void {
  for (const client of clients.values()) {
    client.track({
      type: 'feedback',
      modelId: feedback.modelId,
      modelVersion: feedback.modelVersion ?? '0',
      predictionId: feedback.predictionId,
      label: typeof feedback.label === 'string' ? feedback.label.slice(0, LIMITS.maxLabelLength) : feedback.label,
      ...(feedback.predicted !== undefined ? { predicted: feedback.predicted } : {}),
    });
  }
}

/** Send everything pending now (e.g. before a test reads the collector). */
export async function flushTelemetry(): Promise<void> {
  await Promise.all([...clients.values()].map((c) => c.flush()));
}
