import type Database from 'better-sqlite3';
import type { TelemetryEvent } from '../core/eventSchema';
import { eventRow, INSERT_EVENT_SQL, type EventRow } from './eventRow';
import type { EventWriter } from './EventWriter';
import type { InsertMeta, InsertResult } from './storeRows';

/** EventWriter on one better-sqlite3 connection: one transaction per batch. */
export class SqliteEventWriter implements EventWriter {
  private readonly insert: Database.Statement<[EventRow]>;
  private readonly insertMany: Database.Transaction<(events: readonly TelemetryEvent[], meta: InsertMeta) => InsertResult>;
  private readonly probe: Database.Statement<[]>;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare<[EventRow]>(INSERT_EVENT_SQL);
    // A write that changes nothing: SQLite still checks that it may write (SQLITE_READONLY otherwise).
    this.probe = db.prepare<[]>('DELETE FROM events WHERE 0');
    this.insertMany = db.transaction((events: readonly TelemetryEvent[], meta: InsertMeta) => {
      const stored: TelemetryEvent[] = [];
      for (const e of events) {
        if (this.insert.run(eventRow(e, meta)).changes === 1) stored.push(e);
      }
      return { stored, duplicates: events.length - stored.length };
    });
  }

  async insertBatch(events: readonly TelemetryEvent[], meta: InsertMeta): Promise<InsertResult> {
    return this.insertMany(events, meta);
  }

  async checkWritable(): Promise<void> {
    this.probe.run();
  }
}
