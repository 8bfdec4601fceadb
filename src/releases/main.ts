// The standalone collector with the release control plane: `node --import tsx src/releases/main.ts`.
// Same environment as src/collector/main.ts (PORT default 8787, HOST, COLLECTOR_*) plus the release
// settings in releaseOptionsFromEnv.ts (ONDEVICE_ADMIN_TOKEN, ONDEVICE_ROLLOUT_CONFIG, …).
import { createServer } from 'node:http';
import { collectorOptionsFromEnv } from '../collector/collectorOptionsFromEnv';
import { createCollector } from '../collector/createCollector';
import { applyServerTimeouts, serverOptions, serverTimeoutsFromEnv } from '../http/serverTimeouts';
import { openReleaseControl } from './openReleaseControl';
import { releaseOptionsFromEnv } from './releaseOptionsFromEnv';

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT ?? 8787);

const started = await (async () => {
  const timeouts = serverTimeoutsFromEnv(process.env);
  const collector = await createCollector({ ...collectorOptionsFromEnv(process.env, host), releaseView: true });
  const { dbPath, ...options } = releaseOptionsFromEnv(process.env, host);
  const releases = await openReleaseControl(dbPath, {
    ...options,
    addKnownModel: (id, v) => collector.budget.addKnown(id, v),
    leader: collector.leader,
  });
  return { timeouts, collector, releases };
})().catch((e: Error) => {
  console.error(`collector: ${e.message}`);
  process.exit(1);
});
const { timeouts, collector, releases } = started;

const server = createServer(serverOptions(timeouts), (req, res) => {
  (async () => (await releases.handle(req, res)) || (await collector.handle(req, res)))().then(
    (handled) => {
      if (!handled) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"not found","code":"NOT_FOUND","path":"$"}');
      }
    },
    () => res.destroy(),
  );
});
applyServerTimeouts(server, timeouts, Math.max(collector.longestBodyTimeoutMs, releases.longestBodyTimeoutMs));

server.listen(port, host, () => {
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  console.log(`listening on http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`);
});

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(1), 5000);
  force.unref();
  server.close(() => {
    Promise.all([releases.close(), collector.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  server.closeIdleConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
