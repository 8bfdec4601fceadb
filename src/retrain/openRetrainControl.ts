import type { TelemetryEvent } from '../core/eventSchema';
import type { Collector } from '../collector/createCollector';
import { openSqliteDatabase } from '../collector/openSqliteDatabase';
import type { ReleaseService } from '../releases/ReleaseService';
import { createRetrainControl, type RetrainControl, type RetrainControlOptions } from './createRetrainControl';
import type { FieldSample } from './FieldSample';
import { inProcessPorts } from './inProcessPorts';
import { loadRetrainConfig } from './retrainConfig';
import { SqliteJobStore } from './SqliteJobStore';

/**
 * Retraining inside the server (`npm start`): jobs on the collector's SQLite file (own connection), the
 * release service in process, and the triggers of config/retrain.json wired to the collector: its
 * accuracy alert firing, N new labelled samples stored, a schedule.
 */
export async function openRetrainControl(
  dbPath: string,
  options: Omit<RetrainControlOptions, 'store' | 'config' | 'ports' | 'raiseAlert' | 'clearAlert'> & {
    configPath?: string;
    collector: Pick<Collector, 'onAlertTransition' | 'onEventsStored' | 'raiseAlert' | 'clearAlert'>;
    releases: ReleaseService;
    fieldSamples: (modelId: string, limit: number) => Promise<FieldSample[]>;
    modelsDir: string;
  },
): Promise<RetrainControl> {
  const config = await loadRetrainConfig(options.configPath);
  const db = openSqliteDatabase(dbPath);
  const { collector } = options;
  const control = createRetrainControl({
    ...options,
    config,
    store: new SqliteJobStore(db),
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
  jobs.startSchedules();
  return {
    ...control,
    async close() {
      unsubscribeAlerts();
      unsubscribeStored();
      await control.close();
      if (db.open) db.close();
    },
  };
}
