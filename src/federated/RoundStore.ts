// Types-only: where federated rounds and their updates are kept (SqliteRoundStore, PostgresRoundStore), so
// that every server instance on the database answers the same rounds and refuses a second update alike.
import type { RoundKind } from '../core/schema/FederatedRound';

export type RoundState = 'open' | 'closed';

/** What a round offers every client, without its id and deadline (the offer's other fields, src/core/schema/FederatedRound.ts). */
export type StoredOffer = Record<string, unknown>;

export interface Round {
  id: string;
  jobId: string;
  modelId: string;
  /** 1, 2, … within the job; the evaluation round comes last. */
  seq: number;
  kind: RoundKind;
  state: RoundState;
  offer: StoredOffer;
  openedMs: number;
  deadlineMs: number;
  closedMs: number | null;
  /** The round's figures once closed (RoundSummary), else null. */
  summary: Record<string, unknown> | null;
}

/** Why an update was not taken. */
export type AddUpdateResult = 'added' | 'duplicate' | 'closed' | 'unknown';

export interface RoundStore {
  open(round: Omit<Round, 'state' | 'closedMs' | 'summary'>): Promise<void>;
  get(id: string): Promise<Round | undefined>;
  /** The model's open round whose deadline is after `nowMs` (at most one is open per model). */
  openRoundOf(modelId: string, nowMs: number): Promise<Round | undefined>;
  /**
   * Take `body` as `installId`'s update of round `roundId`, atomically with the checks: the round must exist
   * and be open, and the install must not have sent one yet.
   */
  addUpdate(roundId: string, installId: string, body: string, nowMs: number): Promise<AddUpdateResult>;
  hasUpdate(roundId: string, installId: string): Promise<boolean>;
  countUpdates(roundId: string): Promise<number>;
  /** Close the round (no update is taken after this) and return the updates it took, in arrival order. */
  close(roundId: string, nowMs: number): Promise<{ installId: string; body: string }[]>;
  /** Record a closed round's figures and delete its updates' bodies: only the aggregate is kept. */
  finish(roundId: string, summary: Record<string, unknown>): Promise<void>;
  /** Close every open round of a model (a job that stops, a server that restarts with one open). */
  closeAll(modelId: string | undefined, nowMs: number): Promise<number>;
  /** A job's rounds in order, without their offers. */
  listRounds(jobId: string): Promise<Omit<Round, 'offer'>[]>;
}
