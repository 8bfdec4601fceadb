// Release and decision rows as both release stores keep them (SqliteReleaseStore, PostgresReleaseStore):
// one column per field, by name; the entry, metrics and evidence as JSON text.
import type { Decision, NewRelease, PublishedEntry, Release, ReleaseState } from './ReleaseStore';

export interface ReleaseRow {
  model_id: string;
  version: string;
  seq: number;
  sha256: string;
  bytes: number;
  entry: string;
  url: string;
  notes: string | null;
  metrics: string | null;
  published_ms: number;
  state: ReleaseState;
  percent: number;
  rollout_started_ms: number | null;
}

export interface DecisionRow {
  model_id: string;
  version: string;
  at_ms: number;
  action: Decision['action'];
  from_percent: number;
  to_percent: number;
  actor: Decision['actor'];
  reason: string;
  evidence: string;
}

/** The columns a publish writes (`seq` is computed in SQL: one more than the model's last). */
export type NewReleaseRow = Omit<ReleaseRow, 'seq'>;

export function releaseRowOf(release: NewRelease): NewReleaseRow {
  return {
    model_id: release.modelId,
    version: release.version,
    sha256: release.sha256,
    bytes: release.entry.bytes,
    entry: JSON.stringify(release.entry),
    url: release.entry.url,
    notes: release.notes,
    metrics: release.metrics === undefined ? null : JSON.stringify(release.metrics),
    published_ms: release.publishedMs,
    state: release.state,
    percent: release.percent,
    rollout_started_ms: release.percent > 0 ? release.publishedMs : null,
  };
}

export function releaseOf(row: ReleaseRow): Release {
  return {
    modelId: row.model_id,
    version: row.version,
    seq: row.seq,
    sha256: row.sha256,
    bytes: row.bytes,
    entry: JSON.parse(row.entry) as PublishedEntry,
    notes: row.notes,
    metrics: row.metrics === null ? null : (JSON.parse(row.metrics) as unknown),
    publishedMs: row.published_ms,
    state: row.state,
    percent: row.percent,
    rolloutStartedMs: row.rollout_started_ms,
  };
}

export function decisionRowOf(d: Decision): DecisionRow {
  return {
    model_id: d.modelId,
    version: d.version,
    at_ms: d.atMs,
    action: d.action,
    from_percent: d.fromPercent,
    to_percent: d.toPercent,
    actor: d.actor,
    reason: d.reason,
    evidence: JSON.stringify(d.evidence ?? null),
  };
}

export function decisionOf(row: DecisionRow): Decision {
  return {
    modelId: row.model_id,
    version: row.version,
    atMs: row.at_ms,
    action: row.action,
    fromPercent: row.from_percent,
    toPercent: row.to_percent,
    actor: row.actor,
    reason: row.reason,
    evidence: JSON.parse(row.evidence) as unknown,
  };
}

/** The columns a publish writes, in the order the PostgreSQL statement numbers them. */
export const NEW_RELEASE_COLUMNS = [
  'model_id',
  'version',
  'sha256',
  'bytes',
  'entry',
  'url',
  'notes',
  'metrics',
  'published_ms',
  'state',
  'percent',
  'rollout_started_ms',
] as const satisfies readonly (keyof NewReleaseRow)[];

export const DECISION_COLUMNS = [
  'model_id',
  'version',
  'at_ms',
  'action',
  'from_percent',
  'to_percent',
  'actor',
  'reason',
  'evidence',
] as const satisfies readonly (keyof DecisionRow)[];
