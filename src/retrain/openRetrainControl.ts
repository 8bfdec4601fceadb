import type { TelemetryEvent } from '../core/eventSchema';
import type { Collector } from '../collector/createCollector';
import { openSqliteDatabase } from '../collector/openSqliteDatabase';
import { describePostgresUrl, openPostgresPool } from '../collector/postgres/openPostgresPool';
import { migratePostgres } from '../collector/postgres/pgMigrations';
import type { ReleaseService } from '../releases/ReleaseService';
import { createRetrainControl, type RetrainControl, type RetrainControlOptions } from './createRetrainControl';
import type { FieldSample } from './FieldSample';
import { inProcessPorts } from './inProcessPorts';
import { loadRetrainConfig } from './retrainConfig';
import type { JobStore } from './JobStore';
import { PostgresJobStore } from './PostgresJobStore';
import { SqliteJobStore } from './SqliteJobStore';

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
    if (config.models[modelId]?.triggers.accuracyAlert) jobs.trigger(modelId, 'accuracy-alert');
  });
  // Labelled samples per model since the count last started a job (a restart starts counting afresh).
  const newSamples = new Map<string, number>();
  const unsubscribeStored = collector.onEventsStored((events: readonly TelemetryEvent[]) => {
    for (const e of events) {
      const { type, modelId } = e as { type: string; modelId?: string };
      const threshold = modelId === undefined ? 0 : (config.models[modelId]?.triggers.newLabelledSamples ?? 0);
      if (type !== 'sample' || threshold <= 0) continue;
      const count = (newSamples.get(modelId!) ?? 0) + 1;
      newSamples.set(modelId!, count >= threshold ? 0 : count);
      if (count >= threshold) jobs.trigger(modelId!, 'new-samples');
    }
  });
  // Accuracy-alert triggers follow the leader already (only it judges alerts); schedules tick on it alone.
  jobs.startSchedules(() => collector.leader?.isLeader() ?? true);
  return {
    ...control,
    async close() {
      unsubscribeAlerts();
      unsubscribeStored();
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
