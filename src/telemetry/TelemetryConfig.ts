export interface TelemetryConfig {
  /** Collector URL for event batches, e.g. `/v1/events`. */
  endpoint: string;
  /** Site key sent with each batch (beacons cannot carry headers). */
  siteKey?: string;
  /** Fraction of page sessions that report, 0..1. Default 1. */
  sampleRate?: number;
  /** Include raw inputs in inference events. Off unless explicitly enabled. */
  includeInputs?: boolean;
}
