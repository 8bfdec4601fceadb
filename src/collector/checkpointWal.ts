import type Database from 'better-sqlite3';

/**
 * Checkpoint the WAL into the database (https://www.sqlite.org/c3ref/wal_checkpoint_v2.html).
 * PASSIVE copies what it can without blocking the writer. Under steady writes a PASSIVE checkpoint
 * never catches the last frames, so the WAL never restarts and grows without bound
 * (https://www.sqlite.org/wal.html#avoiding_excessively_large_wal_files); once the WAL passes
 * `restartAfterPages` a RESTART follows, which blocks the writer only for the few frames the
 * PASSIVE pass left, so the next commit starts the WAL from the beginning.
 */
export function checkpointWal(
  db: Database.Database,
  restartAfterPages = Number.POSITIVE_INFINITY,
): { walPages: number; restarted: boolean } {
  type Result = Array<{ busy: number; log: number; checkpointed: number }>;
  const [passive] = db.pragma('wal_checkpoint(PASSIVE)') as Result;
  if (!passive || passive.log < restartAfterPages) return { walPages: passive?.log ?? 0, restarted: false };
  const [restart] = db.pragma('wal_checkpoint(RESTART)') as Result;
  return { walPages: passive.log, restarted: restart?.busy === 0 };
}
