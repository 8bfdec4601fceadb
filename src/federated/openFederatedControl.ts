import { describePostgresUrl, openPostgresPool } from '../db/openPostgresPool';
import { migratePostgres } from '../db/postgresMigrations';
import { openSqliteDatabase } from '../db/openSqliteDatabase';
import type { ReadAccessPolicy, WriteAccessPolicy } from '../http/checkWriteAccess';
import type { OriginPolicy } from '../http/corsHeaders';
import type { ReleaseService } from '../releases/ReleaseService';
import { inProcessPorts } from '../retrain/inProcessPorts';
import type { JobOutcome } from '../retrain/runRetrainJob';
import type { ModelRetrainConfig } from '../retrain/retrainConfig';
import type { SandboxSettings } from '../sandbox';
import { computeFeaturesInSandbox } from './computeFeaturesInSandbox';
import { createFederatedControl, type FederatedJobs } from './createFederatedControl';
import { evaluateBaseInSandbox } from './evaluateBaseInSandbox';
import { PostgresRoundStore } from './PostgresRoundStore';
import type { RoundStore } from './RoundStore';
import { runFederatedJob } from './runFederatedJob';
import { SqliteRoundStore } from './SqliteRoundStore';

export interface FederatedControl {
  /** Serve `/v1/federated/…`; false for any other path. */
  handle: ReturnType<typeof createFederatedControl>['handle'];
  /** The retraining jobs that start federated jobs by hand (POST …/rounds). */
  attachJobs(jobs: FederatedJobs): void;
  /** Run one federated job (RetrainJobs' runFederated). */
  runJob(o: {
    jobId: string;
    modelId: string;
    config: ModelRetrainConfig;
    log: (line: string) => void;
    signal: AbortSignal;
    rounds?: number;
  }): Promise<JobOutcome>;
  close(): Promise<void>;
}

/**
 * Federated rounds inside the server (`npm start`): their store on the collector's SQLite file (own connection),
 * or on its PostgreSQL database with `databaseUrl`, the client endpoints, and the job runner; candidates are
 * published through `releases`, models run in sandbox children.
 */
export async function openFederatedControl(
  dbPath: string,
  options: {
    databaseUrl?: string;
    releases: ReleaseService;
    modelsDir: string;
    siteKeys: ReadonlySet<string>;
    origins: OriginPolicy;
    write: WriteAccessPolicy;
    read: ReadAccessPolicy;
    installRequestsPerMinute?: number;
    /** How often an open round's updates are counted (default 250 ms). */
    pollMs?: number;
    sandbox?: SandboxSettings;
    log?: (line: string) => void;
  },
): Promise<FederatedControl> {
  const database = await openRoundStore(dbPath, options.databaseUrl);
  const control = createFederatedControl({ ...options, store: database.store });
  const releasePorts = inProcessPorts({ releases: options.releases, fieldSamples: async () => [], modelsDir: options.modelsDir });
  return {
    handle: control.handle,
    attachJobs: control.attachJobs,
    runJob: (o) =>
      runFederatedJob({
        ...o,
        pollMs: options.pollMs,
        ports: {
          releases: releasePorts,
          trainable: (modelId, version) => options.releases.trainableOf(modelId, version),
          rounds: database.store,
          evaluateBase: (models, examples) => evaluateBaseInSandbox(models, examples, options.sandbox),
          features: (variant, examples, name, count) => computeFeaturesInSandbox(variant, examples, name, count, options.sandbox),
        },
      }),
    close: database.close,
  };
}

async function openRoundStore(dbPath: string, databaseUrl: string | undefined): Promise<{ store: RoundStore; close(): Promise<void> }> {
  if (!databaseUrl) {
    const db = openSqliteDatabase(dbPath);
    return { store: new SqliteRoundStore(db), close: async () => void (db.open && db.close()) };
  }
  const pool = openPostgresPool(databaseUrl, { max: 4 });
  try {
    await migratePostgres(pool);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot open database ${describePostgresUrl(databaseUrl)}: ${(e as Error).message}`, { cause: e });
  }
  return { store: new PostgresRoundStore(pool), close: () => pool.end() };
}
