// Types-only: where retraining jobs and the one-job-at-a-time lock are kept (SQLite: SqliteJobStore).
import type { TrainerProcess } from './trainerProcess';

export const JOB_STATES = ['queued', 'running', 'succeeded', 'refused', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];
/** What started a job. */
export type JobTrigger = 'manual' | 'accuracy-alert' | 'new-samples' | 'schedule';

export interface Job {
  id: string;
  modelId: string;
  trigger: JobTrigger;
  state: JobState;
  createdMs: number;
  startedMs: number | null;
  finishedMs: number | null;
  durationMs: number | null;
  /** The version the candidate was compared with. */
  baseVersion: string | null;
  /** Gate figures (accuracies, counts, decision); see GateDecision. */
  metrics: Record<string, unknown> | null;
  /** Field samples read, after dedupe, held back, trained on, per class. */
  dataSummary: Record<string, unknown> | null;
  /** Why a job was refused or failed (null when it succeeded). */
  reason: string | null;
  /** The last lines of the job's and the trainer's log (bounded). */
  logTail: string;
  /** The published release (succeeded only). */
  resultVersion: string | null;
  /** The trainer's process group and machine, recorded when it starts: a server started after a crash ends it. */
  trainer: TrainerProcess | null;
}

export type JobUpdate = Partial<Omit<Job, 'id' | 'modelId' | 'trigger' | 'createdMs'>>;

export interface JobStore {
  create(job: { id: string; modelId: string; trigger: JobTrigger; createdMs: number }): Promise<Job>;
  update(id: string, update: JobUpdate): Promise<Job>;
  get(id: string): Promise<Job | undefined>;
  /** Newest first. */
  list(options: { modelId?: string; limit: number }): Promise<Job[]>;
  /**
   * Take the retraining lock for `holder` unless another holder's lease (renewed within `leaseMs`) is
   * live; true when taken. It holds across processes sharing the database.
   */
  acquireLock(holder: string, nowMs: number, leaseMs: number): Promise<boolean>;
  /** Renew a held lease; false when it was lost (expired and taken by another holder). */
  renewLock(holder: string, nowMs: number): Promise<boolean>;
  releaseLock(holder: string): Promise<void>;
}
