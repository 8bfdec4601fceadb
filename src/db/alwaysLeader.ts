import type { LeaderLease } from './LeaderLease';

/**
 * The lease of a lone instance (SQLite is one process by design): always the leader, never changes.
 *
 * @example
 * const lease = alwaysLeader();
 * if (lease.isLeader()) await monitor.evaluate();
 */
export function alwaysLeader(): LeaderLease {
  return {
    isLeader: () => true,
    onChange: () => () => {},
    close: async () => {},
  };
}
