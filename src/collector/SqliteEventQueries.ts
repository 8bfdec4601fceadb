import type { TelemetryBackend, TelemetryEventType } from '../core/eventSchema';
import type { EventQueries } from './EventQueries';
import { groupLatencySamples } from './groupLatencySamples';
import { latencyBucketSql } from './latencyBuckets';
import { percentile } from './percentile';
import type { SqliteStatements } from './SqliteStatements';
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

/** `[sinceMs, untilMs)` on the column windows use. */
const IN_WINDOW = 'at_ms >= @sinceMs AND at_ms < @untilMs';

/** EventQueries in SQL on one better-sqlite3 connection. */
export class SqliteEventQueries implements EventQueries {
  constructor(private readonly sql: SqliteStatements) {}

  async countByType() {
    return this.sql.all<{ type: TelemetryEventType; count: number }>('SELECT type, COUNT(*) AS count FROM events GROUP BY type');
  }

  async countErrorsByCode() {
    return this.sql.all<{ code: string; count: number }>(
      "SELECT error_code AS code, COUNT(*) AS count FROM events WHERE type = 'error' GROUP BY error_code",
    );
  }

  async latencyHistogram(window?: TimeWindow): Promise<LatencyBucketRow[]> {
    return this.sql.all<LatencyBucketRow>(
      `SELECT model_id AS modelId, model_version AS modelVersion, backend, ${latencyBucketSql('ms')} AS bucket,
              COUNT(*) AS count, SUM(ms) AS sumMs
       FROM events WHERE type = 'inference' ${window ? `AND ${IN_WINDOW}` : ''} GROUP BY 1, 2, 3, 4`,
      window ? { ...window } : {},
    );
  }

  async inferenceStats(w: TimeWindow): Promise<InferenceStats[]> {
    return this.sql.all<InferenceStats>(
      `SELECT model_id AS modelId, model_version AS modelVersion, backend, COUNT(*) AS count, AVG(ms) AS meanMs
       FROM events WHERE type = 'inference' AND ${IN_WINDOW} GROUP BY 1, 2, 3`,
      { ...w },
    );
  }

  async latencySamples(w: TimeWindow, maxRows: number): Promise<LatencySamples> {
    // Newest rows first so that, past the cap, percentiles describe the most recent traffic.
    const rows = this.sql.all<{ modelId: string; modelVersion: string; backend: TelemetryBackend; ms: number }>(
      `SELECT model_id AS modelId, model_version AS modelVersion, backend, ms FROM events
       WHERE type = 'inference' AND ${IN_WINDOW} ORDER BY at_ms DESC LIMIT @limit`,
      { ...w, limit: maxRows + 1 },
    );
    return groupLatencySamples(rows, maxRows);
  }

  async latencyPercentiles(w: TimeWindow, maxRows: number, qs: readonly number[]): Promise<LatencyPercentiles> {
    const { truncated, groups } = await this.latencySamples(w, maxRows);
    return {
      truncated,
      groups: groups.map(({ sortedMs, ...key }) => ({ ...key, count: sortedMs.length, values: qs.map((q) => percentile(sortedMs, q)) })),
    };
  }

  async loadStats(w: TimeWindow): Promise<LoadStats[]> {
    return this.sql.all<LoadStats>(
      `SELECT model_id AS modelId, model_version AS modelVersion, backend, COUNT(*) AS count, AVG(ms) AS meanMs,
              AVG(from_cache) AS fromCacheShare
       FROM events WHERE type = 'model_load' AND ${IN_WINDOW} GROUP BY 1, 2, 3`,
      { ...w },
    );
  }

  async errorCounts(w: TimeWindow): Promise<ModelCount[]> {
    return this.sql.all<ModelCount>(
      `SELECT model_id AS modelId, model_version AS modelVersion, COUNT(*) AS count
       FROM events WHERE type = 'error' AND ${IN_WINDOW} GROUP BY 1, 2`,
      { ...w },
    );
  }

  async deviceMix(w: TimeWindow): Promise<DeviceMixRow[]> {
    return this.sql.all<DeviceMixRow>(
      `SELECT i.model_id AS modelId, i.model_version AS modelVersion, i.backend AS backend,
              COALESCE(s.device_key, 'unknown') AS device, COUNT(DISTINCT i.session_id) AS sessions
       FROM events i LEFT JOIN events s ON s.type = 'session' AND s.session_id = i.session_id
       WHERE i.type = 'inference' AND i.at_ms >= @sinceMs AND i.at_ms < @untilMs GROUP BY 1, 2, 3, 4`,
      { ...w },
    );
  }

  async accuracy(w: TimeWindow, maxFeedbackPerInstall = Number.MAX_SAFE_INTEGER): Promise<AccuracyRow[]> {
    // The inference row is the source of truth for what was predicted; `predicted` on the feedback
    // covers inferences that were sampled out or never arrived. One install counts with at most
    // `maxFeedbackPerInstall` feedback events (its first ones), so a single client cannot swing it.
    return this.sql.all<AccuracyRow>(
      `SELECT model_id AS modelId, model_version AS modelVersion, COUNT(*) AS total,
              SUM(label = predicted_class) AS correct FROM (
         SELECT f.model_id, f.model_version, f.label,
                COALESCE((SELECT i.top_class FROM events i
                          WHERE i.type = 'inference' AND i.prediction_id = f.prediction_id LIMIT 1),
                         f.predicted) AS predicted_class,
                ROW_NUMBER() OVER (PARTITION BY f.site_key, f.install_id, f.model_id, f.model_version
                                   ORDER BY f.received_ms, f.id) AS nth
         FROM events f WHERE f.type = 'feedback' AND f.at_ms >= @sinceMs AND f.at_ms < @untilMs
       ) WHERE predicted_class IS NOT NULL AND nth <= @maxPerInstall GROUP BY 1, 2`,
      { ...w, maxPerInstall: maxFeedbackPerInstall },
    );
  }

  async predictionCounts(w: TimeWindow): Promise<PredictionCountRow[]> {
    return this.sql.all<PredictionCountRow>(
      `SELECT model_id AS modelId, model_version AS modelVersion, top_class AS topClass, COUNT(*) AS count
       FROM events WHERE type = 'inference' AND ${IN_WINDOW} AND top_class IS NOT NULL GROUP BY 1, 2, 3`,
      { ...w },
    );
  }

  async eventsOverTime(w: TimeWindow, bucketMs: number): Promise<TimeBucketRow[]> {
    return this.sql.all<TimeBucketRow>(
      `SELECT (at_ms / CAST(@size AS INTEGER)) * CAST(@size AS INTEGER) AS bucketStartMs, type, COUNT(*) AS count FROM events
       WHERE ${IN_WINDOW} GROUP BY 1, 2 ORDER BY 1`,
      { ...w, size: Math.max(1, Math.floor(bucketMs)) },
    );
  }

  async countInWindow(w: TimeWindow) {
    return this.sql.all<{ type: TelemetryEventType; count: number }>(
      `SELECT type, COUNT(*) AS count FROM events WHERE ${IN_WINDOW} GROUP BY type`,
      { ...w },
    );
  }
}
