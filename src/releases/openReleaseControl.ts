import path from 'node:path';
import { describePostgresUrl, openPostgresPool } from '../db/openPostgresPool';
import { migratePostgres } from '../db/postgresMigrations';
import { openSqliteDatabase } from '../db/openSqliteDatabase';
import { createReleaseControl, type ReleaseControl, type ReleaseControlOptions } from './createReleaseControl';
import { PostgresReleaseStore } from './PostgresReleaseStore';
import { PostgresVersionMetrics } from './PostgresVersionMetrics';
import { SqliteReleaseStore } from './SqliteReleaseStore';
import { SqliteVersionMetrics } from './VersionMetrics';

/**
 * The release control plane on the collector's SQLite file, or on its PostgreSQL database when
 * `databaseUrl` is set (a pool of its own; the schema is the collector's, migrated by whichever starts first).
 * The SQLite variant: on the collector's SQLite file: its own connection (WAL; writes from both
 * connections are synchronous, so they never wait on each other inside one process), closed with it.
 */
export async function openReleaseControl(
  dbPath: string,
  options: Omit<ReleaseControlOptions, 'store' | 'metrics'> & { databaseUrl?: string },
): Promise<ReleaseControl> {
  if (options.databaseUrl) return openOnPostgres(options.databaseUrl, options);
  const db = openSqliteDatabase(dbPath);
  // Release files stream through this connection a chunk at a time and are never read twice in a row: caching
  // their pages would only hold memory (better-sqlite3 builds SQLite with a 16 MB page cache per connection).
  db.pragma('cache_size = -2048');
  try {
    const control = await createReleaseControl({
      ...options,
      filesDir: options.filesDir ?? path.join(path.dirname(path.resolve(dbPath)), 'release-files'),
      store: new SqliteReleaseStore(db),
      metrics: new SqliteVersionMetrics(db),
    });
    return {
      ...control,
      async close() {
        await control.close();
        if (db.open) db.close();
      },
    };
  } catch (e) {
    db.close();
    throw e;
  }
}

async function openOnPostgres(url: string, options: Omit<ReleaseControlOptions, 'store' | 'metrics'>): Promise<ReleaseControl> {
  const pool = openPostgresPool(url, { max: 4 });
  try {
    await migratePostgres(pool);
    const control = await createReleaseControl({
      ...options,
      store: new PostgresReleaseStore(pool),
      metrics: new PostgresVersionMetrics(pool),
    });
    return {
      ...control,
      async close() {
        await control.close();
        await pool.end();
      },
    };
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot open database ${describePostgresUrl(url)}: ${(e as Error).message}`, { cause: e });
  }
}
