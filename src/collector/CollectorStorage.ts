// Types-only: everything the collector keeps, as the three interfaces a database implements.
import type { AlertStore } from './AlertStore';
import type { EventQueries } from './EventQueries';
import type { EventWriter } from './EventWriter';

export interface CollectorStorage {
  writer: EventWriter;
  queries: EventQueries;
  alerts: AlertStore;
  close(): Promise<void>;
}
