import type { AlertStore } from './AlertStore';
import { alertFromRow, monitorSampleFromRow, type AlertRow, type MonitorSampleRow } from './alertRows';
import type { SqliteStatements } from './SqliteStatements';
import type { AlertRecord, MonitorSample, NewAlert, TimeWindow } from './storeRows';

const ALERT_COLUMNS = `id, rule, metric, series, labels, op, threshold, state, value, samples,
  fired_at_ms AS firedAtMs, resolved_at_ms AS resolvedAtMs, resolved_value AS resolvedValue`;

/** AlertStore in the collector's SQLite database (tables `alerts` and `monitor_samples`). */
export class SqliteAlertStore implements AlertStore {
  constructor(private readonly sql: SqliteStatements) {}

  async firingAlerts(): Promise<AlertRecord[]> {
    return this.sql.all<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE state = 'firing' ORDER BY fired_at_ms`).map(alertFromRow);
  }

  async listAlerts(limit: number): Promise<AlertRecord[]> {
    return this.sql
      .all<AlertRow>(
        `SELECT ${ALERT_COLUMNS} FROM alerts
         ORDER BY state = 'firing' DESC, COALESCE(resolved_at_ms, fired_at_ms) DESC, id DESC LIMIT @limit`,
        { limit },
      )
      .map(alertFromRow);
  }

  async openAlert(a: NewAlert): Promise<AlertRecord> {
    const info = this.sql.run(
      `INSERT INTO alerts (rule, metric, series, labels, op, threshold, state, value, samples, fired_at_ms)
       VALUES (@rule, @metric, @series, @labels, @op, @threshold, 'firing', @value, @samples, @firedAtMs)`,
      { ...a, labels: JSON.stringify(a.labels) },
    );
    return this.alertById(Number(info.lastInsertRowid));
  }

  async resolveAlert(id: number, atMs: number, value: number): Promise<AlertRecord> {
    this.sql.run(
      `UPDATE alerts SET state = 'resolved', resolved_at_ms = @atMs, resolved_value = @value
       WHERE id = @id AND state = 'firing'`,
      // SQLite stores NaN as NULL; the column is nullable for exactly that (a rule removed from the config).
      { id, atMs, value: Number.isNaN(value) ? null : value },
    );
    return this.alertById(id);
  }

  async insertMonitorSamples(samples: readonly MonitorSample[]): Promise<void> {
    const insert = this.sql.prepare(
      'INSERT INTO monitor_samples (at_ms, metric, labels, value, samples) VALUES (@atMs, @metric, @labels, @value, @samples)',
    );
    this.sql.db.transaction(() => {
      for (const s of samples) insert.run({ ...s, labels: JSON.stringify(s.labels) });
    })();
  }

  async monitorSamples(w: TimeWindow, metric: string): Promise<MonitorSample[]> {
    return this.sql
      .all<MonitorSampleRow>(
        `SELECT at_ms AS atMs, metric, labels, value, samples FROM monitor_samples
         WHERE metric = @metric AND at_ms >= @sinceMs AND at_ms < @untilMs ORDER BY at_ms LIMIT 50000`,
        { ...w, metric },
      )
      .map(monitorSampleFromRow);
  }

  async pruneMonitorSamples(beforeMs: number): Promise<void> {
    this.sql.run('DELETE FROM monitor_samples WHERE at_ms < @beforeMs', { beforeMs });
  }

  private alertById(id: number): AlertRecord {
    const row = this.sql.get<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = @id`, { id });
    if (!row) throw new Error(`alert ${id} not found`);
    return alertFromRow(row);
  }
}
