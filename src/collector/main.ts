// Standalone collector: `npm run collector`. Configuration by environment:
//   PORT                          listen port (default 8787; 0 picks a free one)
//   HOST                          listen address (default 127.0.0.1). Non-loopback ⇒ read side needs the token.
//   COLLECTOR_*                   see collectorOptionsFromEnv.ts (database, site keys, origins, token, alerts, webhook, …)
import { createServer } from 'node:http';
import { collectorOptionsFromEnv } from './collectorOptionsFromEnv';
import { createCollector } from './createCollector';
import { applyServerTimeouts, serverOptions, serverTimeoutsFromEnv, type ServerTimeouts } from '../http/serverTimeouts';

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT ?? 8787);

let timeouts: ServerTimeouts;
const collector = await (async () => {
  timeouts = serverTimeoutsFromEnv(process.env);
  return createCollector(collectorOptionsFromEnv(process.env, host));
})().catch((e: Error) => {
  // A configuration error is the operator's to fix: say what, without a stack trace.
  console.error(`collector: ${e.message}`);
  process.exit(1);
});

const server = createServer(serverOptions(timeouts!), (req, res) => {
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
// Bounded waits for slow or idle clients (slowloris): headers, whole request, idle keep-alive, idle socket.
applyServerTimeouts(server, timeouts!, collector.longestBodyTimeoutMs);

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
