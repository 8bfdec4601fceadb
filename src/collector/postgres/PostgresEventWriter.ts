import type pg from 'pg';
import type { SampleEvent, TelemetryEvent } from '../../core/eventSchema';
import { eventRow, type EventRow } from '../eventRow';
import type { EventWriter } from '../EventWriter';
import { LATENCY_BUCKETS_MS } from '../latencyBuckets';
import type { ModelKey, ModelKeyBudget } from '../ModelKeyBudget';
import type { InsertMeta, InsertResult } from '../storeRows';
import type { EventPartitions } from './eventPartitions';
import { inTransaction } from '../../db/openPostgresPool';
import type { PostgresSampleStore } from './PostgresSampleStore';

const MINUTE_MS = 60_000;

/** Columns of `events` in insert order, each with its array type for `unnest`. */
export const COLUMNS: ReadonlyArray<[keyof EventRow, string, string]> = [
  ['id', 'id', 'text'],
  ['type', 'type', 'text'],
  ['ts', 'ts', 'int8'],
  ['atMs', 'at_ms', 'int8'],
  ['receivedMs', 'received_ms', 'int8'],
  ['siteKey', 'site_key', 'text'],
  ['installId', 'install_id', 'text'],
  ['sessionId', 'session_id', 'text'],
  ['modelId', 'model_id', 'text'],
  ['modelVersion', 'model_version', 'text'],
  ['backend', 'backend', 'text'],
  ['ms', 'ms', 'float8'],
  ['bytes', 'bytes', 'int8'],
  ['fromCache', 'from_cache', 'int2'],
  ['fallbackReason', 'fallback_reason', 'text'],
  ['topClass', 'top_class', 'text'],
  ['score', 'score', 'float8'],
  ['predictionId', 'prediction_id', 'text'],
  ['label', 'label', 'text'],
  ['predicted', 'predicted', 'text'],
  ['errorCode', 'error_code', 'text'],
  ['deviceKey', 'device_key', 'text'],
  ['payload', 'payload', 'text'],
];

export const INSERT_EVENTS_SQL = `INSERT INTO events (${COLUMNS.map((c) => c[1]).join(', ')})
  SELECT * FROM unnest(${COLUMNS.map((c, i) => `$${i + 1}::${c[2]}[]`).join(', ')})`;

/** The event-id claim: sorted so that two transactions with overlapping batches lock ids in one order. */
export const CLAIM_IDS_SQL = `INSERT INTO event_ids (id, received_ms)
  SELECT id, $2::int8 FROM unnest($1::text[]) AS t(id) ORDER BY id
  ON CONFLICT (id) DO NOTHING RETURNING id`;

const UPSERT_COUNTS_SQL = `INSERT INTO rollup_counts
    (minute_ms, type, model_id, model_version, backend, error_code, count, ms_sum, ms_count, from_cache_sum, from_cache_count)
  SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::float8[],
                       $9::int8[], $10::int8[], $11::int8[])
  ON CONFLICT (minute_ms, type, model_id, model_version, backend, error_code) DO UPDATE SET
    count = rollup_counts.count + EXCLUDED.count,
    ms_sum = rollup_counts.ms_sum + EXCLUDED.ms_sum,
    ms_count = rollup_counts.ms_count + EXCLUDED.ms_count,
    from_cache_sum = rollup_counts.from_cache_sum + EXCLUDED.from_cache_sum,
    from_cache_count = rollup_counts.from_cache_count + EXCLUDED.from_cache_count`;

const UPSERT_LATENCY_SQL = `INSERT INTO rollup_latency (minute_ms, model_id, model_version, backend, bucket, count, ms_sum)
  SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::int2[], $6::int8[], $7::float8[])
  ON CONFLICT (minute_ms, model_id, model_version, backend, bucket) DO UPDATE SET
    count = rollup_latency.count + EXCLUDED.count, ms_sum = rollup_latency.ms_sum + EXCLUDED.ms_sum`;

