// Round rows as both round stores keep them (SqliteRoundStore, PostgresRoundStore): one column per field, by name.
import type { Round } from './RoundStore';

export interface RoundRow {
  id: string;
  job_id: string;
  model_id: string;
  seq: number;
  kind: Round['kind'];
  state: Round['state'];
  offer?: string;
  opened_ms: number | string;
  deadline_ms: number | string;
  closed_ms: number | string | null;
  summary: string | null;
}

/** The columns of a round listing (everything but the offer, which holds the head's weights). */
export const ROUND_LIST_COLUMNS = 'id, job_id, model_id, seq, kind, state, opened_ms, deadline_ms, closed_ms, summary';

export function roundOf(row: RoundRow & { offer: string }): Round;
export function roundOf(row: RoundRow): Omit<Round, 'offer'>;
export function roundOf(row: RoundRow): Round | Omit<Round, 'offer'> {
  // PostgreSQL returns BIGINT as a string.
  const ms = (x: number | string) => Number(x);
  return {
    id: row.id,
    jobId: row.job_id,
    modelId: row.model_id,
    seq: row.seq,
    kind: row.kind,
    state: row.state,
    ...(row.offer !== undefined ? { offer: JSON.parse(row.offer) as Record<string, unknown> } : {}),
    openedMs: ms(row.opened_ms),
    deadlineMs: ms(row.deadline_ms),
    closedMs: row.closed_ms === null ? null : ms(row.closed_ms),
    summary: row.summary === null ? null : (JSON.parse(row.summary) as Record<string, unknown>),
  };
}
