// Standalone collector: `npm run collector`. Configuration by environment:
//   PORT                          listen port (default 8787; 0 picks a free one)
//   HOST                          listen address (default 127.0.0.1). Non-loopback ⇒ read side needs the token.
//   COLLECTOR_*                   see collectorOptionsFromEnv.ts (database, site keys, origins, token, alerts, webhook, …)
//   HTTP_*_TIMEOUT_MS             see src/http/serverTimeouts.ts
import { createServer } from 'node:http';
import { chainHandlers } from '../http/chainHandlers';
import { serveUntilSignal } from '../http/serveUntilSignal';
import { applyServerTimeouts, serverOptions, serverTimeoutsFromEnv } from '../http/serverTimeouts';
import { collectorOptionsFromEnv } from './collectorOptionsFromEnv';
import { createCollector } from './createCollector';

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT ?? 8787);

const { timeouts, collector } = await (async () => {
  const timeouts = serverTimeoutsFromEnv(process.env);
  return { timeouts, collector: await createCollector(collectorOptionsFromEnv(process.env, host)) };
})().catch((e: Error) => {
  // A configuration error is the operator's to fix: say what, without a stack trace.
  console.error(`collector: ${e.message}`);
  process.exit(1);
});

const server = createServer(serverOptions(timeouts), chainHandlers([collector.handle]));
// Bounded waits for slow or idle clients (slowloris): headers, whole request, idle keep-alive, idle socket.
applyServerTimeouts(server, timeouts, collector.longestBodyTimeoutMs);
serveUntilSignal(server, {
  host,
  port,
  onSignal: (signal) => console.error(`collector: ${signal}, shutting down`),
  close: () => collector.close(),
});
