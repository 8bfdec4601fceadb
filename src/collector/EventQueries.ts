// Types-only: the analytics read side of collector storage. Every window is on the collector's clock
// (the time an event was received), never the client's.
import type { TelemetryEventType } from '../core/eventSchema';
import type {
  AccuracyRow,
  DeviceMixRow,
  InferenceStats,
  LatencyBucketRow,
  LatencyPercentiles,
  LatencySamples,
  LoadStats,
  ModelCount,
  PredictionCountRow,
  TimeBucketRow,
  TimeWindow,
} from './storeRows';

export interface EventQueries {
  countByType(): Promise<Array<{ type: TelemetryEventType; count: number }>>;
  countErrorsByCode(): Promise<Array<{ code: string; count: number }>>;
  /** Latency histogram (all time without a window: seeds the Prometheus histogram at startup). */
  latencyHistogram(window?: TimeWindow): Promise<LatencyBucketRow[]>;

  inferenceStats(window: TimeWindow): Promise<InferenceStats[]>;
  latencySamples(window: TimeWindow, maxRows: number): Promise<LatencySamples>;
  /**
   * Percentiles `qs` (each in [0, 1], R-7 as ./percentile) of the sample latencySamples returns, without
   * shipping the rows: what /v1/summary and latency alerts read.
   */
  latencyPercentiles(window: TimeWindow, maxRows: number, qs: readonly number[]): Promise<LatencyPercentiles>;
  loadStats(window: TimeWindow): Promise<LoadStats[]>;
  errorCounts(window: TimeWindow): Promise<ModelCount[]>;
  deviceMix(window: TimeWindow): Promise<DeviceMixRow[]>;
  /** Feedback accuracy; each install weighs at most `maxFeedbackPerInstall` events (its earliest received). */
  accuracy(window: TimeWindow, maxFeedbackPerInstall?: number): Promise<AccuracyRow[]>;
  predictionCounts(window: TimeWindow): Promise<PredictionCountRow[]>;
  eventsOverTime(window: TimeWindow, bucketMs: number): Promise<TimeBucketRow[]>;
  countInWindow(window: TimeWindow): Promise<Array<{ type: TelemetryEventType; count: number }>>;
}
