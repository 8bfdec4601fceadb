// Types-only: the storage interface the collector talks to. SQLite lives behind it
// (SqliteEventStore.ts) so the HTTP, monitoring and dashboard code never see SQL.
import type { TelemetryBackend, TelemetryEvent, TelemetryEventType } from '../core/eventSchema';

export interface InsertMeta {
  siteKey: string;
  receivedAtMs: number;
}

export interface InsertResult {
  /** Events written by this batch (new ids). */
  stored: TelemetryEvent[];
  /** Events whose id was already stored (or repeated within the batch). */
  duplicates: number;
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

export interface EventStore {
  /** One transaction; returns after commit. Ids already present are ignored and counted. */
  insertBatch(events: readonly TelemetryEvent[], meta: InsertMeta): InsertResult;

  countByType(): Array<{ type: TelemetryEventType; count: number }>;
  countErrorsByCode(): Array<{ code: string; count: number }>;
  /** All-time latency histogram (seeds the Prometheus histogram at startup). */
  latencyHistogram(window?: TimeWindow): LatencyBucketRow[];

  inferenceStats(window: TimeWindow): InferenceStats[];
  latencySamples(window: TimeWindow, maxRows: number): LatencySamples;
  loadStats(window: TimeWindow): LoadStats[];
  errorCounts(window: TimeWindow): ModelCount[];
  deviceMix(window: TimeWindow): DeviceMixRow[];
  accuracy(window: TimeWindow): AccuracyRow[];
  predictionCounts(window: TimeWindow): PredictionCountRow[];
  eventsOverTime(window: TimeWindow, bucketMs: number): TimeBucketRow[];
  countInWindow(window: TimeWindow): Array<{ type: TelemetryEventType; count: number }>;

  firingAlerts(): AlertRecord[];
  listAlerts(limit: number): AlertRecord[];
  openAlert(alert: NewAlert): AlertRecord;
  resolveAlert(id: number, atMs: number, value: number): AlertRecord;

  insertMonitorSamples(samples: readonly MonitorSample[]): void;
  monitorSamples(window: TimeWindow, metric: string): MonitorSample[];
  pruneMonitorSamples(beforeMs: number): void;

  close(): void;
}