const UPSERT_PREDICTIONS_SQL = `INSERT INTO rollup_predictions (minute_ms, model_id, model_version, top_class, count)
  SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::int8[])
  ON CONFLICT (minute_ms, model_id, model_version, top_class) DO UPDATE SET count = rollup_predictions.count + EXCLUDED.count`;

const UPSERT_SESSION_MINUTES_SQL = `INSERT INTO rollup_session_minutes (minute_ms, model_id, model_version, backend, session_id)
  SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`;

const UPSERT_SESSION_DEVICES_SQL = `INSERT INTO session_devices (session_id, device_key, received_ms)
  SELECT * FROM unnest($1::text[], $2::text[], $3::int8[])
  ON CONFLICT (session_id, device_key) DO UPDATE SET received_ms = GREATEST(session_devices.received_ms, EXCLUDED.received_ms)`;

type KeyRow = { siteKey: string; modelId: string; modelVersion: string };

/** The latency bucket of `ms`, as latencyBucketSql computes it in SQL. */
export function latencyBucketOf(ms: number | null): number {
  if (ms === null) return LATENCY_BUCKETS_MS.length;
  const i = LATENCY_BUCKETS_MS.findIndex((le) => ms <= le);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
}

/**
 * EventWriter on a PostgreSQL pool: one transaction per batch that claims the ids in `event_ids`
 * (conflicts ignored: duplicates, also across days and instances), inserts the new events into the day's
 * partition, adds them to the per-minute rollups and stores the model keys the budget admitted.
 */
