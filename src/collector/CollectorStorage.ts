// Types-only: everything the collector keeps, as the interfaces a database implements.
import type { AlertStore } from './AlertStore';
import type { EventQueries } from './EventQueries';
import type { EventWriter } from './EventWriter';
import type { SampleStore } from './SampleStore';

export interface CollectorStorage {
  writer: EventWriter;
  queries: EventQueries;
  alerts: AlertStore;
  /** Consented training samples (`GET /v1/datasets/{model}`); a storage without it answers that endpoint 501. */
  samples?: SampleStore;
  close(): Promise<void>;
}
