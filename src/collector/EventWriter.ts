// Types-only: the write side of collector storage. Asynchronous so that a networked database
// (PostgreSQL) can implement it as well as SQLite (SqliteEventWriter.ts).
import type { TelemetryEvent } from '../core/eventSchema';
import type { InsertMeta, InsertResult } from './storeRows';

export interface EventWriter {
  /** One transaction; resolves after commit. Ids already present are ignored and counted. */
  insertBatch(events: readonly TelemetryEvent[], meta: InsertMeta): Promise<InsertResult>;
  /** Rejects with the reason when the database cannot be written (read-only file, full disk, …). */
  checkWritable(): Promise<void>;
}
