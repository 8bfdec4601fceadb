// Types-only: what createCollector takes (collectorOptionsFromEnv maps the COLLECTOR_* variables onto it).
import type { AlertConfig } from './alertRules';
import type { LeaderLease } from '../db/LeaderLease';
import type { RetentionPolicy } from './Retention';
import type { CollectorStorage } from './CollectorStorage';

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
