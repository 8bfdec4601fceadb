import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LeaderLease } from '../db/LeaderLease';
import { accessPolicy, type AccessOptions } from '../http/accessPolicy';
import { longestBodyTimeoutMs, routeRequest, type RouteTable } from '../http/routeRequest';
import { WebhookNotifier } from '../http/WebhookNotifier';
import { parseRegistry } from '../registry/parseRegistry';
import type { SandboxSettings } from '../sandbox';
import { join } from 'node:path';
import { deriveOptimizedCopy } from './deriveOptimizedCopy';
import { deriveFeaturesVariant } from './deriveFeaturesVariant';
import { inspectModelSet } from './inspectModelSet';
import { ReleaseFileCache } from './ReleaseFileCache';
import { RELEASE_PARAMS, releaseRoutes, releasesOwn } from './releaseRoutes';
import { ReleaseService } from './ReleaseService';
import type { ReleaseStore } from './ReleaseStore';
import { loadRolloutConfig, parseRolloutConfig, type RolloutConfig } from './rolloutPolicy';
import type { VersionMetricsSource } from './VersionMetrics';

/** Access (AccessOptions): off loopback the write side needs `adminToken`, the read side `readToken`. */
export interface ReleaseControlOptions extends AccessOptions {
  store: ReleaseStore;
  metrics: VersionMetricsSource;
  /** Registry whose entries are seeded as first stable releases. Default `models/registry.json` (missing: none). */
  registryPath?: string;
  /** Where the registry's files are (`npm run models:sync` puts them there): read to derive a trainable seed's variant. Default `public/models`. */
  modelsDir?: string;
  /** Default `config/rollout.json` (missing: built-in defaults). */
  rolloutConfigPath?: string;
  rolloutConfig?: RolloutConfig;
  /** Overrides the config's decision-loop period. */
  evaluationIntervalMs?: number;
  /** The collector's ModelKeyBudget.addKnown: a release's events always count. */
  addKnownModel?: (modelId: string, version: string) => void;
  /** Automatic rollbacks are POSTed here as firing alerts. */
  webhookUrl?: string;
  /**
   * With several instances on one database, only the leader's timer runs the decision loop (the collector's
   * `leader`), so a stage is decided once. Default: this instance always decides.
   */
  leader?: LeaderLease;
  /** Limits of the sandbox processes that load and run uploads (publish checks). Default DEFAULT_SANDBOX_SETTINGS. */
  sandbox?: SandboxSettings;
  /** Largest file of a version (each upload, and a single-body publish). Default 4 GiB. */
  maxPublishBytes?: number;
  /** Largest version: its ONNX file and external data files together. Default 4 GiB. */
  maxVersionBytes?: number;
  /** Deadline for receiving one upload. Default 10 minutes. */
  publishBodyTimeoutMs?: number;
  /**
   * Where this server keeps its disk copy of the release files (the publish checks and /v2 read them there; the
   * database holds them). Default `release-files` beside the SQLite database, else `data/release-files`.
   */
  filesDir?: string;
  /** Uploaded files no version names are removed after this. Default 24 hours. */
  uploadGraceMs?: number;
  log?: (line: string) => void;
  now?: () => number;
}

export interface ReleaseControl {
  /** Serve the request if it is a release route (`/v1/manifest`, `/v1/releases…`); false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** One pass of the decision loop now (it also runs on a timer). */
  evaluate: ReleaseService['evaluate'];
  service: ReleaseService;
  /** The upload deadline: the server's whole-request timeout must not be shorter. */
  longestBodyTimeoutMs: number;
  close(): Promise<void>;
}

/**
 * The release control plane: publishing (content-addressed bytes, loaded by onnxruntime-node, signature
 * checked), rollout changes, the per-install manifest, immutable bytes, and the decision loop that
 * advances or rolls back candidates on field evidence. Mount it before the collector.
 *
 * @example
 * const releases = await createReleaseControl({ store, metrics, addKnownModel: (id, v) => collector.budget.addKnown(id, v) });
 * http.createServer(async (req, res) => { if (await releases.handle(req, res)) return; … });
 */
