import type Database from 'better-sqlite3';
import type { SampleEvent } from '../core/eventSchema';
import type { DatasetCursor, DatasetPage, DatasetQuery, SampleStore } from './SampleStore';
import { datasetLine, type SampleRow } from './sampleRows';
import type { InsertMeta } from './storeRows';

const COLUMNS = `seq, id, received_ms AS receivedMs, install_id AS installId, model_id AS modelId,
  model_version AS modelVersion, prediction_id AS predictionId, label, predicted, inputs`;

/**
 * SampleStore on the collector's SQLite connection. `insert` runs inside the event writer's transaction
 * (SqliteEventWriter); reads go page by page with a keyset cursor, so an export never holds the
 * connection (better-sqlite3 is busy while an iterator is open, and ingest needs it) nor more than one
 * page in memory.
 */
export class SqliteSampleStore implements SampleStore {
  private readonly insertRow: Database.Statement<[Omit<SampleRow, 'seq'> & { siteKey: string }]>;
  private readonly pageAll: Database.Statement<[Record<string, unknown>], SampleRow>;
  private readonly pageOfVersion: Database.Statement<[Record<string, unknown>], SampleRow>;
  private readonly countAll: Database.Statement<[{ modelId: string; sinceMs: number }], { n: number }>;
  private readonly countOfVersion: Database.Statement<[{ modelId: string; modelVersion: string; sinceMs: number }], { n: number }>;

  constructor(db: Database.Database) {
    this.insertRow = db.prepare(
      `INSERT OR IGNORE INTO samples (id, received_ms, site_key, install_id, model_id, model_version, prediction_id, label, predicted, inputs)
       VALUES (@id, @receivedMs, @siteKey, @installId, @modelId, @modelVersion, @predictionId, @label, @predicted, @inputs)`,
    );
    const after = `(received_ms > @afterMs OR (received_ms = @afterMs AND seq > @afterSeq))`;
    this.pageAll = db.prepare(
      `SELECT ${COLUMNS} FROM samples WHERE model_id = @modelId AND received_ms >= @sinceMs AND ${after}
       ORDER BY received_ms, seq LIMIT @pageSize`,
    );
    this.pageOfVersion = db.prepare(
      `SELECT ${COLUMNS} FROM samples WHERE model_id = @modelId AND model_version = @modelVersion AND received_ms >= @sinceMs AND ${after}
       ORDER BY received_ms, seq LIMIT @pageSize`,
    );
    this.countAll = db.prepare('SELECT count(*) AS n FROM samples WHERE model_id = @modelId AND received_ms >= @sinceMs');
    this.countOfVersion = db.prepare(
      'SELECT count(*) AS n FROM samples WHERE model_id = @modelId AND model_version = @modelVersion AND received_ms >= @sinceMs',
    );
  }

  /** Store a sample's inputs; call inside the transaction that stores its event row. */
  insert(e: SampleEvent, meta: InsertMeta): void {
    this.insertRow.run({
      id: e.id,
      receivedMs: meta.receivedAtMs,
      siteKey: meta.siteKey,
      installId: e.installId,
      modelId: e.modelId,
      modelVersion: e.modelVersion,
      predictionId: e.predictionId,
      label: JSON.stringify(e.label),
      predicted: e.predicted === undefined ? null : JSON.stringify(e.predicted),
      inputs: JSON.stringify(e.inputs),
    });
  }

  async readDatasetPage(query: DatasetQuery, after: DatasetCursor | null, pageSize: number): Promise<DatasetPage> {
    const params = {
      modelId: query.modelId,
      sinceMs: query.sinceMs,
      afterMs: after?.receivedMs ?? -1,
      afterSeq: after?.seq ?? -1,
      pageSize,
      ...(query.modelVersion !== undefined ? { modelVersion: query.modelVersion } : {}),
    };
    const rows = (query.modelVersion !== undefined ? this.pageOfVersion : this.pageAll).all(params);
    const last = rows[rows.length - 1];
    return {
      lines: rows.map(datasetLine),
      next: rows.length === pageSize && last ? { receivedMs: last.receivedMs, seq: last.seq } : null,
    };
  }

  async countSamples(modelId: string, modelVersion?: string, sinceMs = 0): Promise<number> {
    return modelVersion === undefined
      ? this.countAll.get({ modelId, sinceMs })!.n
      : this.countOfVersion.get({ modelId, modelVersion, sinceMs })!.n;
  }
}
