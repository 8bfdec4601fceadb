import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TelemetryBackend, TelemetryEvent, TelemetryEventType } from '../core/eventSchema';
import type {
  AccuracyRow,
  AlertRecord,
  DeviceMixRow,
  EventStore,
  InferenceStats,
  InsertMeta,
  InsertResult,
  LatencyBucketRow,
  LatencySamples,
  LoadStats,
  ModelCount,
  MonitorSample,
  NewAlert,
  PredictionCountRow,
  TimeBucketRow,
  TimeWindow,
} from './EventStore';
import { latencyBucketSql } from './latencyBuckets';
import { migrate } from './migrations';

export interface SqliteEventStoreOptions {
  /**
   * `NORMAL` (default): in WAL mode a commit is a write() of the WAL frames, so once `insertBatch`
   * returns the batch is in the OS page cache and survives the collector being killed (`kill -9`,
   * OOM killer, crash); only a kernel crash or power loss before the next checkpoint's fsync can lose
   * it. `FULL` fsyncs the WAL on every commit (survives power loss, costs a disk flush per batch).
   * See https://www.sqlite.org/pragma.html#pragma_synchronous and https://www.sqlite.org/wal.html.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** Bounded wait when another connection (e.g. a backup) holds the write lock. */
  busyTimeoutMs?: number;
  /**
   * WAL pages before a commit checkpoints inline (SQLite default 1000). The collector raises it when
   * its query worker checkpoints in the background, so the fsync of a checkpoint is not paid by an
   * ingest request; the threshold stays as a safety net should the worker stop.
   */
  autoCheckpointPages?: number;
}

/** The SQL insert the store runs per event; exported so the benchmark measures the very same statement. */
export const INSERT_EVENT_SQL = `INSERT OR IGNORE INTO events (
  id, type, ts, at_ms, received_ms, site_key, install_id, session_id, model_id, model_version,
  backend, ms, bytes, from_cache, fallback_reason, top_class, score, prediction_id, label, predicted,
  error_code, device_key, payload
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

type Row = unknown[];

/** Open (creating and migrating if needed) the collector database at `path`. */
export function openSqliteEventStore(path: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
  // Bounds the WAL file after checkpoints so a burst does not leave a huge file behind.
  db.pragma('journal_size_limit = 67108864');
  if (options.autoCheckpointPages !== undefined) db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(options.autoCheckpointPages))}`);
  migrate(db);
  return new SqliteEventStore(db);
}

/** Map an event to the positional parameters of INSERT_EVENT_SQL. */
export function eventRow(e: TelemetryEvent, meta: InsertMeta): Row {
  const atMs = Math.min(e.ts, meta.receivedAtMs);
  const row: Row = [
    e.id,
    e.type,
    e.ts,
    atMs,
    meta.receivedAtMs,
    meta.siteKey,
    e.installId,
    e.sessionId,
    e.modelId,
    e.modelVersion ?? null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    JSON.stringify(e),
  ];
  switch (e.type) {
    case 'session': {
      const gpu = e.device.webgpu;
      row[21] = `${gpu ? gpu.vendor || 'unknown-gpu' : 'no-webgpu'} / ${e.device.browser.brand || 'unknown'}`;
      break;
    }
    case 'model_load':
      row[10] = e.backend;
      row[11] = e.ms;
      row[12] = e.bytes;
      row[13] = e.fromCache ? 1 : 0;
      row[14] = e.fallbackReason ?? null;
      break;
    case 'inference':
      row[10] = e.backend;
      row[11] = e.ms;
      row[15] = e.output.topClass === undefined ? null : String(e.output.topClass);
      row[16] = e.output.score ?? null;
      row[17] = e.output.predictionId ?? null;
      break;
    case 'error':
      row[20] = e.code;
      break;
    case 'feedback':
      // Labels compare as strings: class 3 and "3" are the same class on purpose (clients mix both).
      row[17] = e.predictionId;
      row[18] = String(e.label);
      row[19] = e.predicted === undefined ? null : String(e.predicted);
      break;
  }
  return row;
}

