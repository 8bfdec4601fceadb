import type { IncomingMessage, ServerResponse } from 'node:http';
import { AlertMonitor, type AlertTransition } from './AlertMonitor';
import { loadAlertRules, parseAlertRules, type AlertConfig, type AlertRule } from './alertRules';
import { CollectorMetrics } from './CollectorMetrics';
import type { CollectorStorage } from './CollectorStorage';
import type { OriginPolicy } from '../http/corsHeaders';
import type { EventWriter } from './EventWriter';
import type { TelemetryEvent } from '../core/eventSchema';
import { handleIngest, type IngestContext } from './handleIngest';
import { LOOPBACK_HOST_NAMES } from '../http/hostAllowed';
import { InstallEventLimiter } from './InstallEventLimiter';
import { isLoopbackHost } from '../http/isLoopbackHost';
import { alwaysLeader } from '../db/alwaysLeader';
import { defaultInstanceId } from '../db/defaultInstanceId';
import type { LeaderLease } from '../db/LeaderLease';
import { openPostgresLeaderLease } from '../db/openPostgresLeaderLease';
import { openSqliteStorage } from './openSqliteStorage';
import { describePostgresUrl } from '../db/openPostgresPool';
import { openPostgresStorage } from './postgres/openPostgresStorage';
import type { RetentionPolicy } from './Retention';
import { parseWindow } from './parseWindow';
import { QueryWorker } from './QueryWorker';
import { inlineReadQueries, type ReadQueries } from './ReadQueries';
import type { ReadAccessPolicy } from '../http/readAccess';
import type { Route } from '../http/Route';
import { routeRequest, type RouteTable } from '../http/routeRequest';
import { sendJson } from '../http/sendJson';
import { DATASET_PATH_PREFIX, serveDataset } from './serveDataset';
import { loadKnownModels } from './loadKnownModels';
import { ModelKeyBudget } from './ModelKeyBudget';
import { loadDashboardAssets, sendAsset, type DashboardAssets } from './serveDashboard';
import { TokenBucketLimiter } from '../http/TokenBucketLimiter';
import { WebhookNotifier } from '../http/WebhookNotifier';
import { writeInSlices } from './writeInSlices';

