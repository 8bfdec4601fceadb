// Types-only: which instance of a collector fleet does the work that must happen once (alert
// evaluation, rollout decisions, retraining triggers, retention).

export interface LeaderLease {
  /** True while this instance holds the lease. Read it just before doing once-only work. */
  isLeader(): boolean;
  /** Called with the new state each time it changes; returns the unsubscribe function. */
  onChange(callback: (isLeader: boolean) => void): () => void;
  /** Gives the lease up (another instance takes over at its next attempt) and stops trying. */
  close(): Promise<void>;
}
