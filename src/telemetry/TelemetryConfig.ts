export interface TelemetryConfig {
  /** Collector URL for event batches: absolute (`https://…`) or a path (`/v1/events`). */
  endpoint: string;
  /**
   * Site key sent with each batch (beacons cannot carry headers). Optional: a collector may need none;
   * one that refuses the key is reported in `telemetryStatus().lastError` and on the console.
   */
  siteKey?: string;
  /** Fraction of page sessions that report, 0..1. Default 1. */
  sampleRate?: number;
  /**
   * The user agreed to share model inputs: `reportFeedback({ …, input })` then also sends the input as a
   * `sample` event (a training example for the model). Off by default; without it only the label travels.
   */
  shareInputs?: boolean;
  /** @deprecated Use `shareInputs` (same meaning; `shareInputs` wins when both are set). */
  includeInputs?: boolean;
}
