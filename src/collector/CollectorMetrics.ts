import type { TelemetryEvent } from '../core/eventSchema';
import type { AlertRule } from './alertRules';
import type { EventQueries } from './EventQueries';
import { LATENCY_BUCKETS_MS } from './latencyBuckets';
import { OTHER_MODEL } from './ModelKeyBudget';
import { PrometheusRegistry } from './PrometheusRegistry';
import type { AlertRecord } from './storeRows';

export interface CollectorMetricsOptions {
  /**
   * Several instances share the database: the model series (events, errors, latency) are read from it at
   * each scrape instead of counted here, so every instance answers the same.
   */
  shared?: boolean;
  /** Added as the `instance` label to the series only this process counts (ingest responses, duplicates, folds, webhooks). */
  instance?: string;
}

/**
 * The collector's Prometheus metrics. Counters are seeded from the database at startup so they stay
 * monotonic across restarts.
 *
 * @example
 * const metrics = await CollectorMetrics.fromStorage(storage.queries);
 * metrics.recordStored(result.stored, result.duplicates);
 * res.end(metrics.render(monitor.firingAlerts(), rules));
 */
export class CollectorMetrics {
  private readonly registry = new PrometheusRegistry();
  private readonly eventsTotal = this.registry.counter('ondevice_events_total', 'Telemetry events stored, by type.');
  private readonly errorsTotal = this.registry.counter('ondevice_errors_total', 'Error events stored, by error code.');
  private readonly latency = this.registry.histogram(
    'ondevice_inference_duration_seconds',
    'Reported inference latency: browsers (backend webgpu, wasm) and inference servers (backend server).',
    LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
  );
  private readonly duplicatesTotal = this.registry.counter(
    'ondevice_duplicate_events_total',
    'Events ignored because their id was already stored.',
  );
  private readonly ingestRequests = this.registry.counter(
    'ondevice_ingest_requests_total',
    'POST /v1/events responses, by status and code.',
  );
  private readonly alertsFiring = this.registry.gauge('ondevice_alerts_firing', 'Alerts currently firing, by rule.');
  private readonly webhookResults = this.registry.counter('ondevice_webhook_deliveries_total', 'Alert webhook payloads, by result.');

  private readonly foldedTotal = this.registry.counter(
    'ondevice_folded_events_total',
    `Events stored under ${OTHER_MODEL} because their site already has the most model ids (reason="model") or the model the most versions (reason="version") that the collector keeps apart.`,
  );

  /**
   * `isKey` says which model ids and versions are keys (ModelKeyBudget); rows stored before the budget
   * existed that are not keys are folded into `__other__` here too, so a restart cannot rebuild
   * unbounded series from an old database.
   */
  static async fromStorage(
    queries: EventQueries,
    isKey: (modelId: string, modelVersion: string) => boolean = () => true,
    options: CollectorMetricsOptions = {},
  ): Promise<CollectorMetrics> {
    const m = new CollectorMetrics(options);
    await m.loadModelSeries(queries, isKey);
    return m;
  }

  private constructor(private readonly options: CollectorMetricsOptions) {}

  /** True when the model series come from the shared database (call `loadModelSeries` before each render). */
  get shared(): boolean {
    return this.options.shared === true;
  }

  /** Replace the model series with the database's totals (read first, swapped in at once). */
  async loadModelSeries(queries: EventQueries, isKey: (modelId: string, modelVersion: string) => boolean = () => true): Promise<void> {
    const [types, codes, latency] = await Promise.all([queries.countByType(), queries.countErrorsByCode(), queries.latencyHistogram()]);
    this.eventsTotal.clear();
    this.errorsTotal.clear();
    this.latency.clear();
    for (const r of types) this.eventsTotal.inc({ type: r.type }, r.count);
    for (const r of codes) this.errorsTotal.inc({ code: r.code }, r.count);
    for (const r of latency) {
      const kept = isKey(r.modelId, r.modelVersion);
      const labels = { model_id: kept ? r.modelId : OTHER_MODEL, model_version: kept ? r.modelVersion : OTHER_MODEL, backend: r.backend };
      this.latency.addToBucket(labels, r.bucket, r.count, r.sumMs / 1000);
    }
  }

  recordStored(stored: readonly TelemetryEvent[], duplicates: number): void {
    const byType = new Map<string, number>();
    let foldedModels = 0;
    let foldedVersions = 0;
    for (const e of stored) {
      byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
      if (e.modelId === OTHER_MODEL) foldedModels++;
      else if (e.modelVersion === OTHER_MODEL) foldedVersions++;
      if (this.shared) continue;
      if (e.type === 'error') this.errorsTotal.inc({ code: e.code });
      if (e.type === 'inference')
        this.latency.observe({ model_id: e.modelId, model_version: e.modelVersion, backend: e.backend }, e.ms / 1000);
    }
    if (!this.shared) for (const [type, count] of byType) this.eventsTotal.inc({ type }, count);
    if (duplicates > 0) this.duplicatesTotal.inc(this.processLabels({}), duplicates);
    if (foldedModels > 0) this.foldedTotal.inc(this.processLabels({ reason: 'model' }), foldedModels);
    if (foldedVersions > 0) this.foldedTotal.inc(this.processLabels({ reason: 'version' }), foldedVersions);
  }

  recordIngestResponse(status: number, code: string): void {
    this.ingestRequests.inc(this.processLabels({ status: String(status), code }));
  }

  recordWebhook(result: string): void {
    this.webhookResults.inc(this.processLabels({ result }));
  }

  private processLabels(labels: Record<string, string>): Record<string, string> {
    return this.options.instance === undefined ? labels : { ...labels, instance: this.options.instance };
  }

  /**
   * The text exposition as pieces (each series' text is cached until it changes), with the
   * firing-alert gauge taken from `firing` now. See writeExposition for sending it.
   */
  renderParts(firing: readonly AlertRecord[], rules: readonly AlertRule[]): Iterable<string> {
    const byRule = new Map<string, number>();
    for (const a of firing) byRule.set(a.rule, (byRule.get(a.rule) ?? 0) + 1);
    this.alertsFiring.reset(rules.map((r) => ({ labels: { rule: r.name }, value: byRule.get(r.name) ?? 0 })));
    return this.registry.renderParts();
  }
}
