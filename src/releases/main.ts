// The standalone collector with the release control plane: `node --import tsx src/releases/main.ts`.
// Same environment as src/collector/main.ts (PORT default 8787, HOST, COLLECTOR_*, HTTP_*_TIMEOUT_MS) plus
// the release settings in releaseOptionsFromEnv.ts (ONDEVICE_ADMIN_TOKEN, ONDEVICE_ROLLOUT_CONFIG, …).
import { createServer } from 'node:http';
import { collectorOptionsFromEnv } from '../collector/collectorOptionsFromEnv';
import { createCollector } from '../collector/createCollector';
import { chainHandlers } from '../http/chainHandlers';
import { serveUntilSignal } from '../http/serveUntilSignal';
import { applyServerTimeouts, serverOptions, serverTimeoutsFromEnv } from '../http/serverTimeouts';
import { openReleaseControl } from './openReleaseControl';
import { releaseOptionsFromEnv } from './releaseOptionsFromEnv';

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT ?? 8787);

const { timeouts, collector, releases } = await (async () => {
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

const server = createServer(serverOptions(timeouts), chainHandlers([releases.handle, collector.handle]));
applyServerTimeouts(server, timeouts, Math.max(collector.longestBodyTimeoutMs, releases.longestBodyTimeoutMs));
serveUntilSignal(server, { host, port, close: async () => void (await Promise.all([releases.close(), collector.close()])) });
