import type Database from 'better-sqlite3';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EVENT_TYPES } from '../core/schema/TelemetryEvent';
import { retentionCutoffMs, type PruneResult, type RetentionPolicy } from './Retention';

/** Rows per DELETE: a slice holds the write lock for a few milliseconds, so ingest waits at most that. */
const SLICE_ROWS = 5000;

/**
 * Delete training samples (their own retention) and events received before the retention cutoff in bounded slices (index events_type_at, one type
 * at a time), yielding to the event loop between slices so ingest on the same connection keeps going.
 */
export async function pruneSqliteEvents(db: Database.Database, retention: RetentionPolicy, nowMs: number): Promise<PruneResult> {
  if (retention.sampleDays !== undefined) {
    const samplesBefore = retentionCutoffMs(nowMs, retention.sampleDays);
    const sampleSlice = db.prepare<[{ cutoffMs: number; limit: number }]>(
      'DELETE FROM samples WHERE seq IN (SELECT seq FROM samples WHERE received_ms < @cutoffMs ORDER BY seq LIMIT @limit)',
    );
    for (;;) {
      if (!db.open) break;
      if (sampleSlice.run({ cutoffMs: samplesBefore, limit: SLICE_ROWS }).changes < SLICE_ROWS) break;
      await nextTurn();
    }
  }
  if (retention.eventDays === undefined) return { eventCutoffMs: null, events: 0, droppedPartitions: [] };
  const cutoffMs = retentionCutoffMs(nowMs, retention.eventDays);
  const slice = db.prepare<[{ type: string; cutoffMs: number; limit: number }]>(
    'DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE type = @type AND at_ms < @cutoffMs LIMIT @limit)',
  );
  let events = 0;
  for (const type of EVENT_TYPES) {
    for (;;) {
      if (!db.open) return { eventCutoffMs: cutoffMs, events, droppedPartitions: [] };
      const { changes } = slice.run({ type, cutoffMs, limit: SLICE_ROWS });
      events += changes;
      if (changes < SLICE_ROWS) break;
      await nextTurn();
    }
  }
  return { eventCutoffMs: cutoffMs, events, droppedPartitions: [] };
}
