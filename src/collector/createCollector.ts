import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TelemetryEvent } from '../core/eventSchema';
import { AlertMonitor, type AlertTransition } from './AlertMonitor';
import { loadAlertRules, parseAlertRules, type AlertConfig } from './alertRules';
import type { OriginPolicy } from './corsHeaders';
import type { EventStore } from './EventStore';
import { handleIngest } from './handleIngest';
import { isLoopbackHost } from './isLoopbackHost';
import { LATENCY_BUCKETS_MS } from './latencyBuckets';
import { PrometheusRegistry } from './PrometheusRegistry';
import { QueryWorker } from './QueryWorker';
import { inlineReadQueries, type ReadQueries } from './ReadQueries';
import { hasReadAccess, type ReadAccessPolicy } from './readAccess';
import { sendJson } from './sendJson';
import { loadDashboardAssets, sendAsset } from './serveDashboard';
import { openSqliteEventStore } from './SqliteEventStore';
import { TokenBucketLimiter } from './TokenBucketLimiter';
import { WebhookNotifier } from './WebhookNotifier';

export interface CollectorOptions {
  /** SQLite file; created with its folder if missing. Default `./data/collector.sqlite`. */
  dbPath?: string;
  /** Use this store instead of opening `dbPath` (the collector will not close it). */
  store?: EventStore;
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
  /** See SqliteEventStoreOptions.synchronous. Default NORMAL (survives kill -9, not power loss). */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * Run summaries, dashboard data and alert measurements on a worker thread with its own connection,
   * so they never stall ingest. Default true for a file database; inline for `store` or `:memory:`.
   */
  queryWorker?: boolean;
  /** Bound on receiving a request body. Default 10 s. */
  bodyTimeoutMs?: number;
  log?: (line: string) => void;
  now?: () => number;
}

export interface Collector {
  /** Serve the request if the collector owns its path (`/v1/*`, `/metrics`, `/dashboard*`); false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Evaluate alert rules now (normally on a timer and after ingest). */
  evaluateAlerts(): Promise<AlertTransition[]>;
  close(): Promise<void>;
  store: EventStore;
}

