import type { IncomingMessage, ServerResponse } from 'node:http';
import { describePostgresUrl, openPostgresPool } from '../db/openPostgresPool';
import { migratePostgres } from '../db/postgresMigrations';
import { openSqliteDatabase } from '../db/openSqliteDatabase';
import { accessPolicy, type AccessOptions } from '../http/accessPolicy';
import type { OriginPolicy } from '../http/corsHeaders';
import { routeRequest, type RouteTable } from '../http/routeRequest';
import { TokenBucketLimiter } from '../http/TokenBucketLimiter';
import type { ReleaseService } from '../releases/ReleaseService';
import { inProcessPorts } from '../retrain/inProcessPorts';
import type { JobOutcome } from '../retrain/runRetrainJob';
import type { ModelRetrainConfig } from '../retrain/retrainConfig';
import type { SandboxSettings } from '../sandbox';
import { computeFeaturesInSandbox } from './computeFeaturesInSandbox';
import { FederatedRounds } from './FederatedRounds';
import { FEDERATED_PARAMS, federatedOwn, federatedRoutes, type FederatedJobs } from './federatedRoutes';
import { evaluateBaseInSandbox } from './evaluateBaseInSandbox';
import { PostgresRoundStore } from './PostgresRoundStore';
import type { RoundStore } from './RoundStore';
import { runFederatedJob } from './runFederatedJob';
import { SqliteRoundStore } from './SqliteRoundStore';

export interface FederatedControl {
  /** Serve the federated routes (federatedRoutes); false for any other path. */
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
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
  options: AccessOptions & {
    databaseUrl?: string;
    releases: ReleaseService;
    modelsDir: string;
    siteKeys: ReadonlySet<string>;
    origins: OriginPolicy;
    /** Round requests (offers and updates) each install may make a minute (0: no limit). Default 60. */
    installRequestsPerMinute?: number;
    /** How often an open round's updates are counted (default 250 ms). */
    pollMs?: number;
    sandbox?: SandboxSettings;
    log?: (line: string) => void;
  },
): Promise<FederatedControl> {
  const database = await openRoundStore(dbPath, options.databaseUrl);
  const perMinute = options.installRequestsPerMinute ?? 60;
  let jobs: FederatedJobs | undefined;
  const table: RouteTable = {
    name: 'federated',
    routes: federatedRoutes({
      rounds: new FederatedRounds(database.store),
      store: database.store,
      siteKeys: options.siteKeys,
      origins: options.origins,
      limiter: new TokenBucketLimiter({ perSecond: perMinute / 60, burst: Math.max(1, perMinute) }),
      jobs: () => jobs,
      now: Date.now,
    }),
    owns: federatedOwn,
    access: accessPolicy(options),
    params: FEDERATED_PARAMS,
    log: options.log,
  };
  const releasePorts = inProcessPorts({ releases: options.releases, fieldSamples: async () => [], modelsDir: options.modelsDir });
  return {
    handle: (req, res) => routeRequest(table, req, res),
    attachJobs: (j) => void (jobs = j),
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
