// Types-only: where alerts and the measured monitor values are kept.
import type { AlertRecord, MonitorSample, NewAlert, TimeWindow } from './storeRows';

export interface AlertStore {
  firingAlerts(): Promise<AlertRecord[]>;
  listAlerts(limit: number): Promise<AlertRecord[]>;
  openAlert(alert: NewAlert): Promise<AlertRecord>;
  resolveAlert(id: number, atMs: number, value: number): Promise<AlertRecord>;

  insertMonitorSamples(samples: readonly MonitorSample[]): Promise<void>;
  monitorSamples(window: TimeWindow, metric: string): Promise<MonitorSample[]>;
  pruneMonitorSamples(beforeMs: number): Promise<void>;
}