export class SqliteEventStore implements EventStore {
  private readonly insert: Database.Statement<Row>;
  private readonly insertMany: Database.Transaction<(events: readonly TelemetryEvent[], meta: InsertMeta) => InsertResult>;
  private readonly statements = new Map<string, Database.Statement<Row>>();
  private readonly rawStatements = new Map<string, Database.Statement<Row, Row>>();

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare<Row>(INSERT_EVENT_SQL);
    this.insertMany = db.transaction((events: readonly TelemetryEvent[], meta: InsertMeta) => {
      const stored: TelemetryEvent[] = [];
      for (const e of events) {
        if (this.insert.run(...eventRow(e, meta)).changes === 1) stored.push(e);
      }
      return { stored, duplicates: events.length - stored.length };
    });
  }

  insertBatch(events: readonly TelemetryEvent[], meta: InsertMeta): InsertResult {
    return this.insertMany(events, meta);
  }

  countByType() {
    return this.rows('SELECT type, COUNT(*) FROM events GROUP BY type').map(([type, count]) => ({
      type: type as TelemetryEventType,
      count: Number(count),
    }));
  }

  countErrorsByCode() {
    return this.rows("SELECT error_code, COUNT(*) FROM events WHERE type = 'error' GROUP BY error_code").map(([code, count]) => ({
      code: String(code),
      count: Number(count),
    }));
  }

  latencyHistogram(window?: TimeWindow): LatencyBucketRow[] {
    const where = window ? 'AND at_ms >= ? AND at_ms < ?' : '';
    const params = window ? [window.sinceMs, window.untilMs] : [];
    return this.rows(
      `SELECT model_id, model_version, backend, ${latencyBucketSql('ms')} AS bucket, COUNT(*), SUM(ms)
       FROM events WHERE type = 'inference' ${where} GROUP BY 1, 2, 3, 4`,
      ...params,
    ).map(([modelId, modelVersion, backend, bucket, count, sumMs]) => ({
      ...backendKey(modelId, modelVersion, backend),
      bucket: Number(bucket),
      count: Number(count),
      sumMs: Number(sumMs),
    }));
  }

  inferenceStats(w: TimeWindow): InferenceStats[] {
    return this.rows(
      `SELECT model_id, model_version, backend, COUNT(*), AVG(ms) FROM events
       WHERE type = 'inference' AND at_ms >= ? AND at_ms < ? GROUP BY 1, 2, 3`,
      w.sinceMs,
      w.untilMs,
    ).map(([modelId, modelVersion, backend, count, meanMs]) => ({
      ...backendKey(modelId, modelVersion, backend),
      count: Number(count),
      meanMs: Number(meanMs),
    }));
  }

  latencySamples(w: TimeWindow, maxRows: number): LatencySamples {
    // Newest rows first so that, past the cap, percentiles describe the most recent traffic.
    const rows = this.rows(
      `SELECT model_id, model_version, backend, ms FROM events
       WHERE type = 'inference' AND at_ms >= ? AND at_ms < ? ORDER BY at_ms DESC LIMIT ?`,
      w.sinceMs,
      w.untilMs,
      maxRows + 1,
    );
    const truncated = rows.length > maxRows;
    const byKey = new Map<string, { key: ReturnType<typeof backendKey>; ms: number[] }>();
    for (const [modelId, modelVersion, backend, ms] of rows.slice(0, maxRows)) {
      const k = `${modelId}\u0000${modelVersion}\u0000${backend}`;
      let g = byKey.get(k);
      if (!g) byKey.set(k, (g = { key: backendKey(modelId, modelVersion, backend), ms: [] }));
      g.ms.push(Number(ms));
    }
    return {
      truncated,
      groups: [...byKey.values()].map((g) => ({ ...g.key, sortedMs: Float64Array.from(g.ms).sort() })),
    };
  }

  loadStats(w: TimeWindow): LoadStats[] {
    return this.rows(
      `SELECT model_id, model_version, backend, COUNT(*), AVG(ms), AVG(from_cache) FROM events
       WHERE type = 'model_load' AND at_ms >= ? AND at_ms < ? GROUP BY 1, 2, 3`,
      w.sinceMs,
      w.untilMs,
    ).map(([modelId, modelVersion, backend, count, meanMs, fromCacheShare]) => ({
      ...backendKey(modelId, modelVersion, backend),
      count: Number(count),
      meanMs: Number(meanMs),
      fromCacheShare: Number(fromCacheShare),
    }));
  }

  errorCounts(w: TimeWindow): ModelCount[] {
    return this.rows(
      `SELECT model_id, model_version, COUNT(*) FROM events
       WHERE type = 'error' AND at_ms >= ? AND at_ms < ? GROUP BY 1, 2`,
      w.sinceMs,
      w.untilMs,
    ).map(([modelId, modelVersion, count]) => ({ modelId: String(modelId), modelVersion: String(modelVersion), count: Number(count) }));
  }

  deviceMix(w: TimeWindow): DeviceMixRow[] {
    return this.rows(
      `SELECT i.model_id, i.model_version, i.backend, COALESCE(s.device_key, 'unknown') AS device,
              COUNT(DISTINCT i.session_id)
       FROM events i LEFT JOIN events s ON s.type = 'session' AND s.session_id = i.session_id
       WHERE i.type = 'inference' AND i.at_ms >= ? AND i.at_ms < ? GROUP BY 1, 2, 3, 4`,
      w.sinceMs,
      w.untilMs,
    ).map(([modelId, modelVersion, backend, device, sessions]) => ({
      ...backendKey(modelId, modelVersion, backend),
      device: String(device),
      sessions: Number(sessions),
    }));
  }

  accuracy(w: TimeWindow): AccuracyRow[] {
    // The inference row is the source of truth for what was predicted; `predicted` on the feedback
    // covers inferences that were sampled out or never arrived.
    return this.rows(
      `SELECT model_id, model_version, COUNT(*), SUM(label = predicted_class) FROM (
         SELECT f.model_id, f.model_version, f.label,
                COALESCE((SELECT i.top_class FROM events i
                          WHERE i.type = 'inference' AND i.prediction_id = f.prediction_id LIMIT 1),
                         f.predicted) AS predicted_class
         FROM events f WHERE f.type = 'feedback' AND f.at_ms >= ? AND f.at_ms < ?
       ) WHERE predicted_class IS NOT NULL GROUP BY 1, 2`,
      w.sinceMs,
      w.untilMs,
    ).map(([modelId, modelVersion, total, correct]) => ({
      modelId: String(modelId),
      modelVersion: String(modelVersion),
      total: Number(total),
      correct: Number(correct),
    }));
  }

  predictionCounts(w: TimeWindow): PredictionCountRow[] {
    return this.rows(
      `SELECT model_id, model_version, top_class, COUNT(*) FROM events
       WHERE type = 'inference' AND at_ms >= ? AND at_ms < ? AND top_class IS NOT NULL GROUP BY 1, 2, 3`,
      w.sinceMs,
      w.untilMs,
    ).map(([modelId, modelVersion, topClass, count]) => ({
      modelId: String(modelId),
      modelVersion: String(modelVersion),
      topClass: String(topClass),
      count: Number(count),
    }));
  }

  eventsOverTime(w: TimeWindow, bucketMs: number): TimeBucketRow[] {
    const size = Math.max(1, Math.floor(bucketMs));
    return this.rows(
      `SELECT (at_ms / ?) * ? AS bucket, type, COUNT(*) FROM events
       WHERE at_ms >= ? AND at_ms < ? GROUP BY 1, 2 ORDER BY 1`,
      size,
      size,
      w.sinceMs,
      w.untilMs,
    ).map(([bucket, type, count]) => ({ bucketStartMs: Number(bucket), type: type as TelemetryEventType, count: Number(count) }));
  }

  countInWindow(w: TimeWindow) {
    return this.rows('SELECT type, COUNT(*) FROM events WHERE at_ms >= ? AND at_ms < ? GROUP BY type', w.sinceMs, w.untilMs).map(
      ([type, count]) => ({ type: type as TelemetryEventType, count: Number(count) }),
    );
  }

  firingAlerts(): AlertRecord[] {
    return this.rows(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE state = 'firing' ORDER BY fired_at_ms`).map(alertFromRow);
  }

  listAlerts(limit: number): AlertRecord[] {
    return this.rows(
      `SELECT ${ALERT_COLUMNS} FROM alerts
       ORDER BY state = 'firing' DESC, COALESCE(resolved_at_ms, fired_at_ms) DESC, id DESC LIMIT ?`,
      limit,
    ).map(alertFromRow);
  }

  openAlert(a: NewAlert): AlertRecord {
    const info = this.stmt(
      `INSERT INTO alerts (rule, metric, series, labels, op, threshold, state, value, samples, fired_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, 'firing', ?, ?, ?)`,
    ).run(a.rule, a.metric, a.series, JSON.stringify(a.labels), a.op, a.threshold, a.value, a.samples, a.firedAtMs);
    return this.alertById(Number(info.lastInsertRowid));
  }

  resolveAlert(id: number, atMs: number, value: number): AlertRecord {
    this.stmt("UPDATE alerts SET state = 'resolved', resolved_at_ms = ?, resolved_value = ? WHERE id = ? AND state = 'firing'").run(
      atMs,
      value,
      id,
    );
    return this.alertById(id);
  }

  insertMonitorSamples(samples: readonly MonitorSample[]): void {
    const insert = this.stmt('INSERT INTO monitor_samples (at_ms, metric, labels, value, samples) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const s of samples) insert.run(s.atMs, s.metric, JSON.stringify(s.labels), s.value, s.samples);
    })();
  }

  monitorSamples(w: TimeWindow, metric: string): MonitorSample[] {
    return this.rows(
      `SELECT at_ms, metric, labels, value, samples FROM monitor_samples
       WHERE metric = ? AND at_ms >= ? AND at_ms < ? ORDER BY at_ms LIMIT 50000`,
      metric,
      w.sinceMs,
      w.untilMs,
    ).map(([atMs, m, labels, value, samples]) => ({
      atMs: Number(atMs),
      metric: String(m),
      labels: JSON.parse(String(labels)) as Record<string, string>,
      value: Number(value),
      samples: Number(samples),
    }));
  }

  pruneMonitorSamples(beforeMs: number): void {
    this.stmt('DELETE FROM monitor_samples WHERE at_ms < ?').run(beforeMs);
  }

  /**
   * Checkpoint the WAL into the database (https://www.sqlite.org/c3ref/wal_checkpoint_v2.html).
   * PASSIVE copies what it can without blocking the writer. Under steady writes a PASSIVE checkpoint
   * never catches the last frames, so the WAL never restarts and grows without bound
   * (https://www.sqlite.org/wal.html#avoiding_excessively_large_wal_files); once the WAL passes
   * `restartAfterPages` a RESTART follows, which blocks the writer only for the few frames the
   * PASSIVE pass left, so the next commit starts the WAL from the beginning.
   */
  checkpoint(restartAfterPages = Number.POSITIVE_INFINITY): { walPages: number; restarted: boolean } {
    const [passive] = this.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    if (!passive || passive.log < restartAfterPages) return { walPages: passive?.log ?? 0, restarted: false };
    const [restart] = this.db.pragma('wal_checkpoint(RESTART)') as Array<{ busy: number; log: number; checkpointed: number }>;
    return { walPages: passive.log, restarted: restart?.busy === 0 };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private alertById(id: number): AlertRecord {
    const row = this.rows(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = ?`, id)[0];
    if (!row) throw new Error(`alert ${id} not found`);
    return alertFromRow(row);
  }

  private stmt(sql: string): Database.Statement<Row> {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare<Row>(sql)));
    return s;
  }

  private rows(sql: string, ...params: unknown[]): Row[] {
    let s = this.rawStatements.get(sql);
    if (!s) this.rawStatements.set(sql, (s = this.db.prepare<Row, Row>(sql).raw(true)));
    return s.all(...params);
  }
}

const ALERT_COLUMNS = 'id, rule, metric, series, labels, op, threshold, state, value, samples, fired_at_ms, resolved_at_ms, resolved_value';

function alertFromRow(r: Row): AlertRecord {
  return {
    id: Number(r[0]),
    rule: String(r[1]),
    metric: String(r[2]),
    series: String(r[3]),
    labels: JSON.parse(String(r[4])) as Record<string, string>,
    op: r[5] === '<' ? '<' : '>',
    threshold: Number(r[6]),
    state: r[7] === 'firing' ? 'firing' : 'resolved',
    value: Number(r[8]),
    samples: Number(r[9]),
    firedAtMs: Number(r[10]),
    resolvedAtMs: r[11] === null ? null : Number(r[11]),
    resolvedValue: r[12] === null ? null : Number(r[12]),
  };
}

function backendKey(modelId: unknown, modelVersion: unknown, backend: unknown) {
  return { modelId: String(modelId), modelVersion: String(modelVersion), backend: String(backend) as TelemetryBackend };
}
