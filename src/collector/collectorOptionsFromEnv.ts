import type { CollectorOptions } from './CollectorOptions';

/**
 * Collector options from the environment, shared by `npm run collector` and `npm start`:
 *   COLLECTOR_DB_PATH             SQLite file (default ./data/collector.sqlite)
 *   COLLECTOR_DATABASE_URL        postgres://… : every store on PostgreSQL instead (wins over COLLECTOR_DB_PATH); instances on one elect a leader
 *   COLLECTOR_RETENTION_DAYS      days of events and rollups kept (default: forever)
 *   COLLECTOR_SAMPLE_RETENTION_DAYS days of training samples kept (default: forever)
 *   COLLECTOR_PRUNE_INTERVAL_MS   how often the leader runs retention (default 3600000; 0 disables)
 *   COLLECTOR_SITE_KEYS           comma-separated accepted site keys (default "demo")
 *   COLLECTOR_ALLOWED_ORIGINS     comma-separated CORS allowlist; unset or "*" allows any origin (demo)
 *   COLLECTOR_READ_TOKEN          bearer token for /v1/summary, /v1/alerts, /metrics, /dashboard
 *   COLLECTOR_REQUIRE_TOKEN       "1" to require the token on loopback too
 *   COLLECTOR_ALLOWED_HOSTS       comma-separated Host names the token-less loopback read side also answers to
 *   COLLECTOR_ALERT_RULES         alert rules file (default config/alerts.json)
 *   COLLECTOR_WEBHOOK_URL         where firing/resolved alerts are POSTed
 *   COLLECTOR_RATE_LIMIT_PER_SECOND, COLLECTOR_RATE_LIMIT_BURST
 *                                 per-IP token bucket (default 20/s, burst 60; 0/s disables)
 *   COLLECTOR_TRUST_PROXY         "1" to rate-limit by X-Forwarded-For (only behind your own proxy)
 *   COLLECTOR_EVAL_INTERVAL_MS    alert evaluation period (default: the rules file's evaluationIntervalMs)
 *   COLLECTOR_EVAL_THROTTLE_MS    evaluate at most this long after ingest (default 2000)
 *   COLLECTOR_MONITOR_SAMPLE_MS   how often accuracy/PSI values are kept for the dashboard (default 10000)
 *   COLLECTOR_SYNCHRONOUS         NORMAL (default: acknowledged events survive kill -9) or FULL (also power loss)
 *   COLLECTOR_MAX_MODELS_PER_SITE distinct model ids per site key kept apart beyond the registry (default 100)
 *   COLLECTOR_MAX_VERSIONS_PER_MODEL  distinct versions per model id kept apart (default 20)
 *   COLLECTOR_REGISTRY            registry file whose models always count (default models/registry.json)
 *   COLLECTOR_MAX_FEEDBACK_PER_INSTALL  feedback events one install weighs per accuracy alert window (default 20)
 *   COLLECTOR_INSTALL_EVENTS_PER_MINUTE events per install per minute, deferred beyond (default 600; 0 disables)
 *   COLLECTOR_INSTALL_SAMPLES_PER_MINUTE sample events per install per minute, deferred beyond (default 30; 0 disables)
 *   COLLECTOR_INGEST_BODY_TIMEOUT_MS  deadline for receiving a POST /v1/events body (default 10000)
 *   COLLECTOR_INSTANCE_ID         this instance's name: `instance` label, pg_stat_activity (default hostname:pid)
 * Server timeouts (HTTP_*_TIMEOUT_MS) are read by serverTimeoutsFromEnv.
 */
export function collectorOptionsFromEnv(env: NodeJS.ProcessEnv, listenHost: string): CollectorOptions {
  const list = (v: string | undefined) =>
    v
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const int = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${v}"`);
    return n;
  };
  const flag = (v: string | undefined) => v === '1' || v?.toLowerCase() === 'true';
  const origins = list(env.COLLECTOR_ALLOWED_ORIGINS);
  const perSecond = int('COLLECTOR_RATE_LIMIT_PER_SECOND');
  const burst = int('COLLECTOR_RATE_LIMIT_BURST');
  return {
    dbPath: env.COLLECTOR_DB_PATH || undefined,
    databaseUrl: databaseUrlFromEnv(env),
    retention: { eventDays: int('COLLECTOR_RETENTION_DAYS'), sampleDays: int('COLLECTOR_SAMPLE_RETENTION_DAYS') },
    pruneIntervalMs: int('COLLECTOR_PRUNE_INTERVAL_MS'),
    siteKeys: list(env.COLLECTOR_SITE_KEYS),
    allowedOrigins: !origins || origins.includes('*') ? '*' : origins,
    listenHost,
    readToken: env.COLLECTOR_READ_TOKEN || undefined,
    requireToken: flag(env.COLLECTOR_REQUIRE_TOKEN) || undefined,
    allowedHosts: list(env.COLLECTOR_ALLOWED_HOSTS),
    alertRulesPath: env.COLLECTOR_ALERT_RULES || undefined,
    webhookUrl: env.COLLECTOR_WEBHOOK_URL || undefined,
    rateLimit: perSecond === undefined && burst === undefined ? undefined : { perSecond: perSecond ?? 20, burst: burst ?? 60 },
    trustProxy: flag(env.COLLECTOR_TRUST_PROXY),
    evaluationIntervalMs: int('COLLECTOR_EVAL_INTERVAL_MS'),
    evaluationThrottleMs: int('COLLECTOR_EVAL_THROTTLE_MS'),
    monitorSampleIntervalMs: int('COLLECTOR_MONITOR_SAMPLE_MS'),
    synchronous: env.COLLECTOR_SYNCHRONOUS?.toUpperCase() === 'FULL' ? 'FULL' : 'NORMAL',
    maxModelsPerSite: int('COLLECTOR_MAX_MODELS_PER_SITE'),
    maxVersionsPerModel: int('COLLECTOR_MAX_VERSIONS_PER_MODEL'),
    registryPath: env.COLLECTOR_REGISTRY || undefined,
    maxFeedbackPerInstall: int('COLLECTOR_MAX_FEEDBACK_PER_INSTALL'),
    installEventsPerMinute: int('COLLECTOR_INSTALL_EVENTS_PER_MINUTE'),
    installSamplesPerMinute: int('COLLECTOR_INSTALL_SAMPLES_PER_MINUTE'),
    bodyTimeoutMs: int('COLLECTOR_INGEST_BODY_TIMEOUT_MS') || undefined,
    instanceId: env.COLLECTOR_INSTANCE_ID || undefined,
  };
}

/** COLLECTOR_DATABASE_URL when set; only postgres:// (or postgresql://) URLs are accepted. */
export function databaseUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const url = env.COLLECTOR_DATABASE_URL?.trim();
  if (!url) return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('COLLECTOR_DATABASE_URL must be a postgres:// URL');
  return url;
}
