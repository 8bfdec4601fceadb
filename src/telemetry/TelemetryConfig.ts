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
  /**
   * Federated fine-tuning: `reportFeedback({ …, label, input })` keeps the labelled input on this device (a bounded
   * store in IndexedDB, see `clearLocalExamples`) instead of sending it, and the page takes part, in idle time, in
   * the server's training and evaluation rounds: only head updates and counts leave the device. Off by default.
   * `true`, or options.
   */
  federated?: boolean | FederatedOptions;
  /** @deprecated Use `shareInputs` (same meaning; `shareInputs` wins when both are set). */
  includeInputs?: boolean;
}

/** `telemetry.federated` options. */
export interface FederatedOptions {
  /** How often the page asks the server for a round, in idle time (default 60 000 ms; at least 100). */
  pollIntervalMs?: number;
  /** Labelled inputs kept per model and version; the oldest go first (default 1000, at most 100 000). */
  maxExamplesPerVersion?: number;
}
