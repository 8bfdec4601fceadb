import type { AlertRule } from './alertRules';
import type { EventQueries } from './EventQueries';
import { populationStabilityIndex } from './populationStabilityIndex';

export interface Measurement {
  /** Identifies the series: model id and version, plus backend for latency. */
  labels: Record<string, string>;
  value: number;
  /** How many observations the value rests on (for psi: the smaller of the two windows). */
  samples: number;
}

/** Latency rows read per evaluation at most; past that the newest are used. */
export const MAX_LATENCY_SAMPLES = 100_000;

export interface MeasureOptions {
  /** Feedback events one install contributes to an accuracy window at most. */
  maxFeedbackPerInstall?: number;
}

/** Compute a rule's metric for every series that has data in its window ending at `nowMs`. */
export async function measureRule(
  rule: AlertRule,
  store: EventQueries,
  nowMs: number,
  options: MeasureOptions = {},
): Promise<Measurement[]> {
  // +1: at_ms is clamped to the receive time, so an event received at nowMs has at_ms === nowMs.
  const window = { sinceMs: nowMs - rule.windowMs, untilMs: nowMs + 1 };
  switch (rule.metric) {
    case 'accuracy':
      return (await store.accuracy(window, options.maxFeedbackPerInstall)).map((r) => ({
        labels: { modelId: r.modelId, modelVersion: r.modelVersion },
        value: r.correct / r.total,
        samples: r.total,
      }));
    case 'latency_p95':
      return (await store.latencyPercentiles(window, MAX_LATENCY_SAMPLES, [0.95])).groups.map((g) => ({
        labels: { modelId: g.modelId, modelVersion: g.modelVersion, backend: g.backend },
        value: g.values[0],
        samples: g.count,
      }));
    case 'error_rate': {
      const byModel = new Map<string, { labels: Record<string, string>; errors: number; inferences: number }>();
      const entry = (modelId: string, modelVersion: string) => {
        const k = `${modelId}\u0000${modelVersion}`;
        let e = byModel.get(k);
        if (!e) byModel.set(k, (e = { labels: { modelId, modelVersion }, errors: 0, inferences: 0 }));
        return e;
      };
      for (const r of await store.inferenceStats(window)) entry(r.modelId, r.modelVersion).inferences += r.count;
      for (const r of await store.errorCounts(window)) entry(r.modelId, r.modelVersion).errors += r.count;
      return [...byModel.values()].map((e) => ({
        labels: e.labels,
        value: e.errors / (e.errors + e.inferences),
        samples: e.errors + e.inferences,
      }));
    }
    case 'psi': {
      const baselineWindowMs = rule.baselineWindowMs ?? rule.windowMs;
      const baselineEndMs = nowMs - (rule.baselineOffsetMs ?? rule.windowMs);
      const current = await countsByModel(store, window);
      const baseline = await countsByModel(store, { sinceMs: baselineEndMs - baselineWindowMs, untilMs: baselineEndMs });
      const out: Measurement[] = [];
      for (const [k, cur] of current) {
        const base = baseline.get(k);
        if (!base) continue; // no baseline yet: a new model version cannot drift from nothing
        out.push({
          labels: cur.labels,
          value: populationStabilityIndex(base.counts, cur.counts),
          samples: Math.min(base.total, cur.total),
        });
      }
      return out;
    }
  }
}

async function countsByModel(store: EventQueries, window: { sinceMs: number; untilMs: number }) {
  const out = new Map<string, { labels: Record<string, string>; counts: Map<string, number>; total: number }>();
  for (const r of await store.predictionCounts(window)) {
    const k = `${r.modelId}\u0000${r.modelVersion}`;
    let e = out.get(k);
    if (!e) out.set(k, (e = { labels: { modelId: r.modelId, modelVersion: r.modelVersion }, counts: new Map(), total: 0 }));
    e.counts.set(r.topClass, r.count);
    e.total += r.count;
  }
  return out;
}
