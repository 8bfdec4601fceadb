// Alert and monitor-sample rows as both alert stores read them (SqliteAlertStore, PostgresAlertStore):
// the columns aliased to the record's field names, the labels as JSON text.
import type { AlertRecord, MonitorSample } from './storeRows';

export type AlertRow = Omit<AlertRecord, 'labels'> & { labels: string };
export type MonitorSampleRow = Omit<MonitorSample, 'labels'> & { labels: string };

export function alertFromRow(r: AlertRow): AlertRecord {
  return {
    ...r,
    labels: JSON.parse(r.labels) as Record<string, string>,
    op: r.op === '<' ? '<' : '>',
    state: r.state === 'firing' ? 'firing' : 'resolved',
  };
}

export function monitorSampleFromRow(r: MonitorSampleRow): MonitorSample {
  return { ...r, labels: JSON.parse(r.labels) as Record<string, string> };
}
