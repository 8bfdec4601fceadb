import type pg from 'pg';
import type { TelemetryBackend, TelemetryEventType } from '../../core/eventSchema';
import { EVENT_TYPES } from '../../core/schema/TelemetryEvent';
import type { EventQueries } from '../EventQueries';
import { groupLatencySamples } from '../groupLatencySamples';
import { latencyBucketSql } from '../latencyBuckets';
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
} from '../storeRows';

const MINUTE_MS = 60_000;

/**
 * How a window splits between the per-minute rollups (whole minutes `[fromMinute, toMinute)`) and raw
 * events (the partial minutes `[sinceMs, fromMinute)` and `[toMinute, untilMs)` at its edges).
 * All time (no window): rollups only.
 */
export function splitWindow(w?: TimeWindow): { since: number; from: number; to: number; until: number } {
  if (!w) return { since: 0, from: Number.MIN_SAFE_INTEGER, to: Number.MAX_SAFE_INTEGER, until: 0 };
  const from = Math.ceil(w.sinceMs / MINUTE_MS) * MINUTE_MS;
  const to = Math.floor(w.untilMs / MINUTE_MS) * MINUTE_MS;
  if (to <= from) return { since: w.sinceMs, from: w.untilMs, to: w.untilMs, until: w.untilMs };
  return { since: w.sinceMs, from, to, until: w.untilMs };
}

/**
 * Raw rows in the edges of a split window ($1..$4 = since, from, to, until). Windows are on at_ms, which
 * the collector sets to the receive time (eventRow); repeating the bounds on received_ms, the partition
 * key, lets PostgreSQL skip every day partition outside the window.
 */
const EDGES = '((at_ms >= $1 AND at_ms < $2) OR (at_ms >= $3 AND at_ms < $4)) AND received_ms >= $1 AND received_ms < $4';
/** For queries over every type: lets the (type, at_ms) index serve the edges instead of a scan. */
const ANY_TYPE = `type IN (${EVENT_TYPES.map((t) => `'${t}'`).join(', ')})`;
/** Partition pruning for a plain window ($1, $2 = since, until), as in EDGES. */
const PRUNE = (alias: string) => `${alias}received_ms >= $1 AND ${alias}received_ms < $2`;
/** Rollup rows of the whole minutes of a split window. */
const MINUTES = 'minute_ms >= $2 AND minute_ms < $3';

/**
 * EventQueries on PostgreSQL. Counts, means, histograms and prediction counts read the per-minute
 * rollups for whole minutes plus raw events for the partial minutes at the edges, so their cost does
 * not grow with the raw events in the window; results equal the raw queries (SqliteEventQueries).
 * Device mix reads the per-minute session rollup and session_devices the same way. Latency percentiles
 * and accuracy need raw rows and read them (bounded by indexes); percentiles are computed in the database.
 */
