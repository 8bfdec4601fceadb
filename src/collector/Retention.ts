// Types-only: how long the collector keeps what grows without bound, and what a prune removed.

export interface RetentionPolicy {
  /** Days of events and their rollups kept (whole UTC days before today's). Unset: kept forever. */
  eventDays?: number;
  /** Days of training samples kept (datasets). Unset: kept forever. Releases are never pruned. */
  sampleDays?: number;
}

export interface PruneResult {
  /** Events received before this instant (a UTC day start) were removed; null when events are kept forever. */
  eventCutoffMs: number | null;
  /** Raw events removed (SQLite), or -1 when whole partitions were dropped without counting (PostgreSQL). */
  events: number;
  /** PostgreSQL: the day partitions dropped, e.g. `events_20261130`. */
  droppedPartitions: string[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The retention cutoff for `days` at `nowMs`: the start of the UTC day `days` days before today. */
export function retentionCutoffMs(nowMs: number, days: number): number {
  return Math.floor(nowMs / DAY_MS) * DAY_MS - Math.floor(days) * DAY_MS;
}
