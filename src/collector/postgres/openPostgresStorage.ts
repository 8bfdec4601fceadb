import type pg from 'pg';
import type { CollectorStorage } from '../CollectorStorage';
import { ModelKeyBudget } from '../ModelKeyBudget';
import { retentionCutoffMs, type PruneResult, type RetentionPolicy } from '../Retention';
import { DAY_MS, EventPartitions } from './eventPartitions';
import { openPostgresPool, type PostgresPoolOptions } from '../../db/openPostgresPool';
import { migratePostgres } from '../../db/postgresMigrations';
import { PostgresAlertStore } from './PostgresAlertStore';
import { PostgresEventQueries } from './PostgresEventQueries';
import { PostgresEventWriter } from './PostgresEventWriter';
import { PostgresSampleStore } from './PostgresSampleStore';

export interface PostgresStorage extends CollectorStorage {
  writer: PostgresEventWriter;
  queries: PostgresEventQueries;
  alerts: PostgresAlertStore;
  samples: PostgresSampleStore;
  pool: pg.Pool;
  prune(nowMs: number): Promise<PruneResult>;
}

export interface PostgresStorageOptions extends PostgresPoolOptions {
  budget?: ModelKeyBudget;
  retention?: RetentionPolicy;
  /** The clock partitions are created ahead on (tests inject one). Default Date.now. */
  now?: () => number;
}

/** Rows per DELETE when pruning event ids and rollups, so no statement holds locks for long. */
const PRUNE_SLICE_ROWS = 50_000;

/**
 * The collector's storage on PostgreSQL (`COLLECTOR_DATABASE_URL=postgres://…`): migrates the schema
 * (once across instances), creates today's and tomorrow's event partitions, and shares one pool between
 * writer, queries and alerts. `prune` drops whole day partitions past the retention period.
 *
 * @example
 * const storage = await openPostgresStorage('postgres://collector@db/ondevice', { retention: { eventDays: 30 } });
 */
export async function openPostgresStorage(url: string, options: PostgresStorageOptions = {}): Promise<PostgresStorage> {
  const pool = openPostgresPool(url, options);
  try {
    await migratePostgres(pool);
    const now = options.now ?? Date.now;
    const partitions = new EventPartitions(pool);
    await partitions.ensure(now(), now() + DAY_MS);
    const samples = new PostgresSampleStore(pool);
    const writer = await PostgresEventWriter.open(pool, partitions, options.budget ?? new ModelKeyBudget(), samples);
    const retention = options.retention ?? {};
    let closed: Promise<void> | undefined;
    return {
      pool,
      writer,
      samples,
      queries: new PostgresEventQueries(pool),
      alerts: new PostgresAlertStore(pool),
      async prune(nowMs: number): Promise<PruneResult> {
        // Partitions ahead first: a prune on a timer also keeps tomorrow's partition ready.
        await partitions.ensure(nowMs, nowMs + DAY_MS);
        if (retention.sampleDays !== undefined)
          await deleteInSlices(pool, 'samples', 'received_ms', retentionCutoffMs(nowMs, retention.sampleDays));
        if (retention.eventDays === undefined) return { eventCutoffMs: null, events: 0, droppedPartitions: [] };
        const cutoffMs = retentionCutoffMs(nowMs, retention.eventDays);
        const droppedPartitions = await partitions.dropBefore(cutoffMs);
        await deleteInSlices(pool, 'event_ids', 'received_ms', cutoffMs);
        for (const table of ['rollup_counts', 'rollup_latency', 'rollup_predictions', 'rollup_session_minutes'])
          await deleteInSlices(pool, table, 'minute_ms', cutoffMs);
        await deleteInSlices(pool, 'session_devices', 'received_ms', cutoffMs);
        return { eventCutoffMs: cutoffMs, events: -1, droppedPartitions };
      },
      close: () => (closed ??= pool.end()),
    };
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
}

async function deleteInSlices(pool: pg.Pool, table: string, column: string, beforeMs: number): Promise<void> {
  for (;;) {
    const { rowCount } = await pool.query(
      `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${column} < $1 LIMIT ${PRUNE_SLICE_ROWS})`,
      [beforeMs],
    );
    if ((rowCount ?? 0) < PRUNE_SLICE_ROWS) return;
  }
}
