import { openSqliteDatabase } from '../collector/openSqliteDatabase';
import { createReleaseControl, type ReleaseControl, type ReleaseControlOptions } from './createReleaseControl';
import { SqliteReleaseStore } from './SqliteReleaseStore';
import { SqliteVersionMetrics } from './VersionMetrics';

/**
 * The release control plane on the collector's SQLite file: its own connection (WAL; writes from both
 * connections are synchronous, so they never wait on each other inside one process), closed with it.
 */
export async function openReleaseControl(
  dbPath: string,
  options: Omit<ReleaseControlOptions, 'store' | 'metrics'>,
): Promise<ReleaseControl> {
  const db = openSqliteDatabase(dbPath);
  try {
    const control = await createReleaseControl({ ...options, store: new SqliteReleaseStore(db), metrics: new SqliteVersionMetrics(db) });
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