export interface CollectorOptions {
  /** SQLite file; created with its folder if missing. Default `./data/collector.sqlite`. */
  dbPath?: string;
  /**
   * PostgreSQL instead of SQLite (`postgres://user:pass@host:5432/db`): every store on that database,
   * schema migrated at start. Wins over `dbPath` (the start-up log says the path is ignored). Several
   * instances may share it: they elect a leader on it (an advisory lock) that alone does the once-only
   * work, and /metrics reads the model series from it.
   */
  databaseUrl?: string;
  /** How long events (and their rollups) and training samples are kept. Default: forever. */
  retention?: RetentionPolicy;
  /**
   * How often `storage.prune` runs (first run at start), on the leader only when several instances share
   * the database. Default 1 hour; 0 disables.
   */
  pruneIntervalMs?: number;
  /** Use this storage instead of opening `dbPath` (the collector will not close it). */
  storage?: CollectorStorage;
  /** `'*'` (default, demo) or the exact origins allowed to post events, e.g. `['https://app.example']`. */
  allowedOrigins?: '*' | string[];
  /** Accepted site keys. Default `['demo']`. */
  siteKeys?: string[];
  /** The host the server listens on. A non-loopback host makes the read side require `readToken`. */
  listenHost?: string;
  /** Bearer token for /v1/summary, /v1/alerts, /metrics, /dashboard. */
  readToken?: string;
  /** Force the token even on loopback. Default: required iff `listenHost` is not loopback. */
  requireToken?: boolean;
  /**
   * Host names (e.g. `collector.internal`) the token-less loopback read side answers to besides
   * 127.0.0.1, localhost and [::1]; any other Host header gets 403 (DNS rebinding).
   */
  allowedHosts?: string[];
  /** Default `config/alerts.json`. */
  alertRulesPath?: string;
  /** Inline rules instead of `alertRulesPath`. */
  alertConfig?: AlertConfig;
  /** Firing/resolved transitions are POSTed here (retried, never on the ingest path). */
  webhookUrl?: string;
  webhook?: { maxAttempts?: number; baseDelayMs?: number; timeoutMs?: number };
  /** Per client IP. Default 20 requests/s, burst 60; `perSecond: 0` disables. */
  rateLimit?: { perSecond: number; burst: number };
  /** Take the client IP from X-Forwarded-For (only behind a proxy you control). Default false. */
  trustProxy?: boolean;
  /** Overrides the rules file's `evaluationIntervalMs`. */
  evaluationIntervalMs?: number;
  /** After ingest, evaluate alerts within this many ms (throttled). Default 2000. */
  evaluationThrottleMs?: number;
  /** How often measured accuracy/PSI/latency values are kept for the dashboard. Default 10 s. */
  monitorSampleIntervalMs?: number;
  /** See SqliteOptions.synchronous. Default NORMAL (survives kill -9, not power loss). */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * Run summaries, dashboard data and alert measurements on a worker thread with its own connection,
   * so they never stall ingest. Default true for a file database; inline for `storage` or `:memory:`.
   */
  queryWorker?: boolean;
  /**
   * Distinct model ids per site key kept apart (metrics, summary, dashboard, alerts) beyond the known
   * models; the rest are stored and counted as `__other__`. Default 100.
   */
  maxModelsPerSite?: number;
  /** Distinct versions per model id and site key kept apart beyond the known ones. Default 20. */
  maxVersionsPerModel?: number;
  /** Registry file whose models always count. Default `models/registry.json` (missing: none). */
  registryPath?: string;
  /** More models that always count (published releases); a version of undefined: every version. */
  knownModels?: Array<{ modelId: string; modelVersion?: string }>;
  /** Feedback events one install contributes to an accuracy alert window at most. Default 20. */
  maxFeedbackPerInstall?: number;
  /** Events per install per minute (per site key); those over it are deferred (a 429 listing them). Default 600; 0 disables. */
  installEventsPerMinute?: number;
  /** `sample` events per install per minute (per site key), on top of the event limit; deferred beyond. Default 30; 0 disables. */
  installSamplesPerMinute?: number;
  /** Bound on receiving an ingest request body. Default 10 s. */
  bodyTimeoutMs?: number;
  /** The release control plane is mounted beside the collector (src/releases): the dashboard shows its section. */
  releaseView?: boolean;
  /** Whether this instance does the once-only work. Default: the advisory lock on `databaseUrl`, else always. */
  leader?: LeaderLease;
  /**
   * `COLLECTOR_INSTANCE_ID`: the `instance` label of the series this process counts itself, and its name in
   * `pg_stat_activity`. Default `hostname:pid`; the label is only added on a shared database or when set.
   */
  instanceId?: string;
  /** Retraining jobs are mounted beside the collector (src/retrain): the dashboard shows its Jobs section. */
  jobsView?: boolean;
  /** Alert names raised by other parts of the server through `raiseAlert` (kept firing across restarts). */
  externalAlertRules?: string[];
  log?: (line: string) => void;
  now?: () => number;
}

export interface Collector {
  /** Serve the request if the collector owns its path (`/v1/*`, `/metrics`, `/dashboard*`); false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Evaluate alert rules now (normally on a timer and after ingest). */
  evaluateAlerts(): Promise<AlertTransition[]>;
  close(): Promise<void>;
  storage: CollectorStorage;
  /**
   * Events produced next to the collector (the inference server of `npm start`) go in here: the
   * storage's writer, followed by what ingest does after a commit (metrics, alert evaluation).
   */
  writer: EventWriter;
  /** The longest per-route body deadline: a server's whole-request timeout must not be shorter. */
  longestBodyTimeoutMs: number;
  /** Which model ids and versions count apart; published releases are added with `budget.addKnown`. */
  budget: ModelKeyBudget;
  /** Whether this instance does the once-only work (alerts here; rollout decisions, retention next to it). */
  leader: LeaderLease;
  /** This process's name among the instances. */
  instanceId: string;
  /** Subscribe to the events stored by ingest and `writer` (after commit); returns the unsubscribe function. */
  onEventsStored(listener: (events: readonly TelemetryEvent[]) => void): () => void;
  /** Subscribe to alert transitions (firing, resolved); returns the unsubscribe function. */
  onAlertTransition(listener: (t: AlertTransition) => void): () => void;
  /** Fire / resolve an alert no rule measures (one of `externalAlertRules`): stored, listed, sent to the webhook. */
  raiseAlert: AlertMonitor['raise'];
  clearAlert: AlertMonitor['clear'];
}

