import type { TelemetryEvent } from '../core/eventSchema';
import { alwaysLeader } from '../db/alwaysLeader';
import { defaultInstanceId } from '../db/defaultInstanceId';
import type { LeaderLease } from '../db/LeaderLease';
import { openPostgresLeaderLease } from '../db/openPostgresLeaderLease';
import { accessPolicy } from '../http/accessPolicy';
import type { OriginPolicy } from '../http/corsHeaders';
import { longestBodyTimeoutMs, routeRequest, type RouteTable } from '../http/routeRequest';
import { TokenBucketLimiter } from '../http/TokenBucketLimiter';
import { WebhookNotifier } from '../http/WebhookNotifier';
import { AlertMonitor, type AlertTransition } from './AlertMonitor';
import { loadAlertRules, parseAlertRules, type AlertRule } from './alertRules';
import type { Collector } from './Collector';
import { CollectorMetrics } from './CollectorMetrics';
import type { CollectorOptions } from './CollectorOptions';
import { collectorOwns, collectorRoutes } from './collectorRoutes';
import type { EventWriter } from './EventWriter';
import type { IngestContext } from './handleIngest';
import { InstallEventLimiter } from './InstallEventLimiter';
import { ListenerSet } from './ListenerSet';
import { loadKnownModels } from './loadKnownModels';
import { ModelKeyBudget } from './ModelKeyBudget';
import { openCollectorStorage, type OpenedStorage } from './openCollectorStorage';
import { loadDashboardAssets } from './serveDashboard';
import { startRetention } from './startRetention';

const HOUR_MS = 60 * 60 * 1000;
const DEFAULT_INGEST_BODY_TIMEOUT_MS = 10_000;

/**
 * Create the telemetry collector, in four steps: open its storage, join the leader election and start the
 * once-only work (alerts, retention), build its routes, and return the shutdown that undoes them. Mount it in
 * any Node http server:
 *
 * @example
 * const collector = await createCollector({ listenHost: host, readToken: process.env.COLLECTOR_READ_TOKEN });
 * http.createServer(async (req, res) => {
 *   if (await collector.handle(req, res)) return;
 *   serveApp(req, res);
 * });
 */
export async function createCollector(options: CollectorOptions = {}): Promise<Collector> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const access = accessPolicy({
    listenHost: options.listenHost,
    readToken: options.readToken,
    requireReadToken: options.requireToken,
    allowedHosts: options.allowedHosts,
  });
  if (access.read.required && !access.read.token) {
    throw new Error('a read token is required when listening on a non-loopback host (set readToken / COLLECTOR_READ_TOKEN)');
  }
  const siteKeys = new Set(options.siteKeys ?? ['demo']);
  if (siteKeys.size === 0) throw new Error('siteKeys must not be empty');
  const rules = await alertConfigOf(options);
  const dashboard = await loadDashboardAssets();
  const budget = new ModelKeyBudget({
    maxModelsPerSite: options.maxModelsPerSite,
    maxVersionsPerModel: options.maxVersionsPerModel,
    known: [...(await loadKnownModels(options.registryPath ?? 'models/registry.json')), ...(options.knownModels ?? [])],
  });

  const opened = await openCollectorStorage(options, budget, log, now);
  const { storage, queries } = opened;
  const fleet = await joinLeaderElection(options, log);
  const { leader, instanceId, shared } = fleet;

  // An injected storage applies its own budget when it stores; only ours can say which rows are keys.
  const isKey = opened.owned ? (id: string, version: string) => budget.isKey(id, version) : undefined;
  const metrics = await CollectorMetrics.fromStorage(storage.queries, isKey, {
    shared,
    instance: shared || options.instanceId ? instanceId : undefined,
  });
  const alerting = await startAlerting(options, opened, rules.rules, rules.evaluationIntervalMs, metrics, leader, log, now);
  const { monitor } = alerting;
  const stopFollowingLeader = leader.onChange((isLeader) => {
    if (shared) log(`collector: instance ${instanceId}: ${isLeader ? 'now the leader' : 'no longer the leader'}`);
    if (isLeader) monitor.evaluateSoon();
  });
  const stopRetention = startRetention(storage, options, leader, log, now);

  const stored = new ListenerSet<readonly TelemetryEvent[]>(log);
  const ingest = ingestContext(options, storage.writer, siteKeys, metrics, now, (events, duplicates) => {
    metrics.recordStored(events, duplicates);
    if (events.length > 0) monitor.evaluateSoon();
    if (events.length > 0) stored.emit(events);
  });
  const routes = collectorRoutes({
    ingest,
    storage,
    queries,
    metrics,
    rules: rules.rules,
    dashboard,
    isKey,
    views: { releases: options.releaseView === true, jobs: options.jobsView === true },
    now,
  });
  const table: RouteTable = { name: 'collector', routes, owns: collectorOwns(routes), access, log };

  const writer: EventWriter = {
    checkWritable: () => storage.writer.checkWritable(),
    async insertBatch(events, meta) {
      const result = await storage.writer.insertBatch(events, meta);
      ingest.onStored(result.stored, result.duplicates);
      return result;
    },
  };

  let closed = false;
  return {
    storage,
    budget,
    writer,
    leader,
    instanceId,
    longestBodyTimeoutMs: longestBodyTimeoutMs(routes),
    evaluateAlerts: () => monitor.evaluate(),
    onEventsStored: (listener) => stored.add(listener),
    onAlertTransition: (listener) => alerting.transitions.add(listener),
    raiseAlert: (a) => monitor.raise(a),
    clearAlert: (rule, labels, value) => monitor.clear(rule, labels, value),
    handle: (req, res) => routeRequest(table, req, res),
    async close() {
      if (closed) return;
      closed = true;
      stopFollowingLeader();
      await stopRetention();
      await alerting.close();
      await fleet.close();
      await opened.close();
    },
  };
}

