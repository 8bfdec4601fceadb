import type pg from 'pg';

export const DAY_MS = 24 * 60 * 60 * 1000;

/** UTC day start of `ms`. */
export function dayStartMs(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** `events_20261201` for the day holding `ms`. */
export function partitionName(ms: number): string {
  return `events_${new Date(dayStartMs(ms)).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** Fixed key of the advisory lock under which partitions are created and dropped (two instances race otherwise). */
const PARTITION_LOCK = 7_114_002;

/**
 * Creates the `events` partitions for the days holding `msList` (if missing), each in its own short
 * transaction under an advisory lock. Remembers what exists so the ingest path pays one Set lookup.
 */
export class EventPartitions {
  private readonly known = new Set<number>();

  constructor(private readonly pool: pg.Pool) {}

  async ensure(...msList: number[]): Promise<void> {
    for (const ms of msList) {
      const day = dayStartMs(ms);
      if (this.known.has(day)) continue;
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF events FOR VALUES FROM (${day}) TO (${day + DAY_MS})`,
        );
        await client.query('COMMIT');
        this.known.add(day);
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    }
  }

  /** Drop every partition that ends at or before `cutoffMs` (a day start). Returns the names dropped. */
  async dropBefore(cutoffMs: number): Promise<string[]> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      const { rows } = await client.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
         WHERE p.relname = 'events' AND c.relname ~ '^events_[0-9]{8}$'`,
      );
      const cutoff = partitionName(cutoffMs);
      // Names sort as days (events_YYYYMMDD); the partition named for the cutoff day is kept.
      const doomed = rows.map((r) => r.name).filter((name) => name < cutoff);
      for (const name of doomed) await client.query(`DROP TABLE ${name}`);
      await client.query('COMMIT');
      for (const name of doomed) {
        const d = Date.UTC(Number(name.slice(7, 11)), Number(name.slice(11, 13)) - 1, Number(name.slice(13, 15)));
        this.known.delete(d);
      }
      return doomed.sort();
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}
