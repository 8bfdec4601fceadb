import { EVENT_TYPES, type TelemetryEventType } from '../core/eventSchema';
import type { AlertRule } from './alertRules';
import type { AlertStore } from './AlertStore';
import type { EventQueries } from './EventQueries';
import type { AlertRecord } from './storeRows';
import { buildSummary, type Summary } from './buildSummary';
import { LATENCY_BUCKETS_MS } from './latencyBuckets';

export interface TimeSeries {
  /** e.g. "mobilenet@2" */
  name: string;
  t: number[];
  v: number[];
}

/** Everything `/dashboard` draws, in one response (`GET /dashboard/data.json`). */
export interface DashboardData {
  nowMs: number;
  windowMs: number;
  summary: Summary;
  latency: { bucketsMs: number[]; backends: Record<string, number[]> };
  eventsOverTime: { bucketMs: number; t: number[]; series: Partial<Record<TelemetryEventType, number[]>> };
  accuracy: TimeSeries[];
  psi: TimeSeries[];
  alerts: AlertRecord[];
  /** Thresholds drawn on the accuracy and PSI charts. */
  rules: Array<Pick<AlertRule, 'name' | 'metric' | 'op' | 'threshold'>>;
}

/** Aim for ~120 points per time chart whatever the window. */
const TIME_BUCKETS = 120;

export async function buildDashboardData(
  store: EventQueries,
  alerts: AlertStore,
  rules: readonly AlertRule[],
  windowMs: number,
  nowMs: number,
): Promise<DashboardData> {
  const w = { sinceMs: nowMs - windowMs, untilMs: nowMs + 1 };

  const backends: Record<string, number[]> = {};
  for (const r of await store.latencyHistogram(w)) {
    (backends[r.backend] ??= new Array(LATENCY_BUCKETS_MS.length + 1).fill(0))[r.bucket] += r.count;
  }

  const bucketMs = Math.max(1000, Math.ceil(windowMs / TIME_BUCKETS / 1000) * 1000);
  const firstBucket = Math.floor(w.sinceMs / bucketMs) * bucketMs;
  const t: number[] = [];
  for (let b = firstBucket; b <= nowMs; b += bucketMs) t.push(b);
  const series: Partial<Record<TelemetryEventType, number[]>> = {};
  for (const r of await store.eventsOverTime(w, bucketMs)) {
    const i = Math.round((r.bucketStartMs - firstBucket) / bucketMs);
    if (i < 0 || i >= t.length) continue;
    (series[r.type] ??= new Array(t.length).fill(0))[i] = r.count;
  }
  // Fixed type order keeps chart colours stable between refreshes.
  const ordered: typeof series = {};
  for (const type of EVENT_TYPES) if (series[type]) ordered[type] = series[type];

  return {
    nowMs,
    windowMs,
    summary: await buildSummary(store, windowMs, nowMs),
    latency: { bucketsMs: [...LATENCY_BUCKETS_MS], backends },
    eventsOverTime: { bucketMs, t, series: ordered },
    accuracy: await timeSeries(alerts, 'accuracy', w),
    psi: await timeSeries(alerts, 'psi', w),
    alerts: await alerts.listAlerts(50),
    rules: rules.map(({ name, metric, op, threshold }) => ({ name, metric, op, threshold })),
  };
}

async function timeSeries(alerts: AlertStore, metric: string, w: { sinceMs: number; untilMs: number }): Promise<TimeSeries[]> {
  const byName = new Map<string, TimeSeries>();
  for (const s of await alerts.monitorSamples(w, metric)) {
    const name = `${s.labels.modelId}@${s.labels.modelVersion}`;
    let ts = byName.get(name);
    if (!ts) byName.set(name, (ts = { name, t: [], v: [] }));
    ts.t.push(s.atMs);
    ts.v.push(s.value);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}
