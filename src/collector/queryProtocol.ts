// Types-only protocol between the collector (main thread) and its query worker (queryWorkerEntry.ts).
// Heavy reads — alert measurements, summaries, dashboard data — run in the worker on their own
// SQLite connection, so they never block ingest on the main thread.
import type { AlertRule } from './alertRules';
import type { DashboardData } from './buildDashboardData';
import type { Summary } from './buildSummary';
import type { Measurement } from './measureRule';

export interface QueryWorkerData {
  /** URL of queryWorkerEntry.ts (or .js once compiled). */
  entry: string;
  dbPath: string;
  /** How often the worker runs a PASSIVE WAL checkpoint (the main connection's auto-checkpoint is a safety net). */
  checkpointIntervalMs: number;
  /** WAL size (pages) past which a checkpoint also restarts the WAL (briefly blocking the writer). */
  restartWalAfterPages: number;
}

export type QueryRequest =
  | { id: number; type: 'measure'; rules: AlertRule[]; nowMs: number }
  | { id: number; type: 'summary'; windowMs: number; nowMs: number }
  | { id: number; type: 'dashboard'; rules: AlertRule[]; windowMs: number; nowMs: number };

export interface QueryResults {
  /** One list per rule, in rule order. */
  measure: Measurement[][];
  summary: Summary;
  dashboard: DashboardData;
}

export type QueryResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
