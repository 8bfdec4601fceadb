import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrateSqlite } from './sqliteMigrations';

export interface SqliteOptions {
  /**
   * `NORMAL` (default): in WAL mode a commit is a write() of the WAL frames, so once a batch is
   * committed it is in the OS page cache and survives the collector being killed (`kill -9`, OOM
   * killer, crash); only a kernel crash or power loss before the next checkpoint's fsync can lose it.
   * `FULL` fsyncs the WAL on every commit (survives power loss, costs a disk flush per batch).
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

/** Open (creating and migrating if needed) the collector database at `path`. Errors name the path. */
export function openSqliteDatabase(path: string, options: SqliteOptions = {}): Database.Database {
  let db: Database.Database | undefined;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    // Bounds the WAL file after checkpoints so a burst does not leave a huge file behind.
    db.pragma('journal_size_limit = 67108864');
    if (options.autoCheckpointPages !== undefined)
      db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(options.autoCheckpointPages))}`);
    migrateSqlite(db);
    return db;
  } catch (e) {
    db?.close();
    throw new Error(`cannot open database ${path}: ${(e as Error).message}`, { cause: e });
  }
}
