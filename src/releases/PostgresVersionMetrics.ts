import type pg from 'pg';
import type { VersionCounts, VersionMetricsSource } from './VersionMetrics';

const LATENCY_SAMPLE = 50_000;

/** VersionMetricsSource over the PostgreSQL `events` table: the queries of SqliteVersionMetrics. */
export class PostgresVersionMetrics implements VersionMetricsSource {
  constructor(private readonly pool: pg.Pool) {}

  async counts(modelId: string, version: string, sinceMs: number, maxFeedbackPerInstall: number): Promise<VersionCounts> {
    const params = [modelId, version, sinceMs];
    const [c, f, l] = await Promise.all([
      this.pool.query<{ inferences: number; errors: number; installs: number }>(
        `SELECT COUNT(*) FILTER (WHERE type = 'inference')::int8 AS inferences,
                COUNT(*) FILTER (WHERE type = 'error')::int8 AS errors,
                COUNT(DISTINCT install_id)::int8 AS installs
         FROM events WHERE model_id = $1 AND model_version = $2 AND received_ms >= $3`,
        params,
      ),
      // A feedback event without `predicted` is scored against its inference's top class.
      this.pool.query<{ feedback: number; correct: number }>(
        `WITH f AS (
           SELECT e.label AS label,
                  COALESCE(e.predicted, (SELECT i.top_class FROM events i
                                         WHERE i.type = 'inference' AND i.prediction_id = e.prediction_id LIMIT 1)) AS predicted,
                  ROW_NUMBER() OVER (PARTITION BY e.install_id ORDER BY e.received_ms, e.id) AS nth
           FROM events e
           WHERE e.model_id = $1 AND e.model_version = $2 AND e.type = 'feedback' AND e.received_ms >= $3)
         SELECT COUNT(*)::int8 AS feedback, COALESCE(SUM(CASE WHEN label = predicted THEN 1 ELSE 0 END), 0)::int8 AS correct
         FROM f WHERE nth <= $4 AND predicted IS NOT NULL`,
        [...params, Math.min(maxFeedbackPerInstall, Number.MAX_SAFE_INTEGER)],
      ),
      this.pool.query<{ ms: number }>(
        `SELECT ms FROM (
           SELECT ms FROM events
           WHERE model_id = $1 AND model_version = $2 AND type = 'inference' AND received_ms >= $3 AND ms IS NOT NULL
           ORDER BY received_ms DESC LIMIT ${LATENCY_SAMPLE}) x ORDER BY ms`,
        params,
      ),
    ]);
    return { ...c.rows[0], ...f.rows[0], latenciesMs: Float64Array.from(l.rows.map((r) => r.ms)) };
  }
}
