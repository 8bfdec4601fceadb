import type { AlertStore } from './AlertStore';
import { buildDashboardData } from './buildDashboardData';
import { buildSummary } from './buildSummary';
import type { EventQueries } from './EventQueries';
import { measureRule } from './measureRule';
import type { QueryApi } from './queryProtocol';

/** The expensive read side: on a worker thread (QueryWorker) or inline. */
export interface ReadQueries extends QueryApi {
  close(): Promise<void>;
}

/** The read side over any storage, on the caller's thread (the query worker runs exactly this). */
export function createQueryApi(queries: EventQueries, alerts: AlertStore): QueryApi {
  return {
    measure: (rules, nowMs, options) => Promise.all(rules.map((rule) => measureRule(rule, queries, nowMs, options))),
    summary: (windowMs, nowMs) => buildSummary(queries, windowMs, nowMs),
    dashboard: (rules, windowMs, nowMs) => buildDashboardData(queries, alerts, rules, windowMs, nowMs),
  };
}

/** Run the queries on the caller's thread: for in-memory or injected storage, and unit tests. */
export function inlineReadQueries(queries: EventQueries, alerts: AlertStore): ReadQueries {
  return { ...createQueryApi(queries, alerts), close: async () => {} };
}
