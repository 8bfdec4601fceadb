import type pg from 'pg';
import type { SampleEvent } from '../../core/eventSchema';
import type { DatasetCursor, DatasetPage, DatasetQuery, SampleStore } from '../SampleStore';
import { datasetLine, type SampleRow } from '../sampleRows';
import type { InsertMeta } from '../storeRows';

const COLUMNS = `seq, id, received_ms AS "receivedMs", install_id AS "installId", model_id AS "modelId",
  model_version AS "modelVersion", prediction_id AS "predictionId", label, predicted, inputs`;

/**
 * SampleStore on PostgreSQL, the counterpart of SqliteSampleStore: `insert` runs in the event writer's
 * transaction (PostgresEventWriter) for the samples whose event id was new; reads page with a keyset cursor.
 */
export class PostgresSampleStore implements SampleStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Store the inputs of new `sample` events; call inside the transaction that stores their event rows. */
  async insert(client: pg.PoolClient, events: readonly SampleEvent[], meta: InsertMeta): Promise<void> {
    if (events.length === 0) return;
    await client.query(
      `INSERT INTO samples (id, received_ms, site_key, install_id, model_id, model_version, prediction_id, label, predicted, inputs)
       SELECT id, $2::int8, $3::text, install_id, model_id, model_version, prediction_id, label, predicted, inputs
       FROM unnest($1::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
         AS t(id, install_id, model_id, model_version, prediction_id, label, predicted, inputs)
       ON CONFLICT (id) DO NOTHING`,
      [
        events.map((e) => e.id),
        meta.receivedAtMs,
        meta.siteKey,
        events.map((e) => e.installId),
        events.map((e) => e.modelId),
        events.map((e) => e.modelVersion),
        events.map((e) => e.predictionId),
        events.map((e) => JSON.stringify(e.label)),
        events.map((e) => (e.predicted === undefined ? null : JSON.stringify(e.predicted))),
        events.map((e) => JSON.stringify(e.inputs)),
      ],
    );
  }

  async readDatasetPage(query: DatasetQuery, after: DatasetCursor | null, pageSize: number): Promise<DatasetPage> {
    const params: unknown[] = [query.modelId, query.sinceMs, after?.receivedMs ?? -1, after?.seq ?? -1, pageSize];
    if (query.modelVersion !== undefined) params.push(query.modelVersion);
    const { rows } = await this.pool.query<SampleRow>(
      `SELECT ${COLUMNS} FROM samples
       WHERE model_id = $1 ${query.modelVersion !== undefined ? 'AND model_version = $6' : ''} AND received_ms >= $2
         AND (received_ms > $3 OR (received_ms = $3 AND seq > $4))
       ORDER BY received_ms, seq LIMIT $5`,
      params,
    );
    const last = rows[rows.length - 1];
    return {
      lines: rows.map(datasetLine),
      next: rows.length === pageSize && last ? { receivedMs: last.receivedMs, seq: last.seq } : null,
    };
  }

  async countSamples(modelId: string, modelVersion?: string, sinceMs = 0): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      modelVersion === undefined
        ? 'SELECT COUNT(*)::int8 AS n FROM samples WHERE model_id = $1 AND received_ms >= $2'
        : 'SELECT COUNT(*)::int8 AS n FROM samples WHERE model_id = $1 AND received_ms >= $2 AND model_version = $3',
      modelVersion === undefined ? [modelId, sinceMs] : [modelId, sinceMs, modelVersion],
    );
    return rows[0].n;
  }
}