/** The leader lease: `options.leader`, else the advisory lock on a shared PostgreSQL database, else always. */
async function joinLeaderElection(
  options: CollectorOptions,
  log: (line: string) => void,
): Promise<{ leader: LeaderLease; instanceId: string; shared: boolean; close(): Promise<void> }> {
  const instanceId = options.instanceId || defaultInstanceId();
  const shared = options.databaseUrl !== undefined;
  const leader =
    options.leader ?? (shared ? await openPostgresLeaderLease({ url: options.databaseUrl!, instanceId, log }) : alwaysLeader());
  if (shared) log(`collector: instance ${instanceId}: ${leader.isLeader() ? 'leader' : 'follower'}`);
  // An injected lease is the caller's to close.
  return { leader, instanceId, shared, close: async () => void (options.leader === undefined && (await leader.close())) };
}

/** The alert monitor on its timer (evaluating on the leader only), with the webhook and the transition listeners. */
async function startAlerting(
  options: CollectorOptions,
  { storage, queries }: OpenedStorage,
  rules: readonly AlertRule[],
  evaluationIntervalMs: number,
  metrics: CollectorMetrics,
  leader: LeaderLease,
  log: (line: string) => void,
  now: () => number,
): Promise<{ monitor: AlertMonitor; transitions: ListenerSet<AlertTransition>; close(): Promise<void> }> {
  const notifier = options.webhookUrl
    ? new WebhookNotifier({
        url: options.webhookUrl,
        ...options.webhook,
        onResult: (result, detail) => {
          metrics.recordWebhook(result);
          if (result !== 'delivered') log(`collector: webhook ${result}: ${detail}`);
        },
      })
    : undefined;
  const transitions = new ListenerSet<AlertTransition>(log);
  const monitor = new AlertMonitor({
    store: storage.alerts,
    rules,
    measure: (r, nowMs) => queries.measure(r, nowMs, { maxFeedbackPerInstall: options.maxFeedbackPerInstall ?? 20 }),
    intervalMs: options.evaluationIntervalMs ?? evaluationIntervalMs,
    // Alert windows are minutes long; 2 s keeps alerts prompt while a busy collector's worker is not
    // re-scanning its windows back to back.
    throttleMs: options.evaluationThrottleMs ?? 2000,
    sampleIntervalMs: options.monitorSampleIntervalMs ?? 10_000,
    sampleRetentionMs: 30 * 24 * HOUR_MS,
    now,
    onTransition: (t) => {
      log(`collector: alert ${t.status}: ${t.alert.rule} ${t.alert.series} value=${t.alert.resolvedValue ?? t.alert.value}`);
      notifier?.enqueue({ source: 'ondevice-collector', status: t.status, alert: t.alert });
      transitions.emit(t);
    },
    externalRules: options.externalAlertRules,
    onError: (e) => log(`collector: alert evaluation failed: ${(e as Error).message}`),
    isLeader: () => leader.isLeader(),
  });
  await monitor.ready;
  monitor.start();
  return {
    monitor,
    transitions,
    async close() {
      monitor.close();
      await notifier?.close();
    },
  };
}

/** What `POST /v1/events` checks and where it stores (handleIngest). */
function ingestContext(
  options: CollectorOptions,
  store: EventWriter,
  siteKeys: ReadonlySet<string>,
  metrics: CollectorMetrics,
  now: () => number,
  onStored: IngestContext['onStored'],
): IngestContext {
  const origins: OriginPolicy =
    options.allowedOrigins === undefined || options.allowedOrigins === '*' ? '*' : new Set(options.allowedOrigins);
  // Samples are up to 128 KiB each: one install must not fill the disk with them at the event rate.
  const installLimiter = new InstallEventLimiter({
    eventsPerMinute: options.installEventsPerMinute ?? 600,
    samplesPerMinute: options.installSamplesPerMinute ?? 30,
  });
  return {
    store,
    limiter: new TokenBucketLimiter(options.rateLimit ?? { perSecond: 20, burst: 60 }),
    origins,
    siteKeys,
    trustProxy: options.trustProxy ?? false,
    bodyTimeoutMs: options.bodyTimeoutMs ?? DEFAULT_INGEST_BODY_TIMEOUT_MS,
    now,
    onResponse: (status, code) => metrics.recordIngestResponse(status, code),
    admitBatch: (events, siteKey) => installLimiter.admit(events, siteKey, now()),
    onStored,
  };
}

async function alertConfigOf(options: CollectorOptions): Promise<{ evaluationIntervalMs: number; rules: AlertRule[] }> {
  if (options.alertConfig) {
    const checked = parseAlertRules(options.alertConfig);
    if (!checked.ok) throw new Error(checked.error);
    return checked.config;
  }
  const loaded = await loadAlertRules(options.alertRulesPath ?? 'config/alerts.json');
  if (!loaded.ok) throw new Error(loaded.error);
  return loaded.config;
}