const HOUR_MS = 60 * 60 * 1000;
const MAX_WINDOW_MS = 90 * 24 * HOUR_MS;

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
    throw new Error('collector: a read token is required when listening on a non-loopback host (set readToken / COLLECTOR_READ_TOKEN)');
  }
  const siteKeys = new Set(options.siteKeys ?? ['demo']);
  if (siteKeys.size === 0) throw new Error('collector: siteKeys must not be empty');
  const origins: OriginPolicy =
    options.allowedOrigins === undefined || options.allowedOrigins === '*' ? '*' : new Set(options.allowedOrigins);

  let alertConfig = options.alertConfig;
  if (alertConfig) {
    const checked = parseAlertRules(alertConfig);
    if (!checked.ok) throw new Error(`collector: ${checked.error}`);
  } else {
    const loaded = await loadAlertRules(options.alertRulesPath ?? 'config/alerts.json');
    if (!loaded.ok) throw new Error(`collector: ${loaded.error}`);
    alertConfig = loaded.config;
  }
  const dashboard = await loadDashboardAssets();

  const ownsStore = options.store === undefined;
  const dbPath = options.dbPath ?? 'data/collector.sqlite';
  const useWorker = ownsStore && dbPath !== ':memory:' && options.queryWorker !== false;
  const store =
    options.store ??
    openSqliteEventStore(dbPath, {
      synchronous: options.synchronous,
      // The query worker checkpoints off the ingest thread. ~400 MiB of WAL before a commit checkpoints
      // inline is only a safety net should the worker stop.
      autoCheckpointPages: useWorker ? 100_000 : undefined,
    });
  const queries: ReadQueries = useWorker
    ? new QueryWorker({ dbPath, onError: (e) => log(`collector: query worker failed: ${e.message}`) })
    : inlineReadQueries(store);

  const metrics = new PrometheusRegistry();
  const eventsTotal = metrics.counter('ondevice_events_total', 'Telemetry events stored, by type.');
  const errorsTotal = metrics.counter('ondevice_errors_total', 'Error events stored, by error code.');
  const latency = metrics.histogram(
    'ondevice_inference_duration_seconds',
    'Client-reported inference latency.',
    LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
  );
  const duplicatesTotal = metrics.counter('ondevice_duplicate_events_total', 'Events ignored because their id was already stored.');
  const ingestRequests = metrics.counter('ondevice_ingest_requests_total', 'POST /v1/events responses, by status and code.');
  const alertsFiring = metrics.gauge('ondevice_alerts_firing', 'Alerts currently firing, by rule.');
  const webhookResults = metrics.counter('ondevice_webhook_deliveries_total', 'Alert webhook payloads, by result.');
  // Seeded from the database so counters stay monotonic across restarts.
  for (const r of store.countByType()) eventsTotal.inc({ type: r.type }, r.count);
  for (const r of store.countErrorsByCode()) errorsTotal.inc({ code: r.code }, r.count);
  for (const r of store.latencyHistogram()) {
    latency.addToBucket({ model_id: r.modelId, model_version: r.modelVersion, backend: r.backend }, r.bucket, r.count, r.sumMs / 1000);
  }

  const notifier = options.webhookUrl
    ? new WebhookNotifier({
        url: options.webhookUrl,
        ...options.webhook,
        onResult: (result, detail) => {
          webhookResults.inc({ result });
          if (result !== 'delivered') log(`collector: webhook ${result}: ${detail}`);
        },
      })
    : undefined;

  const monitor = new AlertMonitor({
    store,
    rules: alertConfig.rules,
    measure: (rules, nowMs) => queries.measure(rules, nowMs),
    intervalMs: options.evaluationIntervalMs ?? alertConfig.evaluationIntervalMs,
    // Alert windows are minutes long; 2 s keeps alerts prompt while a busy collector's worker is not
    // re-scanning its windows back to back.
    throttleMs: options.evaluationThrottleMs ?? 2000,
    sampleIntervalMs: options.monitorSampleIntervalMs ?? 10_000,
    sampleRetentionMs: 30 * 24 * HOUR_MS,
    now,
    onTransition: (t) => {
      log(`collector: alert ${t.status}: ${t.alert.rule} ${t.alert.series} value=${t.alert.resolvedValue ?? t.alert.value}`);
      notifier?.enqueue({ source: 'ondevice-collector', status: t.status, alert: t.alert });
    },
    onError: (e) => log(`collector: alert evaluation failed: ${(e as Error).message}`),
  });
  monitor.start();

  const limiter = new TokenBucketLimiter(options.rateLimit ?? { perSecond: 20, burst: 60 });
  const ingestContext = {
    store,
    limiter,
    origins,
    siteKeys,
    trustProxy: options.trustProxy ?? false,
    bodyTimeoutMs: options.bodyTimeoutMs ?? 10_000,
    now,
    onResponse: (status: number, code: string) => ingestRequests.inc({ status: String(status), code }),
    onStored: (stored: readonly TelemetryEvent[], duplicates: number) => {
      const byType = new Map<string, number>();
      for (const e of stored) {
        byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
        if (e.type === 'error') errorsTotal.inc({ code: e.code });
        if (e.type === 'inference')
          latency.observe({ model_id: e.modelId, model_version: e.modelVersion, backend: e.backend }, e.ms / 1000);
      }
      for (const [type, count] of byType) eventsTotal.inc({ type }, count);
      if (duplicates > 0) duplicatesTotal.inc({}, duplicates);
      if (stored.length > 0) monitor.evaluateSoon();
    },
  };

  const readGuard = (req: IncomingMessage, res: ServerResponse, url: URL, allowQueryToken: boolean): boolean => {
    if (hasReadAccess(req, url, access, allowQueryToken)) return true;
    sendJson(
      res,
      401,
      { error: 'read token required', code: 'UNAUTHORIZED', path: '$' },
      { 'www-authenticate': 'Bearer realm="ondevice-collector"' },
    );
    return false;
  };

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const path = url.pathname;
    if (path === '/v1/events') {
      await handleIngest(ingestContext, req, res, url);
      return true;
    }
    const isRead = path.startsWith('/v1/') || path === '/metrics' || path === '/dashboard' || path.startsWith('/dashboard/');
    if (!isRead) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'use GET', code: 'METHOD_NOT_ALLOWED', path: '$' }, { allow: 'GET, HEAD' });
      return true;
    }
    if (path === '/v1/health') {
      sendJson(res, 200, { ok: true });
      return true;
    }
    const asset = dashboard.publicAssets.get(path);
    if (asset) {
      // Library code and styles carry no data, and <script src> cannot send a bearer token.
      sendAsset(res, asset.body, asset.type, 'public, max-age=300');
      return true;
    }
    const isDashboardPage = path === '/dashboard' || path === '/dashboard/';
    if (!readGuard(req, res, url, isDashboardPage)) return true;
    switch (path) {
      case '/v1/summary': {
        const windowMs = parseWindow(url, res);
        if (windowMs !== null) sendJson(res, 200, await queries.summary(windowMs, now()));
        return true;
      }
      case '/v1/alerts': {
        const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit')) || 100));
        sendJson(res, 200, { firing: monitor.firingAlerts(), history: store.listAlerts(limit) });
        return true;
      }
      case '/metrics': {
        const byRule = new Map<string, number>();
        for (const a of monitor.firingAlerts()) byRule.set(a.rule, (byRule.get(a.rule) ?? 0) + 1);
        alertsFiring.reset(alertConfig.rules.map((r) => ({ labels: { rule: r.name }, value: byRule.get(r.name) ?? 0 })));
        const text = metrics.render();
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
        res.end(text);
        return true;
      }
      case '/dashboard':
      case '/dashboard/':
        sendAsset(res, dashboard.page, 'text/html; charset=utf-8', 'no-store');
        return true;
      case '/dashboard/data.json': {
        const windowMs = parseWindow(url, res);
        if (windowMs !== null) sendJson(res, 200, await queries.dashboard(alertConfig.rules, windowMs, now()));
        return true;
      }
      default:
        sendJson(res, 404, { error: 'not found', code: 'NOT_FOUND', path: '$' });
        return true;
    }
  };

  let closed = false;
  return {
    store,
    evaluateAlerts: () => monitor.evaluate(),
    async handle(req, res) {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://collector.invalid');
      } catch {
        return false;
      }
      try {
        return await route(req, res, url);
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
      monitor.close();
      await notifier?.close();
      await queries.close();
      if (ownsStore) store.close();
    },
  };
}

function parseWindow(url: URL, res: ServerResponse): number | null {
  const raw = url.searchParams.get('windowMs');
  if (raw === null) return HOUR_MS;
  const windowMs = Number(raw);
  if (!Number.isInteger(windowMs) || windowMs < 1000 || windowMs > MAX_WINDOW_MS) {
    sendJson(res, 400, { error: `windowMs must be an integer within [1000, ${MAX_WINDOW_MS}]`, code: 'INVALID_QUERY', path: 'windowMs' });
    return null;
  }
  return windowMs;
}
