import pg from 'pg';
import { inTransaction } from '../db/openPostgresPool';
import type { ObjectStore, StoredObject } from './ObjectStore';

interface ObjectRow {
  sha256: string;
  bytes: number;
  chunk_bytes: number;
  chunks: number;
  key: string;
}

const SELECT_OBJECT = 'SELECT sha256, bytes, chunk_bytes, chunks, key FROM release_objects WHERE sha256 = $1';
const FOREIGN_KEY_VIOLATION = '23503';
const BYTEA_OID = 17;
/**
 * bytea arrives as hex text (`\x0a1b…`); pg's own parser decodes it in JavaScript, a few MB/s for a 1 MiB chunk.
 * Buffer.from(…, 'hex') does the same natively.
 */
const BYTEA_AS_BUFFER = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === BYTEA_OID
      ? (text: string) => Buffer.from(text.slice(2), 'hex')
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/**
 * Release objects on PostgreSQL (migration 7), the counterpart of SqliteObjectStore: chunks are BYTEA values
 * of at most CHUNK_BYTES, far below the 1 GB field limit. Several instances may write the same object at once:
 * the first to finish names it, the others' chunks are dropped.
 */
export class PostgresObjectStore implements ObjectStore {
  constructor(private readonly pool: pg.Pool) {}

  async beginWrite(key: string, startedMs: number): Promise<void> {
    await this.pool.query('INSERT INTO release_object_writes (key, started_ms) VALUES ($1, $2)', [key, startedMs]);
  }

  async writeChunk(key: string, seq: number, bytes: Uint8Array): Promise<void> {
    await this.pool.query('INSERT INTO release_object_chunks (key, seq, bytes) VALUES ($1, $2, $3)', [
      key,
      seq,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    ]);
  }

  async finishWrite(key: string, object: Omit<StoredObject, 'key'>, nowMs: number): Promise<'created' | 'existing'> {
    return inTransaction(this.pool, async (client) => {
      await client.query('DELETE FROM release_object_writes WHERE key = $1', [key]);
      const inserted = await client.query(
        `INSERT INTO release_objects (sha256, bytes, chunk_bytes, chunks, key, touched_ms) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (sha256) DO UPDATE SET touched_ms = EXCLUDED.touched_ms RETURNING key`,
        [object.sha256, object.bytes, object.chunkBytes, object.chunks, key, nowMs],
      );
      if (inserted.rows[0].key === key) return 'created' as const;
      await client.query('DELETE FROM release_object_chunks WHERE key = $1', [key]);
      return 'existing' as const;
    });
  }

  async abandonWrite(key: string): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query('DELETE FROM release_object_chunks WHERE key = $1', [key]);
      await client.query('DELETE FROM release_object_writes WHERE key = $1', [key]);
    });
  }

  async object(sha256: string): Promise<StoredObject | undefined> {
    const { rows } = await this.pool.query<ObjectRow>(SELECT_OBJECT, [sha256]);
    return rows[0] && toObject(rows[0]);
  }

  async readChunk(object: StoredObject, seq: number): Promise<Uint8Array> {
    const { rows } = await this.pool.query<{ bytes: Buffer }>({
      text: 'SELECT bytes FROM release_object_chunks WHERE key = $1 AND seq = $2',
      values: [object.key, seq],
      types: BYTEA_AS_BUFFER,
    });
    const b = rows[0]?.bytes;
    if (!b) throw new Error(`object ${object.sha256}: chunk ${seq} is missing`);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }

  async touch(sha256: string, nowMs: number): Promise<void> {
    await this.pool.query('UPDATE release_objects SET touched_ms = $1 WHERE sha256 = $2', [nowMs, sha256]);
  }

  async collectGarbage(cutoffs: { writesStartedBeforeMs: number; objectsTouchedBeforeMs: number }) {
    const writes = await this.pool.query<{ key: string }>('SELECT key FROM release_object_writes WHERE started_ms < $1', [
      cutoffs.writesStartedBeforeMs,
    ]);
    for (const { key } of writes.rows) await this.abandonWrite(key);
    const orphans = await this.pool.query<{ sha256: string }>(
      `SELECT sha256 FROM release_objects o WHERE touched_ms < $1
         AND NOT EXISTS (SELECT 1 FROM release_files f WHERE f.sha256 = o.sha256)`,
      [cutoffs.objectsTouchedBeforeMs],
    );
    let objects = 0;
    for (const { sha256 } of orphans.rows) {
      try {
        const removed = await inTransaction(this.pool, async (client) => {
          // A publish that names the object meanwhile holds a key-share lock on its row: this delete waits for it
          // and then fails on the foreign key instead of leaving the version without its file.
          const { rows } = await client.query<{ key: string }>(
            `DELETE FROM release_objects o WHERE sha256 = $1 AND touched_ms < $2
               AND NOT EXISTS (SELECT 1 FROM release_files f WHERE f.sha256 = o.sha256) RETURNING key`,
            [sha256, cutoffs.objectsTouchedBeforeMs],
          );
          if (rows.length === 0) return false;
          await client.query('DELETE FROM release_object_chunks WHERE key = $1', [rows[0].key]);
          return true;
        });
        if (removed) objects++;
      } catch (e) {
        if ((e as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw e;
      }
    }
    return { writes: writes.rows.length, objects };
  }

  async storedObjects(): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ sha256: string }>('SELECT sha256 FROM release_objects');
    return new Set(rows.map((r) => r.sha256));
  }
}

function toObject(row: ObjectRow): StoredObject {
  return { sha256: row.sha256, bytes: row.bytes, chunkBytes: row.chunk_bytes, chunks: row.chunks, key: row.key };
}
