// Standalone collector: `npm run collector`. Configuration by environment:
//   PORT                          listen port (default 8787; 0 picks a free one)
//   HOST                          listen address (default 127.0.0.1). Non-loopback ⇒ read side needs the token.
//   COLLECTOR_DB_PATH             SQLite file (default ./data/collector.sqlite)
//   COLLECTOR_SITE_KEYS           comma-separated accepted site keys (default "demo")
//   COLLECTOR_ALLOWED_ORIGINS     comma-separated CORS allowlist; unset or "*" allows any origin (demo)
//   COLLECTOR_READ_TOKEN          bearer token for /v1/summary, /v1/alerts, /metrics, /dashboard
//   COLLECTOR_REQUIRE_TOKEN       "1" to require the token on loopback too
//   COLLECTOR_ALERT_RULES         alert rules file (default config/alerts.json)
//   COLLECTOR_WEBHOOK_URL         where firing/resolved alerts are POSTed
//   COLLECTOR_RATE_LIMIT_PER_SECOND, COLLECTOR_RATE_LIMIT_BURST
//                                 per-IP token bucket (default 20/s, burst 60; 0/s disables)
//   COLLECTOR_TRUST_PROXY         "1" to rate-limit by X-Forwarded-For (only behind your own proxy)
//   COLLECTOR_EVAL_INTERVAL_MS    alert evaluation period (default: the rules file's evaluationIntervalMs)
//   COLLECTOR_EVAL_THROTTLE_MS    evaluate at most this long after ingest (default 2000)
//   COLLECTOR_MONITOR_SAMPLE_MS   how often accuracy/PSI values are kept for the dashboard (default 10000)
//   COLLECTOR_SYNCHRONOUS         NORMAL (default: acknowledged events survive kill -9) or FULL (also power loss)
import { createServer } from 'node:http';
import { createCollector } from './createCollector';

const env = process.env;
const list = (v: string | undefined) => v?.split(',').map((s) => s.trim()).filter(Boolean);
const int = (name: string): number | undefined => {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${v}"`);
  return n;
};
const flag = (v: string | undefined) => v === '1' || v?.toLowerCase() === 'true';

const host = env.HOST || '127.0.0.1';
const port = int('PORT') ?? 8787;
const origins = list(env.COLLECTOR_ALLOWED_ORIGINS);
const perSecond = int('COLLECTOR_RATE_LIMIT_PER_SECOND');
const burst = int('COLLECTOR_RATE_LIMIT_BURST');

const collector = await createCollector({
  dbPath: env.COLLECTOR_DB_PATH || undefined,
  siteKeys: list(env.COLLECTOR_SITE_KEYS),
  allowedOrigins: !origins || origins.includes('*') ? '*' : origins,
  listenHost: host,
  readToken: env.COLLECTOR_READ_TOKEN || undefined,
  requireToken: flag(env.COLLECTOR_REQUIRE_TOKEN) || undefined,
  alertRulesPath: env.COLLECTOR_ALERT_RULES || undefined,
  webhookUrl: env.COLLECTOR_WEBHOOK_URL || undefined,
  rateLimit: perSecond === undefined && burst === undefined ? undefined : { perSecond: perSecond ?? 20, burst: burst ?? 60 },
  trustProxy: flag(env.COLLECTOR_TRUST_PROXY),
  evaluationIntervalMs: int('COLLECTOR_EVAL_INTERVAL_MS'),
  evaluationThrottleMs: int('COLLECTOR_EVAL_THROTTLE_MS'),
  monitorSampleIntervalMs: int('COLLECTOR_MONITOR_SAMPLE_MS'),
  synchronous: env.COLLECTOR_SYNCHRONOUS?.toUpperCase() === 'FULL' ? 'FULL' : 'NORMAL',
}).catch((e: Error) => {
  // A configuration error is the operator's to fix: say what, without a stack trace.
  console.error(e.message);
  process.exit(1);
});

const server = createServer((req, res) => {
  collector.handle(req, res).then(
    (handled) => {
      if (!handled) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"not found","code":"NOT_FOUND","path":"$"}');
      }
    },
    () => res.destroy(), // handle() reports its own failures; this only guards the promise
  );
});
// Bounded waits for slow or idle clients (slowloris): whole request, headers, idle keep-alive.
server.requestTimeout = 30_000;
server.headersTimeout = 10_000;
server.keepAliveTimeout = 5_000;

server.listen(port, host, () => {
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  console.log(`listening on http://${shownHost}:${actualPort}`);
});

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.error(`collector: ${signal}, shutting down`);
  const force = setTimeout(() => process.exit(1), 5000);
  force.unref();
  server.close(() => {
    collector.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  server.closeIdleConnections();
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