export class PostgresEventQueries implements EventQueries {
  /** `useRollups: false` reads raw events only: the baseline `npm run bench -- summary` compares against. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { useRollups?: boolean } = {},
  ) {}

  private async all<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query<T>(sql, params)).rows;
  }

  private params(w?: TimeWindow): unknown[] {
    if (this.options.useRollups === false) {
      const raw = w ?? { sinceMs: Number.MIN_SAFE_INTEGER, untilMs: Number.MAX_SAFE_INTEGER };
      return [raw.sinceMs, raw.untilMs, raw.untilMs, raw.untilMs];
    }
    const s = splitWindow(w);
    return [s.since, s.from, s.to, s.until];
  }

  async countByType() {
    return this.all<{ type: TelemetryEventType; count: number }>('SELECT type, SUM(count)::int8 AS count FROM rollup_counts GROUP BY type');
  }

  async countErrorsByCode() {
    return this.all<{ code: string; count: number }>(
      "SELECT error_code AS code, SUM(count)::int8 AS count FROM rollup_counts WHERE type = 'error' GROUP BY error_code",
    );
  }

  async latencyHistogram(window?: TimeWindow): Promise<LatencyBucketRow[]> {
    return this.all<LatencyBucketRow>(
      `SELECT model_id AS "modelId", model_version AS "modelVersion", backend, bucket::int4 AS bucket,
              SUM(count)::int8 AS count, SUM(ms_sum) AS "sumMs" FROM (
         SELECT model_id, model_version, backend, bucket, count, ms_sum FROM rollup_latency WHERE ${MINUTES}
         UNION ALL
         SELECT model_id, model_version, backend, ${latencyBucketSql('ms')}, 1, ms FROM events
         WHERE type = 'inference' AND ${EDGES}
       ) x GROUP BY 1, 2, 3, 4`,
      this.params(window),
    );
  }

  async inferenceStats(w: TimeWindow): Promise<InferenceStats[]> {
    return this.all<InferenceStats>(
      `SELECT model_id AS "modelId", model_version AS "modelVersion", backend, SUM(count)::int8 AS count,
              SUM(ms_sum) / NULLIF(SUM(ms_count), 0) AS "meanMs" FROM (${this.countsUnion("'inference'")}) x
       GROUP BY 1, 2, 3`,
      this.params(w),
    );
  }

  async latencySamples(w: TimeWindow, maxRows: number): Promise<LatencySamples> {
    // Newest rows first so that, past the cap, percentiles describe the most recent traffic.
    const rows = await this.all<{ modelId: string; modelVersion: string; backend: TelemetryBackend; ms: number }>(
      `SELECT model_id AS "modelId", model_version AS "modelVersion", backend, ms FROM events
       WHERE type = 'inference' AND at_ms >= $1 AND at_ms < $2 AND ${PRUNE('')} ORDER BY at_ms DESC LIMIT $3`,
      [w.sinceMs, w.untilMs, maxRows + 1],
    );
    return groupLatencySamples(rows, maxRows);
  }

  async latencyPercentiles(w: TimeWindow, maxRows: number, qs: readonly number[]): Promise<LatencyPercentiles> {
    // The sample of latencySamples (the newest maxRows rows; one more read to tell truncation), reduced in
    // the database: percentile_cont interpolates between closest ranks, the R-7 definition of ./percentile,
    // so the values equal SqliteEventQueries' (which sorts the same rows in Node).
    const rows = await this.all<{
      modelId: string;
      modelVersion: string;
      backend: TelemetryBackend;
      count: number;
      values: number[];
      truncated: boolean;
    }>(
      `WITH newest AS MATERIALIZED (
         SELECT model_id, model_version, backend, ms, ROW_NUMBER() OVER (ORDER BY at_ms DESC) AS rn FROM (
           SELECT model_id, model_version, backend, ms, at_ms FROM events
           WHERE type = 'inference' AND at_ms >= $1 AND at_ms < $2 AND ${PRUNE('')} ORDER BY at_ms DESC LIMIT $3 + 1
         ) t
       )
       SELECT model_id AS "modelId", model_version AS "modelVersion", backend, COUNT(*)::int8 AS count,
              percentile_cont($4::float8[]) WITHIN GROUP (ORDER BY ms) AS values,
              (SELECT COUNT(*) FROM newest) > $3 AS truncated
       FROM newest WHERE rn <= $3 GROUP BY 1, 2, 3`,
      [w.sinceMs, w.untilMs, maxRows, qs],
    );
    return {
      truncated: rows.some((r) => r.truncated),
      groups: rows.map(({ truncated: _, values, ...key }) => ({ ...key, values: values.map(Number) })),
    };
  }

  async loadStats(w: TimeWindow): Promise<LoadStats[]> {
    return this.all<LoadStats>(
      `SELECT model_id AS "modelId", model_version AS "modelVersion", backend, SUM(count)::int8 AS count,
              SUM(ms_sum) / NULLIF(SUM(ms_count), 0) AS "meanMs",
              SUM(from_cache_sum)::float8 / NULLIF(SUM(from_cache_count), 0) AS "fromCacheShare"
       FROM (${this.countsUnion("'model_load'")}) x GROUP BY 1, 2, 3`,
      this.params(w),
    );
  }

  async errorCounts(w: TimeWindow): Promise<ModelCount[]> {
    return this.all<ModelCount>(
      `SELECT model_id AS "modelId", model_version AS "modelVersion", SUM(count)::int8 AS count
       FROM (${this.countsUnion("'error'")}) x GROUP BY 1, 2`,
      this.params(w),
    );
  }

  async deviceMix(w: TimeWindow): Promise<DeviceMixRow[]> {
    // Sessions that ran inferences: rollup_session_minutes for whole minutes, raw rows at the edges (the
    // distinct count is over the union, so a session seen in many minutes counts once); each joined to the
    // device classes its session events named (session_devices), 'unknown' without one, as the raw join.
    return this.all<DeviceMixRow>(
      `SELECT k.model_id AS "modelId", k.model_version AS "modelVersion", k.backend AS backend,
              COALESCE(d.device_key, 'unknown') AS device, COUNT(DISTINCT k.session_id)::int8 AS sessions FROM (
         SELECT model_id, model_version, backend, session_id FROM rollup_session_minutes WHERE ${MINUTES}
         UNION ALL
         SELECT model_id, model_version, backend, session_id FROM events WHERE type = 'inference' AND ${EDGES}
       ) k LEFT JOIN session_devices d ON d.session_id = k.session_id GROUP BY 1, 2, 3, 4`,
      this.params(w),
    );
  }

  async accuracy(w: TimeWindow, maxFeedbackPerInstall = Number.MAX_SAFE_INTEGER): Promise<AccuracyRow[]> {
    // As SqliteEventQueries.accuracy: the inference row decides what was predicted, `predicted` covers the
    // rest, and one install weighs at most `maxFeedbackPerInstall` feedback events (its first ones).
    return this.all<AccuracyRow>(
      `SELECT model_id AS "modelId", model_version AS "modelVersion", COUNT(*)::int8 AS total,
              SUM(CASE WHEN label = predicted_class THEN 1 ELSE 0 END)::int8 AS correct FROM (
         SELECT f.model_id, f.model_version, f.label,
                COALESCE((SELECT i.top_class FROM events i
                          WHERE i.type = 'inference' AND i.prediction_id = f.prediction_id LIMIT 1),
                         f.predicted) AS predicted_class,
                ROW_NUMBER() OVER (PARTITION BY f.site_key, f.install_id, f.model_id, f.model_version
                                   ORDER BY f.received_ms, f.id) AS nth
         FROM events f WHERE f.type = 'feedback' AND f.at_ms >= $1 AND f.at_ms < $2 AND ${PRUNE('f.')}
       ) x WHERE predicted_class IS NOT NULL AND nth <= $3 GROUP BY 1, 2`,
      [w.sinceMs, w.untilMs, Math.min(maxFeedbackPerInstall, Number.MAX_SAFE_INTEGER)],
    );
  }

  async predictionCounts(w: TimeWindow): Promise<PredictionCountRow[]> {
    return this.all<PredictionCountRow>(
      `SELECT model_id AS "modelId", model_version AS "modelVersion", top_class AS "topClass", SUM(count)::int8 AS count FROM (
         SELECT model_id, model_version, top_class, count FROM rollup_predictions WHERE ${MINUTES}
         UNION ALL
         SELECT model_id, model_version, top_class, 1 FROM events
         WHERE type = 'inference' AND top_class IS NOT NULL AND ${EDGES}
       ) x GROUP BY 1, 2, 3`,
      this.params(w),
    );
  }

  async eventsOverTime(w: TimeWindow, bucketMs: number): Promise<TimeBucketRow[]> {
    const size = Math.max(1, Math.floor(bucketMs));
    // Rollup minutes fall wholly in one bucket only when buckets are whole minutes (epoch-aligned).
    const p = size % MINUTE_MS === 0 ? this.params(w) : [w.sinceMs, w.untilMs, w.untilMs, w.untilMs];
    return this.all<TimeBucketRow>(
      `SELECT (at_ms / $5) * $5 AS "bucketStartMs", type, SUM(count)::int8 AS count FROM (
         SELECT minute_ms AS at_ms, type, count FROM rollup_counts WHERE ${MINUTES}
         UNION ALL
         SELECT at_ms, type, 1 FROM events WHERE ${ANY_TYPE} AND ${EDGES}
       ) x GROUP BY 1, 2 ORDER BY 1`,
      [...p, size],
    );
  }

  async countInWindow(w: TimeWindow) {
    return this.all<{ type: TelemetryEventType; count: number }>(
      `SELECT type, SUM(count)::int8 AS count FROM (
         SELECT type, count FROM rollup_counts WHERE ${MINUTES}
         UNION ALL
         SELECT type, 1 FROM events WHERE ${ANY_TYPE} AND ${EDGES}
       ) x GROUP BY type`,
      this.params(w),
    );
  }

  /** Rollup counts of one event type over the whole minutes, plus raw rows of the edges, as one row set. */
  private countsUnion(type: string): string {
    return `SELECT model_id, model_version, backend, count, ms_sum, ms_count, from_cache_sum, from_cache_count
            FROM rollup_counts WHERE type = ${type} AND ${MINUTES}
            UNION ALL
            SELECT model_id, model_version, backend, 1, COALESCE(ms, 0), CASE WHEN ms IS NULL THEN 0 ELSE 1 END,
                   COALESCE(from_cache, 0), CASE WHEN from_cache IS NULL THEN 0 ELSE 1 END
            FROM events WHERE type = ${type} AND ${EDGES}`;
  }
}
