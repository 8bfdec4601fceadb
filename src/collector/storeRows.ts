// Types-only: the rows that cross the storage interfaces (EventWriter, EventQueries, AlertStore).
// Any database behind them returns these shapes, mapped by name.
import type { TelemetryBackend, TelemetryEvent, TelemetryEventType } from '../core/eventSchema';

export interface InsertMeta {
  siteKey: string;
  receivedAtMs: number;
}

export interface InsertResult {
  /**
   * Events written by this batch (new ids), with the model id and version they were stored under
   * (past the model-key budget these are `__other__`, see ModelKeyBudget).
   */
  stored: TelemetryEvent[];
  /** Events whose id was already stored (or repeated within the batch). */
  duplicates: number;
  /** Stored events whose model id or version was past the budget and is kept as `__other__`. */
  folded: number;
}

/** A time window on the collector's clock: `[sinceMs, untilMs)`. */
export interface TimeWindow {
  sinceMs: number;
  untilMs: number;
}

export interface ModelKey {
  modelId: string;
  modelVersion: string;
}

export interface BackendKey extends ModelKey {
  backend: TelemetryBackend;
}

export interface InferenceStats extends BackendKey {
  count: number;
  meanMs: number;
}

export interface LatencySamples {
  /** Latencies per model × version × backend, each sorted ascending. */
  groups: Array<BackendKey & { sortedMs: Float64Array }>;
  /** True when the window held more rows than the sample cap; the newest rows were kept. */
  truncated: boolean;
}

/** Percentiles of the same newest-rows sample as LatencySamples, computed where the rows are. */
export interface LatencyPercentiles {
  /** Per model × version × backend: the sample size and one R-7 percentile (see ./percentile) per asked `q`. */
  groups: Array<BackendKey & { count: number; values: number[] }>;
  /** True when the window held more rows than the sample cap; the newest rows were kept. */
  truncated: boolean;
}

export interface LoadStats extends BackendKey {
  count: number;
  meanMs: number;
  fromCacheShare: number;
}

export interface ModelCount extends ModelKey {
  count: number;
}

export interface DeviceMixRow extends BackendKey {
  /** e.g. "Apple / Chrome" or "no-webgpu / Firefox". */
  device: string;
  sessions: number;
}

export interface AccuracyRow extends ModelKey {
  /** Feedback events whose prediction is known (joined inference or `predicted`). */
  total: number;
  correct: number;
}

export interface PredictionCountRow extends ModelKey {
  topClass: string;
  count: number;
}

export interface LatencyBucketRow extends BackendKey {
  /** Index into LATENCY_BUCKETS_MS; `LATENCY_BUCKETS_MS.length` is the +Inf bucket. */
  bucket: number;
  count: number;
  sumMs: number;
}

export interface TimeBucketRow {
  bucketStartMs: number;
  type: TelemetryEventType;
  count: number;
}

export type AlertState = 'firing' | 'resolved';

export interface AlertRecord {
  id: number;
  rule: string;
  metric: string;
  /** Stable identity of the series the rule fired for, e.g. `{"modelId":"m","modelVersion":"1"}`. */
  series: string;
  labels: Record<string, string>;
  op: '<' | '>';
  threshold: number;
  state: AlertState;
  value: number;
  samples: number;
  firedAtMs: number;
  resolvedAtMs: number | null;
  resolvedValue: number | null;
}

export type NewAlert = Omit<AlertRecord, 'id' | 'state' | 'resolvedAtMs' | 'resolvedValue'>;

export interface MonitorSample {
  atMs: number;
  metric: string;
  labels: Record<string, string>;
  value: number;
  samples: number;
}