const HOUR_MS = 60 * 60 * 1000;
const DEFAULT_INGEST_BODY_TIMEOUT_MS = 10_000;

/**
 * Create the telemetry collector. Mount it in any Node http server:
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
  const access: ReadAccessPolicy = {
    required: options.requireToken ?? (options.listenHost !== undefined && !isLoopbackHost(options.listenHost)),
    token: options.readToken || undefined,
  };
  if (access.required && !access.token) {
    throw new Error('a read token is required when listening on a non-loopback host (set readToken / COLLECTOR_READ_TOKEN)');
  }
  const siteKeys = new Set(options.siteKeys ?? ['demo']);
  if (siteKeys.size === 0) throw new Error('siteKeys must not be empty');
  const origins: OriginPolicy =
    options.allowedOrigins === undefined || options.allowedOrigins === '*' ? '*' : new Set(options.allowedOrigins);
  const rules = await alertConfigOf(options);
  const dashboard = await loadDashboardAssets();

  const budget = new ModelKeyBudget({
    maxModelsPerSite: options.maxModelsPerSite,
    maxVersionsPerModel: options.maxVersionsPerModel,
    known: [...(await loadKnownModels(options.registryPath ?? 'models/registry.json')), ...(options.knownModels ?? [])],
  });
  const ownsStorage = options.storage === undefined;
  const databaseUrl = options.storage ? undefined : options.databaseUrl || undefined;
  const dbPath = options.dbPath ?? 'data/collector.sqlite';
  if (databaseUrl) {
    log(
      `collector: storage PostgreSQL ${describePostgresUrl(databaseUrl)}` +
        (options.dbPath ? ` (COLLECTOR_DB_PATH ${options.dbPath} is ignored: COLLECTOR_DATABASE_URL wins)` : ''),
    );
  }
  // PostgreSQL answers reads on its own connections: no worker thread needed.
  const useWorker = ownsStorage && !databaseUrl && dbPath !== ':memory:' && options.queryWorker !== false;
  const storage =
    options.storage ??
    (databaseUrl
      ? await openPostgresStorage(databaseUrl, { budget, retention: options.retention, now }).catch((e: Error) => {
          throw new Error(`cannot open database ${describePostgresUrl(databaseUrl)}: ${e.message}`, { cause: e });
        })
      : undefined) ??
    openSqliteStorage(dbPath, {
      synchronous: options.synchronous,
      // The query worker checkpoints off the ingest thread. ~400 MiB of WAL before a commit checkpoints
      // inline is only a safety net should the worker stop.
      autoCheckpointPages: useWorker ? 100_000 : undefined,
      budget,
      retention: options.retention,
    });
  if (ownsStorage) {
    // A read-only file or folder is found now, not at the first ingest after "listening".
    await storage.writer.checkWritable().catch(async (e: Error) => {
      await storage.close();
      throw new Error(`cannot write database ${databaseUrl ? describePostgresUrl(databaseUrl) : dbPath}: ${e.message}`, { cause: e });
    });
  }
  const queries: ReadQueries = useWorker
    ? new QueryWorker({ dbPath, onError: (e) => log(`collector: query worker failed: ${e.message}`) })
    : inlineReadQueries(storage.queries, storage.alerts);

  const instanceId = options.instanceId || defaultInstanceId();
  const shared = options.databaseUrl !== undefined;
  const ownsLeader = options.leader === undefined;
  const leader =
    options.leader ?? (shared ? await openPostgresLeaderLease({ url: options.databaseUrl!, instanceId, log }) : alwaysLeader());
  if (shared) log(`collector: instance ${instanceId}: ${leader.isLeader() ? 'leader' : 'follower'}`);

  // An injected storage applies its own budget when it stores; only ours can say which rows are keys.
  const isKey = ownsStorage ? (id: string, version: string) => budget.isKey(id, version) : undefined;
  const metrics = await CollectorMetrics.fromStorage(storage.queries, isKey, {
    shared,
    instance: shared || options.instanceId ? instanceId : undefined,
  });
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

  const alertListeners = new Set<(t: AlertTransition) => void>();
  const storedListeners = new Set<(events: readonly TelemetryEvent[]) => void>();
  // A listener's failure is logged; it never fails the ingest that already committed.
  const notifyListener = <T>(listener: (value: T) => void, value: T) => {
    try {
      listener(value);
    } catch (e) {
      log(`collector: listener failed: ${(e as Error).message}`);
    }
  };
  const monitor = new AlertMonitor({
    store: storage.alerts,
    rules: rules.rules,
    measure: (r, nowMs) => queries.measure(r, nowMs, { maxFeedbackPerInstall: options.maxFeedbackPerInstall ?? 20 }),
    intervalMs: options.evaluationIntervalMs ?? rules.evaluationIntervalMs,
    // Alert windows are minutes long; 2 s keeps alerts prompt while a busy collector's worker is not
    // re-scanning its windows back to back.
    throttleMs: options.evaluationThrottleMs ?? 2000,
    sampleIntervalMs: options.monitorSampleIntervalMs ?? 10_000,
    sampleRetentionMs: 30 * 24 * HOUR_MS,
    now,
    onTransition: (t) => {
      log(`collector: alert ${t.status}: ${t.alert.rule} ${t.alert.series} value=${t.alert.resolvedValue ?? t.alert.value}`);
      notifier?.enqueue({ source: 'ondevice-collector', status: t.status, alert: t.alert });
      for (const listener of alertListeners) notifyListener(listener, t);
    },
    externalRules: options.externalAlertRules,
    onError: (e) => log(`collector: alert evaluation failed: ${(e as Error).message}`),
    isLeader: () => leader.isLeader(),
  });
  await monitor.ready;
  monitor.start();
  const stopFollowingLeader = leader.onChange((isLeader) => {
    if (shared) log(`collector: instance ${instanceId}: ${isLeader ? 'now the leader' : 'no longer the leader'}`);
    if (isLeader) monitor.evaluateSoon();
  });

  // Retention: on a timer, on the leader only (several instances share one database).
  const pruneIntervalMs = options.pruneIntervalMs ?? HOUR_MS;
  const hasRetention = options.retention?.eventDays !== undefined || options.retention?.sampleDays !== undefined;
  let pruning: Promise<void> | undefined;
  const prune = () => {
    if (pruning || !storage.prune || !leader.isLeader()) return;
    pruning = storage
      .prune(now())
      .then(
        (r) => {
          if (r.events !== 0 || r.droppedPartitions.length > 0)
            log(
              `collector: pruned events before ${new Date(r.eventCutoffMs ?? 0).toISOString()}: ${r.droppedPartitions.length ? r.droppedPartitions.join(', ') : `${r.events} events`}`,
            );
        },
        (e: Error) => log(`collector: prune failed: ${e.message}`),
      )
      .finally(() => (pruning = undefined));
  };
  const pruneTimer = hasRetention && pruneIntervalMs > 0 ? setInterval(prune, pruneIntervalMs) : undefined;
  pruneTimer?.unref();
  if (pruneTimer) prune();

  // Samples are up to 128 KiB each: one install must not fill the disk with them at the event rate.
  const installLimiter = new InstallEventLimiter({
    eventsPerMinute: options.installEventsPerMinute ?? 600,
    samplesPerMinute: options.installSamplesPerMinute ?? 30,
  });
  const ingest: IngestContext = {
    store: storage.writer,
    limiter: new TokenBucketLimiter(options.rateLimit ?? { perSecond: 20, burst: 60 }),
    origins,
    siteKeys,
    trustProxy: options.trustProxy ?? false,
    bodyTimeoutMs: options.bodyTimeoutMs ?? DEFAULT_INGEST_BODY_TIMEOUT_MS,
    now,
    onResponse: (status, code) => metrics.recordIngestResponse(status, code),
    admitBatch: (events, siteKey) => installLimiter.admit(events, siteKey, now()),
    onStored: (stored, duplicates) => {
      metrics.recordStored(stored, duplicates);
      if (stored.length > 0) monitor.evaluateSoon();
      if (stored.length > 0) for (const listener of storedListeners) notifyListener(listener, stored);
    },
  };

  const table: RouteTable = {
    access,
    openReadHosts: new Set([...LOOPBACK_HOST_NAMES, ...(options.allowedHosts ?? []).map((h) => h.trim().toLowerCase())]),
    routes: routeMap([
      {
        path: '/v1/events',
        access: 'ingest',
        bodyTimeoutMs: ingest.bodyTimeoutMs,
        handle: (req, res, url) => handleIngest(ingest, req, res, url),
      },
      { path: '/v1/health', methods: READ_METHODS, access: 'public', handle: (_req, res) => sendHealth(res, storage.writer) },
      ...dashboardAssetRoutes(dashboard),
      {
        path: '/v1/summary',
        methods: READ_METHODS,
        access: 'read',
        handle: async (_req, res, url) => {
          const windowMs = parseWindow(url, res);
          if (windowMs !== null) sendJson(res, 200, await queries.summary(windowMs, now()));
        },
      },
      {
        path: '/v1/alerts',
        methods: READ_METHODS,
        access: 'read',
        handle: async (_req, res, url) => {
          const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit')) || 100));
          // From the store, not the monitor: every instance answers what the leader recorded.
          const [firing, history] = await Promise.all([storage.alerts.firingAlerts(), storage.alerts.listAlerts(limit)]);
          sendJson(res, 200, { firing, history });
        },
      },
      {
        path: DATASET_PATH_PREFIX,
        prefix: true,
        methods: READ_METHODS,
        access: 'read',
        handle: (req, res, url) => serveDataset(storage.samples, res, url, req.method ?? 'GET'),
      },
      {
        path: '/metrics',
        methods: READ_METHODS,
        access: 'read',
        handle: async (_req, res) => {
          if (metrics.shared) await metrics.loadModelSeries(storage.queries, isKey);
          const parts = metrics.renderParts(await storage.alerts.firingAlerts(), rules.rules);
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
          await writeInSlices(res, parts);
        },
      },
      ...['/dashboard', '/dashboard/'].map((path): Route => ({
        path,
        methods: READ_METHODS,
        access: 'read',
        queryToken: true,
        handle: (_req, res) => sendAsset(res, dashboard.page, 'text/html; charset=utf-8', 'no-store'),
      })),
      {
        path: '/dashboard/data.json',
        methods: READ_METHODS,
        access: 'read',
        handle: async (_req, res, url) => {
          const windowMs = parseWindow(url, res);
          if (windowMs !== null)
            sendJson(res, 200, {
              ...(await queries.dashboard(rules.rules, windowMs, now())),
              releaseView: options.releaseView === true,
              jobsView: options.jobsView === true,
            });
        },
      },
    ]),
  };

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
    longestBodyTimeoutMs: Math.max(0, ...[...table.routes.values()].map((r) => r.bodyTimeoutMs ?? 0)),
    evaluateAlerts: () => monitor.evaluate(),
    onEventsStored(listener) {
      storedListeners.add(listener);
      return () => storedListeners.delete(listener);
    },
    onAlertTransition(listener) {
      alertListeners.add(listener);
      return () => alertListeners.delete(listener);
    },
    raiseAlert: (a) => monitor.raise(a),
    clearAlert: (rule, labels, value) => monitor.clear(rule, labels, value),
    async handle(req, res) {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://collector.invalid');
      } catch {
        return false;
      }
      try {
        return await routeRequest(table, req, res, url);
      } catch (e) {
        log(`collector: ${req.method} ${url.pathname} failed: ${(e as Error).stack ?? e}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error', code: 'INTERNAL', path: '$' });
        else res.destroy();
        return true;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      stopFollowingLeader();
      clearInterval(pruneTimer);
      await pruning;
      monitor.close();
      if (ownsLeader) await leader.close();
      await notifier?.close();
      await queries.close();
      if (ownsStorage) await storage.close();
    },
  };
}

const READ_METHODS = ['GET', 'HEAD'] as const;

/** 200 while events can be stored, else 503 with the reason (load balancers and probes act on the status). */
async function sendHealth(res: ServerResponse, writer: EventWriter): Promise<void> {
  try {
    await writer.checkWritable();
    sendJson(res, 200, { ok: true, storage: 'writable' });
  } catch (e) {
    const error = `storage not writable: ${(e as Error).message}`;
    sendJson(res, 503, { ok: false, error, code: 'STORAGE_UNAVAILABLE', path: '$' }, { 'retry-after': '5' });
  }
}

function routeMap(routes: Route[]): Map<string, Route> {
  return new Map(routes.map((r) => [r.path, r]));
}

/** Library code and styles carry no data, and `<script src>` cannot send a bearer token. */
function dashboardAssetRoutes(dashboard: DashboardAssets): Route[] {
  return [...dashboard.publicAssets].map(([path, asset]) => ({
    path,
    methods: READ_METHODS,
    access: 'public',
    handle: (_req, res) => sendAsset(res, asset.body, asset.type, 'public, max-age=300'),
  }));
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
