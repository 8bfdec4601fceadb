// Types-only: everything the collector keeps, as the interfaces a database implements.
import type { AlertStore } from './AlertStore';
import type { EventQueries } from './EventQueries';
import type { EventWriter } from './EventWriter';
import type { PruneResult } from './Retention';
import type { SampleStore } from './SampleStore';

export interface CollectorStorage {
  writer: EventWriter;
  queries: EventQueries;
  alerts: AlertStore;
  /**
   * Remove what is past the retention period at `nowMs` (openSqliteStorage / openPostgresStorage take the
   * policy). Run it on one instance only (the leader) when several share a database.
   */
  prune?(nowMs: number): Promise<PruneResult>;
  /** Consented training samples (`GET /v1/datasets/{model}`); a storage without it answers that endpoint 501. */
  samples?: SampleStore;
  close(): Promise<void>;
}
