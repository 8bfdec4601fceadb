import { describePostgresUrl } from '../db/openPostgresPool';
import type { CollectorOptions } from './CollectorOptions';
import type { CollectorStorage } from './CollectorStorage';
import type { ModelKeyBudget } from './ModelKeyBudget';
import { openSqliteStorage } from './openSqliteStorage';
import { openPostgresStorage } from './postgres/openPostgresStorage';
import { QueryWorker } from './QueryWorker';
import { inlineReadQueries, type ReadQueries } from './ReadQueries';

export interface OpenedStorage {
  storage: CollectorStorage;
  /** Summaries, dashboard data and alert measurements: on a worker thread for a SQLite file, else inline. */
  queries: ReadQueries;
  /** False for an injected `options.storage`, which the collector neither closes nor applies its budget to. */
  owned: boolean;
  /** Closes the query worker, and the storage when it is owned. */
  close(): Promise<void>;
}

/**
 * The collector's first step: `options.storage`, else PostgreSQL (`databaseUrl`), else the SQLite file
 * (`dbPath`, default `data/collector.sqlite`); an owned one is checked writable now, so a read-only file or
 * folder is found at start, not at the first ingest after "listening".
 */
export async function openCollectorStorage(
  options: CollectorOptions,
  budget: ModelKeyBudget,
  log: (line: string) => void,
  now: () => number,
): Promise<OpenedStorage> {
  const owned = options.storage === undefined;
  const databaseUrl = options.storage ? undefined : options.databaseUrl || undefined;
  const dbPath = options.dbPath ?? 'data/collector.sqlite';
  if (databaseUrl) {
    log(
      `collector: storage PostgreSQL ${describePostgresUrl(databaseUrl)}` +
        (options.dbPath ? ` (COLLECTOR_DB_PATH ${options.dbPath} is ignored: COLLECTOR_DATABASE_URL wins)` : ''),
    );
  }
  // PostgreSQL answers reads on its own connections: no worker thread needed.
  const useWorker = owned && !databaseUrl && dbPath !== ':memory:' && options.queryWorker !== false;
  const storage =
    options.storage ??
    (databaseUrl
      ? await openPostgresStorage(databaseUrl, { budget, retention: options.retention, now }).catch((e: Error) => {
          throw new Error(`cannot open database ${describePostgresUrl(databaseUrl)}: ${e.message}`, { cause: e });
        })
      : openSqliteStorage(dbPath, {
          synchronous: options.synchronous,
          // The query worker checkpoints off the ingest thread. ~400 MiB of WAL before a commit checkpoints
          // inline is only a safety net should the worker stop.
          autoCheckpointPages: useWorker ? 100_000 : undefined,
          budget,
          retention: options.retention,
        }));
  if (owned) {
    await storage.writer.checkWritable().catch(async (e: Error) => {
      await storage.close();
      throw new Error(`cannot write database ${databaseUrl ? describePostgresUrl(databaseUrl) : dbPath}: ${e.message}`, { cause: e });
    });
  }
  const queries: ReadQueries = useWorker
    ? new QueryWorker({ dbPath, onError: (e) => log(`collector: query worker failed: ${e.message}`) })
    : inlineReadQueries(storage.queries, storage.alerts);
  return {
    storage,
    queries,
    owned,
    async close() {
      await queries.close();
      if (owned) await storage.close();
    },
  };
}
