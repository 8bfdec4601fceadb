import type { AlertRule } from './alertRules';
import { buildDashboardData, type DashboardData } from './buildDashboardData';
import { buildSummary, type Summary } from './buildSummary';
import type { EventStore } from './EventStore';
import { measureRule, type Measurement } from './measureRule';

/** The expensive read side, asynchronous so it can live on a worker thread (QueryWorker) or inline. */
export interface ReadQueries {
  measure(rules: readonly AlertRule[], nowMs: number): Promise<Measurement[][]>;
  summary(windowMs: number, nowMs: number): Promise<Summary>;
  dashboard(rules: readonly AlertRule[], windowMs: number, nowMs: number): Promise<DashboardData>;
  close(): Promise<void>;
}

/** Run the queries on the caller's thread: for in-memory or injected stores, and unit tests. */
export function inlineReadQueries(store: EventStore): ReadQueries {
  return {
    measure: async (rules, nowMs) => rules.map((rule) => measureRule(rule, store, nowMs)),
    summary: async (windowMs, nowMs) => buildSummary(store, windowMs, nowMs),
    dashboard: async (rules, windowMs, nowMs) => buildDashboardData(store, rules, windowMs, nowMs),
    close: async () => {},
  };
}
