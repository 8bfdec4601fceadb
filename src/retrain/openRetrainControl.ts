import type { TelemetryEvent } from '../core/eventSchema';
import type { Collector } from '../collector/Collector';
import { openSqliteDatabase } from '../db/openSqliteDatabase';
import { describePostgresUrl, openPostgresPool } from '../db/openPostgresPool';
import { migratePostgres } from '../db/postgresMigrations';
import type { ReleaseService } from '../releases/ReleaseService';
import { createRetrainControl, type RetrainControl, type RetrainControlOptions } from './createRetrainControl';
import type { FieldSample } from './FieldSample';
import { inProcessPorts } from './inProcessPorts';
import { loadRetrainConfig } from './retrainConfig';
import type { JobStore } from './JobStore';
import { PostgresJobStore } from './PostgresJobStore';
import { SqliteJobStore } from './SqliteJobStore';
import { ownValue } from '../core/ownValue';

/**
 * Retraining inside the server (`npm start`): jobs on the collector's SQLite file (own connection), the
 * release service in process, and the triggers of config/retrain.json wired to the collector: its
 * accuracy alert firing, N new labelled samples stored, a schedule. With `databaseUrl` the jobs and
 * their lock are on that PostgreSQL database instead (a pool of its own).
 */
export async function openRetrainControl(
  dbPath: string,
  options: Omit<RetrainControlOptions, 'store' | 'config' | 'ports' | 'raiseAlert' | 'clearAlert'> & {
    configPath?: string;
    collector: Pick<Collector, 'onAlertTransition' | 'onEventsStored' | 'raiseAlert' | 'clearAlert'> & Partial<Pick<Collector, 'leader'>>;
    releases: ReleaseService;
    fieldSamples: (modelId: string, limit: number) => Promise<FieldSample[]>;
    /** Samples of a model received at or after `sinceMs` in the shared store (the new-samples trigger). */
    countSamples?: (modelId: string, sinceMs: number) => Promise<number>;
    /** How often the leader counts samples other instances stored (default 5 s). */
    samplesCheckMs?: number;
    modelsDir: string;
    /** postgres://…: jobs on PostgreSQL instead of the SQLite file at `dbPath`. */
    databaseUrl?: string;
  },
): Promise<RetrainControl> {
  const config = await loadRetrainConfig(options.configPath);
  const database = await openJobStore(dbPath, options.databaseUrl);
  const { collector } = options;
  const control = createRetrainControl({
    ...options,
    config,
    store: database.store,
    ports: inProcessPorts({ releases: options.releases, fieldSamples: options.fieldSamples, modelsDir: options.modelsDir }),
    raiseAlert: (a) => collector.raiseAlert(a),
    clearAlert: (rule, labels, value) => collector.clearAlert(rule, labels, value),
  });
  const { jobs } = control;

  const unsubscribeAlerts = collector.onAlertTransition((t) => {
    const modelId = t.alert.labels.modelId;
    if (t.status !== 'firing' || t.alert.metric !== 'accuracy' || modelId === undefined) return;
    if (ownValue(config.models, modelId)?.triggers.accuracyAlert) jobs.trigger(modelId, 'accuracy-alert');
  });
  // N new labelled samples: counted in the shared database since the model's last job, so that samples
  // stored by every instance count, and judged by the leader alone (like the other triggers): at once
  // when this instance stores samples, and every `samplesCheckMs` for samples other instances stored.
  const isLeader = () => collector.leader?.isLeader() ?? true;
  const watched = Object.entries(config.models).filter(([, c]) => c.triggers.newLabelledSamples > 0);
  let checking = false;
  let checkAgain = false;
  const checkNewSamples = async (): Promise<void> => {
    if (!isLeader() || watched.length === 0 || !options.countSamples) return;
    if (checking) {
      checkAgain = true;
      return;
    }
    checking = true;
    try {
      do {
        checkAgain = false;
        for (const [modelId, c] of watched) {
          if (jobs.current()) return;
          const [last] = await database.store.list({ modelId, limit: 1 });
          // The cooldown counts from the model's last job on any instance (the shared job history).
          if (last && Date.now() - last.createdMs < c.cooldownMs) continue;
          const fresh = await options.countSamples(modelId, last?.createdMs ?? 0);
          if (fresh >= c.triggers.newLabelledSamples) jobs.trigger(modelId, 'new-samples');
        }
      } while (checkAgain);
    } catch (e) {
      options.log?.(`retrain: new-samples check failed: ${(e as Error).message}`);
    } finally {
      checking = false;
    }
  };
  const unsubscribeStored = collector.onEventsStored((events: readonly TelemetryEvent[]) => {
    if (events.some((e) => e.type === 'sample' && ownValue(config.models, e.modelId)?.triggers.newLabelledSamples)) void checkNewSamples();
  });
  const samplesTimer = watched.length > 0 ? setInterval(() => void checkNewSamples(), options.samplesCheckMs ?? 5000) : undefined;
  samplesTimer?.unref();
  // Accuracy-alert triggers follow the leader already (only it judges alerts); schedules tick on it alone.
  jobs.startSchedules(() => collector.leader?.isLeader() ?? true);
  return {
    ...control,
    async close() {
      unsubscribeAlerts();
      unsubscribeStored();
      clearInterval(samplesTimer);
      await control.close();
      await database.close();
    },
  };
}

async function openJobStore(dbPath: string, databaseUrl: string | undefined): Promise<{ store: JobStore; close(): Promise<void> }> {
  if (!databaseUrl) {
    const db = openSqliteDatabase(dbPath);
    return { store: new SqliteJobStore(db), close: async () => void (db.open && db.close()) };
  }
  const pool = openPostgresPool(databaseUrl, { max: 2 });
  try {
    await migratePostgres(pool);
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot open database ${describePostgresUrl(databaseUrl)}: ${(e as Error).message}`, { cause: e });
  }
  return { store: new PostgresJobStore(pool), close: () => pool.end() };
}
