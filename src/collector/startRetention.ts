import type { LeaderLease } from '../db/LeaderLease';
import type { CollectorStorage } from './CollectorStorage';
import type { RetentionPolicy } from './Retention';

const HOUR_MS = 60 * 60 * 1000;

/**
 * Retention: `storage.prune` on a timer (first run at once), on the leader only when several instances
 * share the database; nothing without a policy. Returns the stop function, which waits for a prune under way.
 */
export function startRetention(
  storage: CollectorStorage,
  options: { retention?: RetentionPolicy; pruneIntervalMs?: number },
  leader: LeaderLease,
  log: (line: string) => void,
  now: () => number,
): () => Promise<void> {
  const intervalMs = options.pruneIntervalMs ?? HOUR_MS;
  const hasRetention = options.retention?.eventDays !== undefined || options.retention?.sampleDays !== undefined;
  if (!hasRetention || intervalMs <= 0 || !storage.prune) return async () => {};
  const prune = storage.prune.bind(storage);
  let pruning: Promise<void> | undefined;
  const pruneNow = () => {
    if (pruning || !leader.isLeader()) return;
    pruning = prune(now())
      .then(
        (r) => {
          if (r.events !== 0 || r.droppedPartitions.length > 0)
            log(
              `collector: pruned events before ${new Date(r.eventCutoffMs ?? 0).toISOString()}: ${r.droppedPartitions.length ? r.droppedPartitions.join(', ') : `${r.events} events`}`,
            );
        },
        (e: Error) => log(`collector: prune failed: ${e.message}`),
      )
      .finally(() => (pruning = undefined));
  };
  const timer = setInterval(pruneNow, intervalMs);
  timer.unref();
  pruneNow();
  return async () => {
    clearInterval(timer);
    await pruning;
  };
}
