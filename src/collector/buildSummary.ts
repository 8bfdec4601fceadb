import type { TelemetryBackend, TelemetryEventType } from '../core/eventSchema';
import type { EventQueries } from './EventQueries';
import type { TimeWindow } from './storeRows';

/** Latency rows read per summary at most; past that percentiles describe the newest traffic. */
export const MAX_SUMMARY_LATENCY_SAMPLES = 200_000;

export interface SummaryGroup {
  modelId: string;
  modelVersion: string;
  backend: TelemetryBackend;
  /** Inference events. */
  count: number;
  latencyMs: { mean: number | null; p50: number | null; p95: number | null; p99: number | null };
  loads: number;
  meanLoadMs: number | null;
  /** Share of this model version's inferences that ran on this backend. */
  backendShare: number;
  /** errors / (inferences + errors) of the model version: error events carry no backend. */
  errorRate: number | null;
  /** Distinct sessions per device class ("GPU vendor / browser"). */
  devices: Record<string, number>;
}

export interface ModelSummary {
  modelId: string;
  modelVersion: string;
  inferences: number;
  errors: number;
  errorRate: number | null;
  /** null without feedback in the window. */
  accuracy: number | null;
  feedback: number;
}

export interface Summary {
  windowMs: number;
  sinceMs: number;
  untilMs: number;
  events: Partial<Record<TelemetryEventType, number>>;
  latencySampled: boolean;
  models: ModelSummary[];
  groups: SummaryGroup[];
}

/** `GET /v1/summary`: what happened in the last `windowMs`, per model × version × backend. */
export async function buildSummary(store: EventQueries, windowMs: number, nowMs: number): Promise<Summary> {
  const w: TimeWindow = { sinceMs: nowMs - windowMs, untilMs: nowMs + 1 };
  const groups = new Map<string, SummaryGroup>();
  const group = (modelId: string, modelVersion: string, backend: TelemetryBackend) => {
    const k = `${modelId}\u0000${modelVersion}\u0000${backend}`;
    let g = groups.get(k);
    if (!g) {
      groups.set(
        k,
        (g = {
          modelId,
          modelVersion,
          backend,
          count: 0,
          latencyMs: { mean: null, p50: null, p95: null, p99: null },
          loads: 0,
          meanLoadMs: null,
          backendShare: 0,
          errorRate: null,
          devices: {},
        }),
      );
    }
    return g;
  };
  const models = new Map<string, ModelSummary>();
  const model = (modelId: string, modelVersion: string) => {
    const k = `${modelId}\u0000${modelVersion}`;
    let m = models.get(k);
    if (!m) models.set(k, (m = { modelId, modelVersion, inferences: 0, errors: 0, errorRate: null, accuracy: null, feedback: 0 }));
    return m;
  };

  for (const r of await store.inferenceStats(w)) {
    const g = group(r.modelId, r.modelVersion, r.backend);
    g.count = r.count;
    g.latencyMs.mean = r.meanMs;
    model(r.modelId, r.modelVersion).inferences += r.count;
  }
  const samples = await store.latencyPercentiles(w, MAX_SUMMARY_LATENCY_SAMPLES, [0.5, 0.95, 0.99]);
  for (const s of samples.groups) {
    const g = group(s.modelId, s.modelVersion, s.backend);
    [g.latencyMs.p50, g.latencyMs.p95, g.latencyMs.p99] = s.values;
  }
  for (const r of await store.loadStats(w)) {
    const g = group(r.modelId, r.modelVersion, r.backend);
    g.loads = r.count;
    g.meanLoadMs = r.meanMs;
    model(r.modelId, r.modelVersion);
  }
  for (const r of await store.errorCounts(w)) model(r.modelId, r.modelVersion).errors += r.count;
  for (const r of await store.accuracy(w)) {
    const m = model(r.modelId, r.modelVersion);
    m.feedback = r.total;
    m.accuracy = r.total > 0 ? r.correct / r.total : null;
  }
  // defineProperty: a device named `__proto__` is a count like any other, not the object's prototype.
  for (const r of await store.deviceMix(w))
    Object.defineProperty(group(r.modelId, r.modelVersion, r.backend).devices, r.device, {
      value: r.sessions,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  for (const m of models.values()) {
    const attempts = m.inferences + m.errors;
    m.errorRate = attempts > 0 ? m.errors / attempts : null;
  }
  for (const g of groups.values()) {
    const m = model(g.modelId, g.modelVersion);
    g.backendShare = m.inferences > 0 ? g.count / m.inferences : 0;
    g.errorRate = m.errorRate;
  }

  const events: Summary['events'] = {};
  for (const r of await store.countInWindow(w)) events[r.type] = r.count;
  const byKey = <T extends { modelId: string; modelVersion: string }>(a: T, b: T) =>
    a.modelId.localeCompare(b.modelId) || a.modelVersion.localeCompare(b.modelVersion);
  return {
    windowMs,
    sinceMs: w.sinceMs,
    untilMs: nowMs,
    events,
    latencySampled: samples.truncated,
    models: [...models.values()].sort(byKey),
    groups: [...groups.values()].sort((a, b) => byKey(a, b) || a.backend.localeCompare(b.backend)),
  };
}
