import type Database from 'better-sqlite3';
import type { CollectorStorage } from './CollectorStorage';
import { ModelKeyBudget } from './ModelKeyBudget';
import { openSqliteDatabase, type SqliteOptions } from '../db/openSqliteDatabase';
import { pruneSqliteEvents } from './pruneSqliteEvents';
import type { PruneResult, RetentionPolicy } from './Retention';
import { SqliteAlertStore } from './SqliteAlertStore';
import { SqliteEventQueries } from './SqliteEventQueries';
import { SqliteEventWriter } from './SqliteEventWriter';
import { SqliteSampleStore } from './SqliteSampleStore';
import { SqliteStatements } from './SqliteStatements';

export interface SqliteStorage extends CollectorStorage {
  writer: SqliteEventWriter;
  queries: SqliteEventQueries;
  alerts: SqliteAlertStore;
  samples: SqliteSampleStore;
  db: Database.Database;
  prune(nowMs: number): Promise<PruneResult>;
}

/**
 * The collector's storage in one SQLite file (better-sqlite3, WAL): writer, queries and alert store on
 * one connection. The query worker opens a second connection to the same file for its reads.
 *
 * @example
 * const storage = openSqliteStorage('data/collector.sqlite');
 * await storage.writer.insertBatch(events, { siteKey: 'demo', receivedAtMs: Date.now() });
 */
export function openSqliteStorage(
  path: string,
  options: SqliteOptions & { budget?: ModelKeyBudget; retention?: RetentionPolicy } = {},
): SqliteStorage {
  const db = openSqliteDatabase(path, options);
  const sql = new SqliteStatements(db);
  const samples = new SqliteSampleStore(db);
  return {
    db,
    samples,
    writer: new SqliteEventWriter(db, options.budget ?? new ModelKeyBudget(), samples),
    queries: new SqliteEventQueries(sql),
    alerts: new SqliteAlertStore(sql),
    prune: (nowMs) => pruneSqliteEvents(db, options.retention ?? {}, nowMs),
    close: async () => {
      if (db.open) db.close();
    },
  };
}
