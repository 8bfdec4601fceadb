// Types-only protocol between the collector (main thread) and its query worker (queryWorkerEntry.ts),
// spoken through comlink. Heavy reads — alert measurements, summaries, dashboard data — run in the
// worker on their own SQLite connection, so they never block ingest on the main thread.
import type { AlertRule } from './alertRules';
import type { DashboardData } from './buildDashboardData';
import type { Summary } from './buildSummary';
import type { Measurement, MeasureOptions } from './measureRule';

export interface QueryWorkerData {
  /** URL of queryWorkerEntry.ts (or .js once compiled). */
  entry: string;
  dbPath: string;
  /** How often the worker runs a PASSIVE WAL checkpoint (the main connection's auto-checkpoint is a safety net). */
  checkpointIntervalMs: number;
  /** WAL size (pages) past which a checkpoint also restarts the WAL (briefly blocking the writer). */
  restartWalAfterPages: number;
}

/** What the worker exposes (and what the inline variant implements on the caller's thread). */
export interface QueryApi {
  /** One list per rule, in rule order. */
  measure(rules: readonly AlertRule[], nowMs: number, options: MeasureOptions): Promise<Measurement[][]>;
  summary(windowMs: number, nowMs: number): Promise<Summary>;
  dashboard(rules: readonly AlertRule[], windowMs: number, nowMs: number): Promise<DashboardData>;
}
