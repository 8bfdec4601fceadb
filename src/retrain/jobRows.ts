// Job rows as both job stores keep them (SqliteJobStore, PostgresJobStore): one column per field, by name,
// the figures as JSON text.
import type { Job, JobState, JobTrigger, JobUpdate } from './JobStore';
import type { TrainerProcess } from './trainerProcess';

export interface JobRow {
  id: string;
  model_id: string;
  trigger: JobTrigger;
  state: JobState;
  created_ms: number;
  started_ms: number | null;
  finished_ms: number | null;
  duration_ms: number | null;
  base_version: string | null;
  metrics: string | null;
  data_summary: string | null;
  reason: string | null;
  log_tail: string;
  result_version: string | null;
  trainer: string | null;
}

/** Job fields → columns, by name. */
export const COLUMNS: Record<keyof JobUpdate, keyof JobRow> = {
  state: 'state',
  startedMs: 'started_ms',
  finishedMs: 'finished_ms',
  durationMs: 'duration_ms',
  baseVersion: 'base_version',
  metrics: 'metrics',
  dataSummary: 'data_summary',
  reason: 'reason',
  logTail: 'log_tail',
  resultVersion: 'result_version',
  trainer: 'trainer',
};
export const JSON_FIELDS = new Set<keyof JobUpdate>(['metrics', 'dataSummary', 'trainer']);

export function jobOf(row: JobRow): Job {
  return {
    id: row.id,
    modelId: row.model_id,
    trigger: row.trigger,
    state: row.state,
    createdMs: row.created_ms,
    startedMs: row.started_ms,
    finishedMs: row.finished_ms,
    durationMs: row.duration_ms,
    baseVersion: row.base_version,
    metrics: row.metrics === null ? null : (JSON.parse(row.metrics) as Record<string, unknown>),
    dataSummary: row.data_summary === null ? null : (JSON.parse(row.data_summary) as Record<string, unknown>),
    reason: row.reason,
    logTail: row.log_tail,
    resultVersion: row.result_version,
    trainer: row.trainer === null ? null : (JSON.parse(row.trainer) as TrainerProcess),
  };
}