export class PostgresEventWriter implements EventWriter {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly partitions: EventPartitions,
    private readonly budget: ModelKeyBudget,
    private readonly samples?: PostgresSampleStore,
  ) {}

  static async open(
    pool: pg.Pool,
    partitions: EventPartitions,
    budget: ModelKeyBudget,
    samples?: PostgresSampleStore,
  ): Promise<PostgresEventWriter> {
    const { rows } = await pool.query<KeyRow>(
      'SELECT site_key AS "siteKey", model_id AS "modelId", model_version AS "modelVersion" FROM model_keys',
    );
    for (const k of rows) budget.admit(k.siteKey, k.modelId, k.modelVersion === '' ? null : k.modelVersion);
    return new PostgresEventWriter(pool, partitions, budget, samples);
  }

  async insertBatch(events: readonly TelemetryEvent[], meta: InsertMeta): Promise<InsertResult> {
    const added: ModelKey[] = [];
    try {
      await this.partitions.ensure(meta.receivedAtMs);
      const keyedEvents = events.map((e) => {
        const key = this.budget.admit(meta.siteKey, e.modelId, e.modelVersion ?? null);
        if (key.added) added.push(key);
        const keyed = key.folded ? ({ ...e, modelId: key.modelId, modelVersion: key.modelVersion ?? undefined } as TelemetryEvent) : e;
        return { original: e, keyed, folded: key.folded };
      });
      return await inTransaction(this.pool, async (client) => {
        if (added.length > 0) {
          await client.query(
            `INSERT INTO model_keys (site_key, model_id, model_version)
             SELECT $1, * FROM unnest($2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
            [meta.siteKey, added.map((k) => k.modelId), added.map((k) => k.modelVersion ?? '')],
          );
        }
        const claimed = await client.query<{ id: string }>(CLAIM_IDS_SQL, [events.map((e) => e.id), meta.receivedAtMs]);
        const fresh = new Set(claimed.rows.map((r) => r.id));
        const stored: TelemetryEvent[] = [];
        const rows: EventRow[] = [];
        let folded = 0;
        for (const e of keyedEvents) {
          if (!fresh.delete(e.original.id)) continue; // a duplicate, or a repeat within this batch
          stored.push(e.keyed);
          rows.push(eventRow(e.keyed, meta, e.original));
          if (e.folded) folded++;
        }
        if (rows.length > 0) {
          await client.query(
            INSERT_EVENTS_SQL,
            COLUMNS.map(([key]) => rows.map((r) => r[key])),
          );
          await upsertRollups(client, rows);
          const samples = stored.filter((e): e is SampleEvent => e.type === 'sample');
          if (samples.length > 0) await this.samples?.insert(client, samples, meta);
        }
        return { stored, duplicates: events.length - stored.length, folded };
      });
    } catch (e) {
      this.budget.forget(meta.siteKey, added);
      throw e;
    }
  }

  async checkWritable(): Promise<void> {
    const { rows } = await this.pool.query<{ writable: boolean }>(
      "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable",
    );
    if (!rows[0]?.writable) throw new Error('the PostgreSQL server is read-only (a standby, or default_transaction_read_only)');
  }
}

/** Add `rows` to the per-minute rollups and the session devices; keys sorted so concurrent batches lock rows in one order. */
async function upsertRollups(client: pg.PoolClient, rows: readonly EventRow[]): Promise<void> {
  const counts = new Map<string, { k: [number, string, string, string | null, string | null, string | null]; v: number[] }>();
  const latency = new Map<string, { k: [number, string, string | null, string | null, number]; v: number[] }>();
  const predictions = new Map<string, { k: [number, string, string | null, string]; n: number }>();
  const sessionMinutes = new Map<string, [number, string, string | null, string | null, string]>();
  const sessionDevices = new Map<string, [string, string | null, number]>();
  for (const r of rows) {
    const minute = Math.floor(r.atMs / MINUTE_MS) * MINUTE_MS;
    const ck = JSON.stringify([minute, r.type, r.modelId, r.modelVersion, r.backend, r.errorCode]);
    let c = counts.get(ck);
    if (!c) counts.set(ck, (c = { k: [minute, r.type, r.modelId, r.modelVersion, r.backend, r.errorCode], v: [0, 0, 0, 0, 0] }));
    c.v[0] += 1;
    if (r.ms !== null) {
      c.v[1] += r.ms;
      c.v[2] += 1;
    }
    if (r.fromCache !== null) {
      c.v[3] += r.fromCache;
      c.v[4] += 1;
    }
    if (r.type === 'inference') {
      const bucket = latencyBucketOf(r.ms);
      const lk = JSON.stringify([minute, r.modelId, r.modelVersion, r.backend, bucket]);
      let l = latency.get(lk);
      if (!l) latency.set(lk, (l = { k: [minute, r.modelId, r.modelVersion, r.backend, bucket], v: [0, 0] }));
      l.v[0] += 1;
      l.v[1] += r.ms ?? 0;
      const sk = JSON.stringify([minute, r.modelId, r.modelVersion, r.backend, r.sessionId]);
      sessionMinutes.set(sk, [minute, r.modelId, r.modelVersion, r.backend, r.sessionId]);
      if (r.topClass !== null) {
        const pk = JSON.stringify([minute, r.modelId, r.modelVersion, r.topClass]);
        let p = predictions.get(pk);
        if (!p) predictions.set(pk, (p = { k: [minute, r.modelId, r.modelVersion, r.topClass], n: 0 }));
        p.n += 1;
      }
    }
  }
  for (const r of rows) {
    if (r.type !== 'session') continue;
    const dk = JSON.stringify([r.sessionId, r.deviceKey]);
    const d = sessionDevices.get(dk);
    if (!d || d[2] < r.receivedMs) sessionDevices.set(dk, [r.sessionId, r.deviceKey, r.receivedMs]);
  }
  const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  const columns = (tuples: unknown[][]) => (tuples.length === 0 ? [] : tuples[0].map((_, i) => tuples.map((t) => t[i])));
  await client.query(UPSERT_COUNTS_SQL, columns(sorted(counts).map((c) => [...c.k, ...c.v])));
  if (latency.size > 0) await client.query(UPSERT_LATENCY_SQL, columns(sorted(latency).map((l) => [...l.k, ...l.v])));
  if (predictions.size > 0) await client.query(UPSERT_PREDICTIONS_SQL, columns(sorted(predictions).map((p) => [...p.k, p.n])));
  if (sessionMinutes.size > 0) await client.query(UPSERT_SESSION_MINUTES_SQL, columns(sorted(sessionMinutes)));
  if (sessionDevices.size > 0) await client.query(UPSERT_SESSION_DEVICES_SQL, columns(sorted(sessionDevices)));
}
