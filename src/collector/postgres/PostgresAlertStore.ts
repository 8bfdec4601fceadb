import type pg from 'pg';
import type { AlertStore } from '../AlertStore';
import { alertFromRow, monitorSampleFromRow, type AlertRow, type MonitorSampleRow } from '../alertRows';
import type { AlertRecord, MonitorSample, NewAlert, TimeWindow } from '../storeRows';

const ALERT_COLUMNS = `id::int8 AS id, rule, metric, series, labels, op, threshold, state, value, samples,
  fired_at_ms AS "firedAtMs", resolved_at_ms AS "resolvedAtMs", resolved_value AS "resolvedValue"`;

/** AlertStore on PostgreSQL (tables `alerts` and `monitor_samples`), the counterpart of SqliteAlertStore. */
export class PostgresAlertStore implements AlertStore {
  constructor(private readonly pool: pg.Pool) {}

  async firingAlerts(): Promise<AlertRecord[]> {
    const { rows } = await this.pool.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE state = 'firing' ORDER BY fired_at_ms`);
    return rows.map(alertFromRow);
  }

  async listAlerts(limit: number): Promise<AlertRecord[]> {
    const { rows } = await this.pool.query<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM alerts
       ORDER BY state = 'firing' DESC, COALESCE(resolved_at_ms, fired_at_ms) DESC, id DESC LIMIT $1`,
      [limit],
    );
    return rows.map(alertFromRow);
  }

  async openAlert(a: NewAlert): Promise<AlertRecord> {
    const { rows } = await this.pool.query<AlertRow>(
      `INSERT INTO alerts (rule, metric, series, labels, op, threshold, state, value, samples, fired_at_ms)
       VALUES ($1, $2, $3, $4, $5, $6, 'firing', $7, $8, $9) RETURNING ${ALERT_COLUMNS}`,
      [a.rule, a.metric, a.series, JSON.stringify(a.labels), a.op, a.threshold, a.value, a.samples, a.firedAtMs],
    );
    return alertFromRow(rows[0]);
  }

  async resolveAlert(id: number, atMs: number, value: number): Promise<AlertRecord> {
    await this.pool.query(
      `UPDATE alerts SET state = 'resolved', resolved_at_ms = $2, resolved_value = $3 WHERE id = $1 AND state = 'firing'`,
      // NULL for NaN, as SQLite stores it (a rule removed from the config resolves without a value).
      [id, atMs, Number.isNaN(value) ? null : value],
    );
    const { rows } = await this.pool.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = $1`, [id]);
    if (!rows[0]) throw new Error(`alert ${id} not found`);
    return alertFromRow(rows[0]);
  }

  async insertMonitorSamples(samples: readonly MonitorSample[]): Promise<void> {
    if (samples.length === 0) return;
    await this.pool.query(
      `INSERT INTO monitor_samples (at_ms, metric, labels, value, samples)
       SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::float8[], $5::int8[])`,
      [
        samples.map((s) => s.atMs),
        samples.map((s) => s.metric),
        samples.map((s) => JSON.stringify(s.labels)),
        samples.map((s) => s.value),
        samples.map((s) => s.samples),
      ],
    );
  }

  async monitorSamples(w: TimeWindow, metric: string): Promise<MonitorSample[]> {
    const { rows } = await this.pool.query<MonitorSampleRow>(
      `SELECT at_ms AS "atMs", metric, labels, value, samples FROM monitor_samples
       WHERE metric = $1 AND at_ms >= $2 AND at_ms < $3 ORDER BY at_ms LIMIT 50000`,
      [metric, w.sinceMs, w.untilMs],
    );
    return rows.map(monitorSampleFromRow);
  }

  async pruneMonitorSamples(beforeMs: number): Promise<void> {
    await this.pool.query('DELETE FROM monitor_samples WHERE at_ms < $1', [beforeMs]);
  }
}
