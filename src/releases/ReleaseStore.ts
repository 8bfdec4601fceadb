// Types-only: what the release control plane keeps, as one interface a database implements
// (SqliteReleaseStore, PostgresReleaseStore; both map the same rows by column name, releaseRows.ts).
import type { TensorSpec } from '../core/schema/TensorSpec';
import type { ObjectStore } from './ObjectStore';

export type ReleaseState = 'stable' | 'candidate' | 'rolled_back' | 'retired';

/**
 * A published version's registry entry as the store keeps it: what the manifest serves of it (its
 * ReleaseEntry, src/registry/ReleaseManifest.ts, adds the release state), `url` a path on this server.
 */
export interface PublishedEntry {
  id: string;
  version: string;
  url: string;
  sha256: string;
  bytes: number;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  sample?: unknown;
  [field: string]: unknown;
}

export interface Release {
  modelId: string;
  version: string;
  /** Publish order within the model (versions are strings, ordered by publish time). */
  seq: number;
  sha256: string;
  bytes: number;
  entry: PublishedEntry;
  notes: string | null;
  /** Offline metrics the publisher attached (`--metrics file.json`). */
  metrics: unknown;
  publishedMs: number;
  state: ReleaseState;
  percent: number;
  /** When the candidate first got a share of installs: its field metrics are counted from here. */
  rolloutStartedMs: number | null;
}

export interface Decision {
  modelId: string;
  version: string;
  atMs: number;
  action: 'publish' | 'rollout' | 'advance' | 'promote' | 'rollback' | 'hold';
  fromPercent: number;
  toPercent: number;
  /** `operator` (an API call) or `policy` (the decision loop). */
  actor: 'operator' | 'policy';
  reason: string;
  evidence: unknown;
}

export interface NewRelease {
  modelId: string;
  version: string;
  sha256: string;
  entry: PublishedEntry;
  notes: string | null;
  metrics: unknown;
  publishedMs: number;
  /** The version's stored files (objects already in `ReleaseStore.objects`); absent for a seeded registry entry (served from /models/). */
  files?: ReleaseFile[];
  state: ReleaseState;
  percent: number;
}

/**
 * One file of a published version, an object of the store: the ONNX file (`model`), an external data file
 * (`data`, at the location the model names it), the pre-optimised copy (`optimized`) or the features variant of a
 * trainable version (`features`, federated fine-tuning). `location` is '' but for data.
 */
export interface ReleaseFile {
  role: 'model' | 'data' | 'optimized' | 'features';
  location: string;
  sha256: string;
  bytes: number;
}

/** What `ReleaseStore.publish` did: stored it, or nothing because the version exists, or because a `stable` one was asked for and the model has one. */
export type PublishOutcome = 'published' | 'version-exists' | 'stable-exists';

export interface ReleaseStore {
  /** The release files' bytes, content-addressed in chunks. */
  readonly objects: ObjectStore;
  /**
   * Insert the blobs (if new: the bytes, their pre-optimised copy and features variant) and the release in one
   * transaction. A release asked for as `stable` (a model's first) is stored only if the model has no stable
   * release when the transaction runs, so concurrent first publishes make exactly one stable. Throws
   * MissingObjectsError when a file's object is not stored (nothing is inserted).
   */
  publish(release: NewRelease, decision: Decision): Promise<PublishOutcome>;
  get(modelId: string, version: string): Promise<Release | undefined>;
  /** A published version's stored files (none for a seeded registry entry or a version published before files were chunked). */
  files(modelId: string, version: string): Promise<ReleaseFile[]>;
  /** All versions of a model in publish order. */
  list(modelId: string): Promise<Release[]>;
  modelIds(): Promise<string[]>;
  /**
   * A stored file's bytes, whole, in memory (a stored object, or a value a version published before files were
   * stored in chunks keeps): for small models only, e.g. the one a retraining job starts from.
   */
  readBlob(sha256: string): Promise<Uint8Array | undefined>;
  /**
   * Change one version's state and percent (and, for a promotion, retire the previous stable) together
   * with the decision record, in one transaction.
   */
  transition(
    change: { modelId: string; version: string; state: ReleaseState; percent: number; atMs: number },
    decision: Decision,
  ): Promise<void>;
  /** Log a decision that changes no release (a hold). */
  record(decision: Decision): Promise<void>;
  decisions(modelId: string, limit: number): Promise<Decision[]>;
  /** The decision loop's latest evaluation of a model (upserted every pass; shared by every instance). */
  saveEvaluation(evaluation: Evaluation): Promise<void>;
  lastEvaluation(modelId: string): Promise<Evaluation | undefined>;
  /** When the decision loop last passed over every model (on whichever instance led). */
  savePass(atMs: number): Promise<void>;
  lastPassAtMs(): Promise<number | null>;
}

/** One model's latest evaluation by the decision loop. */
export interface Evaluation {
  modelId: string;
  atMs: number;
  version: string;
  action: string;
  reason: string;
}
