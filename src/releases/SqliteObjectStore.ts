import type Database from 'better-sqlite3';
import type { ObjectStore, StoredObject } from './ObjectStore';

interface ObjectRow {
  sha256: string;
  bytes: number;
  chunk_bytes: number;
  chunks: number;
  key: string;
}

/**
 * Release objects in the collector's SQLite file (migration 10). Chunk writes are synchronous, so an upload
 * holds the event loop for one chunk's insert at a time, never for a whole file.
 */
export class SqliteObjectStore implements ObjectStore {
  private readonly insertWrite;
  private readonly insertChunk;
  private readonly selectObject;
  private readonly selectChunk;
  private readonly deleteChunks;
  private readonly deleteWrite;
  private readonly insertObject;
  private readonly touchObject;

  constructor(private readonly db: Database.Database) {
    this.insertWrite = db.prepare('INSERT INTO release_object_writes (key, started_ms) VALUES (?, ?)');
    this.insertChunk = db.prepare('INSERT INTO release_object_chunks (key, seq, bytes) VALUES (?, ?, ?)');
    this.selectObject = db.prepare('SELECT sha256, bytes, chunk_bytes, chunks, key FROM release_objects WHERE sha256 = ?');
    this.selectChunk = db.prepare('SELECT bytes FROM release_object_chunks WHERE key = ? AND seq = ?');
    this.deleteChunks = db.prepare('DELETE FROM release_object_chunks WHERE key = ?');
    this.deleteWrite = db.prepare('DELETE FROM release_object_writes WHERE key = ?');
    this.insertObject = db.prepare(
      'INSERT INTO release_objects (sha256, bytes, chunk_bytes, chunks, key, touched_ms) VALUES (@sha256, @bytes, @chunkBytes, @chunks, @key, @nowMs)',
    );
    this.touchObject = db.prepare('UPDATE release_objects SET touched_ms = ? WHERE sha256 = ?');
  }

  async beginWrite(key: string, startedMs: number): Promise<void> {
    this.insertWrite.run(key, startedMs);
  }

  async writeChunk(key: string, seq: number, bytes: Uint8Array): Promise<void> {
    this.insertChunk.run(key, seq, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  async finishWrite(key: string, object: Omit<StoredObject, 'key'>, nowMs: number): Promise<'created' | 'existing'> {
    return this.db.transaction(() => {
      this.deleteWrite.run(key);
      if (this.selectObject.get(object.sha256)) {
        this.deleteChunks.run(key);
        this.touchObject.run(nowMs, object.sha256);
        return 'existing' as const;
      }
      this.insertObject.run({ ...object, key, nowMs });
      return 'created' as const;
    })();
  }

  async abandonWrite(key: string): Promise<void> {
    this.db.transaction(() => {
      this.deleteChunks.run(key);
      this.deleteWrite.run(key);
    })();
  }

  async object(sha256: string): Promise<StoredObject | undefined> {
    const row = this.selectObject.get(sha256) as ObjectRow | undefined;
    return row && toObject(row);
  }

  async readChunk(object: StoredObject, seq: number): Promise<Uint8Array> {
    const row = this.selectChunk.get(object.key, seq) as { bytes: Buffer } | undefined;
    if (!row) throw new Error(`object ${object.sha256}: chunk ${seq} is missing`);
    return new Uint8Array(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength);
  }

  async touch(sha256: string, nowMs: number): Promise<void> {
    this.touchObject.run(nowMs, sha256);
  }

  async collectGarbage(cutoffs: { writesStartedBeforeMs: number; objectsTouchedBeforeMs: number }) {
    const writes = this.db
      .prepare('SELECT key FROM release_object_writes WHERE started_ms < ?')
      .all(cutoffs.writesStartedBeforeMs) as Array<{ key: string }>;
    for (const { key } of writes) await this.abandonWrite(key);
    const orphans = this.db
      .prepare(
        `SELECT sha256 FROM release_objects o WHERE touched_ms < ?
           AND NOT EXISTS (SELECT 1 FROM release_files f WHERE f.sha256 = o.sha256)`,
      )
      .all(cutoffs.objectsTouchedBeforeMs) as Array<{ sha256: string }>;
    let objects = 0;
    for (const { sha256 } of orphans) {
      // Checked again inside the transaction: a publish may have named it since the list was read.
      const removed = this.db.transaction(() => {
        const row = this.db
          .prepare(
            `SELECT key FROM release_objects o WHERE sha256 = ? AND touched_ms < ?
               AND NOT EXISTS (SELECT 1 FROM release_files f WHERE f.sha256 = o.sha256)`,
          )
          .get(sha256, cutoffs.objectsTouchedBeforeMs) as { key: string } | undefined;
        if (!row) return false;
        this.deleteChunks.run(row.key);
        this.db.prepare('DELETE FROM release_objects WHERE sha256 = ?').run(sha256);
        return true;
      })();
      if (removed) objects++;
    }
    return { writes: writes.length, objects };
  }

  async storedObjects(): Promise<Set<string>> {
    const rows = this.db.prepare('SELECT sha256 FROM release_objects').all() as Array<{ sha256: string }>;
    return new Set(rows.map((r) => r.sha256));
  }
}

function toObject(row: ObjectRow): StoredObject {
  return { sha256: row.sha256, bytes: row.bytes, chunkBytes: row.chunk_bytes, chunks: row.chunks, key: row.key };
}