export async function createReleaseControl(options: ReleaseControlOptions): Promise<ReleaseControl> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const config = options.rolloutConfig
    ? parseRolloutConfig(options.rolloutConfig)
    : await loadRolloutConfig(options.rolloutConfigPath ?? 'config/rollout.json');
  const access = accessPolicy(options);
  if (!access.loopback && !access.adminToken)
    log('releases: listening off loopback without ONDEVICE_ADMIN_TOKEN: publishing and rollout changes are refused');
  const limits = { maxFileBytes: options.maxPublishBytes ?? 4 * 1024 ** 3, maxVersionBytes: options.maxVersionBytes ?? 4 * 1024 ** 3 };
  const publishBodyTimeoutMs = options.publishBodyTimeoutMs ?? 10 * 60_000;
  const files = await ReleaseFileCache.open(options.filesDir ?? path.resolve('data/release-files'), options.store.objects);
  const notifier = options.webhookUrl
    ? new WebhookNotifier({ url: options.webhookUrl, onResult: (r, d) => r !== 'delivered' && log(`releases: webhook ${r}: ${d}`) })
    : undefined;

  const service = new ReleaseService({
    store: options.store,
    metrics: options.metrics,
    config,
    files,
    limits,
    inspect: (set, dataFiles, label) => inspectModelSet(set, dataFiles, label, options.sandbox),
    deriveOptimized: (set, to, release) => deriveOptimizedCopy(set, to, release, options.sandbox),
    deriveFeatures: (bytes, spec, release) => deriveFeaturesVariant(bytes, spec, release, options.sandbox),
    readSeedBytes: async (file) => new Uint8Array(await readFile(join(options.modelsDir ?? 'public/models', file))),
    onKnownVersion: options.addKnownModel,
    now: options.now,
    onRollback: (d) => {
      log(`releases: rolled back ${d.modelId} ${d.version}: ${d.reason}`);
      notifier?.enqueue({
        source: 'ondevice-releases',
        status: 'firing',
        alert: {
          rule: 'release-rollback',
          series: `${d.modelId}@${d.version}`,
          modelId: d.modelId,
          version: d.version,
          reason: d.reason,
          evidence: d.evidence,
          atMs: d.atMs,
        },
      });
    },
  });
  await service.seed(await readRegistryEntries(options.registryPath ?? 'models/registry.json'));
  for (const warning of service.seedWarnings) log(`releases: ${warning}`);

  let running: Promise<unknown> | undefined;
  const evaluate: ReleaseService['evaluate'] = async () => {
    // One pass at a time: a slow pass and the timer must not decide the same stage twice.
    while (running) await running.catch(() => {});
    const pass = service.evaluate();
    running = pass;
    try {
      return await pass;
    } finally {
      running = undefined;
    }
  };
  const timer = setInterval(() => {
    if (options.leader && !options.leader.isLeader()) return;
    evaluate().catch((e: Error) => log(`releases: decision loop failed: ${e.stack ?? e.message}`));
  }, options.evaluationIntervalMs ?? config.evaluationIntervalMs);
  timer.unref();

  // Uploads that never became part of a version (a killed or abandoned publish) are removed after a grace period;
  // unfinished writes once no upload can still be receiving them. Nothing collected was ever served.
  const uploadGraceMs = options.uploadGraceMs ?? 24 * 60 * 60_000;
  let collecting: Promise<unknown> | undefined;
  const collectGarbage = () => {
    const now = (options.now ?? Date.now)();
    collecting ??= service
      .collectGarbage({ writesStartedBeforeMs: now - 2 * publishBodyTimeoutMs, objectsTouchedBeforeMs: now - uploadGraceMs })
      .then((removed) => {
        if (removed.writes + removed.objects > 0)
          log(`releases: removed ${removed.writes} unfinished upload(s) and ${removed.objects} file(s) no version names`);
      })
      .catch((e: Error) => log(`releases: removing unused uploads failed: ${e.stack ?? e.message}`))
      .finally(() => (collecting = undefined));
    return collecting;
  };
  await collectGarbage();
  const collector = setInterval(() => void collectGarbage(), Math.min(uploadGraceMs, 60 * 60_000));
  collector.unref();

  const routes = releaseRoutes(service, files, { maxBytes: limits.maxFileBytes, timeoutMs: publishBodyTimeoutMs });
  const table: RouteTable = {
    name: 'releases',
    routes,
    owns: releasesOwn,
    access,
    params: RELEASE_PARAMS,
    notFound: () => 'no such release endpoint',
    log,
  };
  return {
    service,
    evaluate,
    longestBodyTimeoutMs: longestBodyTimeoutMs(routes),
    handle: (req, res) => routeRequest(table, req, res),
    async close() {
      clearInterval(timer);
      clearInterval(collector);
      await collecting;
      await running?.catch(() => {});
      await notifier?.close();
    },
  };
}

async function readRegistryEntries(path: string) {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  // The same validation as everywhere else a registry is read; a malformed one is a startup error.
  return parseRegistry(text);
}
