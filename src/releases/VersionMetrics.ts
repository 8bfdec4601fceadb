// Per-version field metrics from the events the collector already stores (every event carries
// modelVersion), windowed by receive time so client clocks cannot place evidence.
import type Database from 'better-sqlite3';

export interface VersionCounts {
  inferences: number;
  errors: number;
  installs: number;
  /** Feedback samples weighed (at most maxFeedbackPerInstall per install) and how many were correct. */
  feedback: number;
  correct: number;
  /** Inference latencies in ms, ascending (the most recent 50 000 at most). */
  latenciesMs: Float64Array;
}

export interface VersionMetricsSource {
  /** Synchronous on SQLite, a promise on PostgreSQL (PostgresVersionMetrics). */
  counts(modelId: string, version: string, sinceMs: number, maxFeedbackPerInstall: number): VersionCounts | Promise<VersionCounts>;
}

const LATENCY_SAMPLE = 50_000;

/** VersionMetricsSource over the collector's `events` table (index events_model_version_received). */
export class SqliteVersionMetrics implements VersionMetricsSource {
  private readonly countsSql;
  private readonly feedbackSql;
  private readonly latencySql;

  constructor(db: Database.Database) {
    this.countsSql = db.prepare(`SELECT
        COALESCE(SUM(type = 'inference'), 0) AS inferences,
        COALESCE(SUM(type = 'error'), 0) AS errors,
        COUNT(DISTINCT install_id) AS installs
      FROM events WHERE model_id = @modelId AND model_version = @version AND received_ms >= @sinceMs`);
    // A feedback event without `predicted` is scored against its inference's top class.
    this.feedbackSql = db.prepare(`WITH f AS (
        SELECT e.label AS label,
               COALESCE(e.predicted, (SELECT i.top_class FROM events i
                                      WHERE i.type = 'inference' AND i.prediction_id = e.prediction_id LIMIT 1)) AS predicted,
               ROW_NUMBER() OVER (PARTITION BY e.install_id ORDER BY e.received_ms, e.id) AS nth
        FROM events e
        WHERE e.model_id = @modelId AND e.model_version = @version AND e.type = 'feedback' AND e.received_ms >= @sinceMs)
      SELECT COUNT(*) AS feedback, COALESCE(SUM(label = predicted), 0) AS correct
      FROM f WHERE nth <= @cap AND predicted IS NOT NULL`);
    this.latencySql = db.prepare(`SELECT ms FROM (
        SELECT ms FROM events
        WHERE model_id = @modelId AND model_version = @version AND type = 'inference' AND received_ms >= @sinceMs AND ms IS NOT NULL
        ORDER BY received_ms DESC LIMIT ${LATENCY_SAMPLE}) ORDER BY ms`);
  }

  counts(modelId: string, version: string, sinceMs: number, maxFeedbackPerInstall: number): VersionCounts {
    const params = { modelId, version, sinceMs };
    const c = this.countsSql.get(params) as { inferences: number; errors: number; installs: number };
    const f = this.feedbackSql.get({ ...params, cap: maxFeedbackPerInstall }) as { feedback: number; correct: number };
    const latencies = (this.latencySql.raw().all(params) as Array<[number]>).map((r) => r[0]);
    return { ...c, ...f, latenciesMs: Float64Array.from(latencies) };
  }
}
