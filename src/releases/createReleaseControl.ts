import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { LOOPBACK_HOST_NAMES } from '../http/hostAllowed';
import { parseRegistry } from '../registry/parseRegistry';
import { holdIdleTimeout } from '../http/holdIdleTimeout';
import { isLoopbackHost } from '../http/isLoopbackHost';
import { readBody } from '../http/readBody';
import { sendJson } from '../http/sendJson';
import { WebhookNotifier } from '../http/WebhookNotifier';
import type { LeaderLease } from '../db/LeaderLease';
import { checkReadAccess, checkWriteAccess, type ReadAccessPolicy, type WriteAccessPolicy } from '../http/checkWriteAccess';
import path from 'node:path';
import { bodyWithDeadline } from './bodyWithDeadline';
import type { SandboxSettings } from '../sandbox';
import { deriveOptimizedCopy } from './deriveOptimizedCopy';
import { inspectModelSet } from './inspectModelSet';
import { ReleaseFileCache } from './ReleaseFileCache';
import { INSTALL_ID, MODEL_ID, VERSION } from './releaseIds';
import type { PublishRequest } from './PublishRequest';
import { ReleaseError, ReleaseService } from './ReleaseService';
import type { ReleaseStore } from './ReleaseStore';
import { loadRolloutConfig, parseRolloutConfig, type RolloutConfig } from './rolloutPolicy';
import { sendReleaseFile } from './sendReleaseFile';
import type { VersionMetricsSource } from './VersionMetrics';

export interface ReleaseControlOptions {
  store: ReleaseStore;
  metrics: VersionMetricsSource;
  /** Registry whose entries are seeded as first stable releases. Default `models/registry.json` (missing: none). */
  registryPath?: string;
  /** Default `config/rollout.json` (missing: built-in defaults). */
  rolloutConfigPath?: string;
  rolloutConfig?: RolloutConfig;
  /** Overrides the config's decision-loop period. */
  evaluationIntervalMs?: number;
  /** Host the server listens on: off loopback the write side needs `adminToken`, the read side `readToken`. */
  listenHost?: string;
  adminToken?: string;
  readToken?: string;
  requireReadToken?: boolean;
  allowedHosts?: string[];
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

const READ = ['GET', 'HEAD'];

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
  const loopback = options.listenHost === undefined || isLoopbackHost(options.listenHost);
  const openHosts = new Set([...LOOPBACK_HOST_NAMES, ...(options.allowedHosts ?? []).map((h) => h.trim().toLowerCase())]);
  const write: WriteAccessPolicy = { adminToken: options.adminToken || undefined, loopback, openHosts };
  const readRequired = options.requireReadToken ?? !loopback;
  if (!loopback && !write.adminToken)
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

  const read: ReadAccessPolicy = { required: readRequired, token: options.readToken || undefined, openHosts };
  const readAllowed = (req: IncomingMessage, res: ServerResponse, url: URL): boolean => checkReadAccess(req, res, url, read);

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const method = req.method ?? 'GET';
    if (url.pathname === '/v1/manifest') {
      if (!allow(res, method, READ)) return true;
      const install = url.searchParams.get('install');
      if (install === null || !INSTALL_ID.test(install))
        throw new ReleaseError(400, 'INVALID_INPUT', 'expected ?install=<install id> (1–128 of A–Z a–z 0–9 . _ : -)');
      const manifest = await service.manifest(install);
      const text = JSON.stringify(manifest);
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-cache',
        'access-control-allow-origin': '*',
        'x-content-type-options': 'nosniff',
      });
      res.end(method === 'HEAD' ? undefined : text);
      return true;
    }
    if (url.pathname.startsWith('/v1/uploads/')) {
      const sha256 = decodePart(url.pathname.slice('/v1/uploads/'.length));
      if (sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256))
        throw new ReleaseError(
          400,
          'INVALID_INPUT',
          'expected PUT /v1/uploads/{sha256} with the sha256 of the file in 64 lower-case hex digits',
        );
      if (!allow(res, method, ['PUT'])) return true;
      if (!checkWriteAccess(req, res, write, 'application/octet-stream')) return drain(req);
      const written = await service.receiveFile(
        bodyWithDeadline(req, { timeoutMs: publishBodyTimeoutMs, maxBytes: limits.maxFileBytes }),
        sha256,
      );
      sendJson(res, written.existed ? 200 : 201, { sha256: written.sha256, bytes: written.bytes, existed: written.existed });
      return true;
    }
    if (url.pathname !== '/v1/releases' && !url.pathname.startsWith('/v1/releases/')) return false;
    if (url.pathname === '/v1/releases' || url.pathname === '/v1/releases/') {
      if (!allow(res, method, READ)) return true;
      if (!readAllowed(req, res, url)) return true;
      sendJson(res, 200, { models: await service.store.modelIds() });
      return true;
    }
    const parts = url.pathname.split('/').slice(3).map(decodePart);
    const [modelId, version, leaf, ...rest] = parts;
    // A data file's location is one or more path segments (`files/weights/a.bin`), each percent-encoded.
    const location = leaf === 'files' && rest.length > 0 ? rest.join('/') : undefined;
    if (modelId === undefined || (rest.length > 0 && location === undefined) || parts.some((p) => p === undefined || p === ''))
      throw new ReleaseError(404, 'NOT_FOUND', 'no such release endpoint');
    if (!MODEL_ID.test(modelId)) throw new ReleaseError(400, 'INVALID_INPUT', `model id ${JSON.stringify(modelId)} must match ${MODEL_ID}`);
    if (version !== undefined && !VERSION.test(version))
      throw new ReleaseError(400, 'INVALID_INPUT', `version ${JSON.stringify(version)} must match ${VERSION}`);

    if (version === undefined) {
      if (!allow(res, method, READ)) return true;
      if (!readAllowed(req, res, url)) return true;
      const windowMs = url.searchParams.has('windowMs') ? Number(url.searchParams.get('windowMs')) : undefined;
      if (windowMs !== undefined && !(Number.isSafeInteger(windowMs) && windowMs > 0))
        throw new ReleaseError(400, 'INVALID_INPUT', 'windowMs must be a positive integer');
      sendJson(res, 200, await service.status(modelId, windowMs));
      return true;
    }
    if (leaf === undefined) {
      if (!allow(res, method, ['POST'])) return true;
      if (!checkWriteAccess(req, res, write, 'application/octet-stream')) return drain(req);
      if (await service.store.get(modelId, version)) {
        drain(req);
        throw new ReleaseError(409, 'VERSION_EXISTS', `${modelId} ${version} is already published`);
      }
      const params = publishParams(url);
      const model = await service.receiveFile(bodyWithDeadline(req, { timeoutMs: publishBodyTimeoutMs, maxBytes: limits.maxFileBytes }));
      const published = await whileChecking(req, () =>
        service.publishFiles({ modelId, version, model: { sha256: model.sha256, bytes: model.bytes }, ...params }),
      );
      sendPublished(res, published);
      return true;
    }
    if (leaf === 'files' && location === undefined) {
      if (!allow(res, method, ['POST'])) return true;
      if (!checkWriteAccess(req, res, write, 'application/json')) return drain(req);
      const body = await readJsonBody(req, (o) => o, 1024 * 1024);
      sendPublished(res, await whileChecking(req, () => service.publishFiles({ ...(body as PublishRequest), modelId, version })));
      return true;
    }
    if (leaf === 'files' || leaf === 'model.onnx' || leaf === 'model.extended.onnx') {
      if (!allow(res, method, READ)) return true;
      const role = leaf === 'files' ? 'data' : leaf === 'model.onnx' ? 'model' : 'optimized';
      await sendReleaseFile(req, res, service.store, files, { modelId, version, role, location });
      return true;
    }
    if (leaf === 'rollout') {
      if (!allow(res, method, ['PUT'])) return true;
      if (!checkWriteAccess(req, res, write, 'application/json')) return drain(req);
      const { percent } = await readJsonBody(req, (o) => {
        const p = (o as { percent?: unknown }).percent;
        if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 100)
          throw new ReleaseError(400, 'INVALID_INPUT', 'expected {"percent": <integer 0–100>}', { path: '$.percent' });
        return { percent: p };
      });
      sendJson(res, 200, { release: await service.setPercent(modelId, version, percent) });
      return true;
    }
    if (leaf === 'promote' || leaf === 'rollback') {
      if (!allow(res, method, ['POST'])) return true;
      if (!checkWriteAccess(req, res, write, 'application/json')) return drain(req);
      const { reason } = await readJsonBody(req, (o) => {
        const r = (o as { reason?: unknown }).reason;
        if (r !== undefined && (typeof r !== 'string' || r.length > 1000))
          throw new ReleaseError(400, 'INVALID_INPUT', 'reason must be a string of at most 1000 characters', { path: '$.reason' });
        return { reason: r as string | undefined };
      });
      const release =
        leaf === 'promote'
          ? await service.promote(modelId, version, 'operator', reason ?? 'promoted by the operator')
          : await service.rollback(modelId, version, 'operator', reason ?? 'rolled back by the operator');
      sendJson(res, 200, { release });
      return true;
    }
    throw new ReleaseError(404, 'NOT_FOUND', 'no such release endpoint');
  }

  return {
    service,
    evaluate,
    longestBodyTimeoutMs: publishBodyTimeoutMs,
    async handle(req, res) {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://releases.invalid');
      } catch {
        return false;
      }
      try {
        return await route(req, res, url);
      } catch (e) {
        if (e instanceof ReleaseError) {
          // A refusal in the middle of an upload (too large, a wrong hash, a deadline): the answer closes the
          // connection so the client stops sending instead of the server reading the rest.
          const closing: Record<string, string> = !req.complete ? { connection: 'close' } : {};
          if (!res.headersSent) sendJson(res, e.status, { error: e.message, code: e.code, path: '$', ...e.details }, closing);
          if (!req.complete) res.once('finish', () => req.destroy());
          return true;
        }
        log(`releases: ${req.method} ${url.pathname} failed: ${(e as Error).stack ?? e}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error', code: 'INTERNAL', path: '$' });
        else res.destroy();
        return true;
      }
    },
    async close() {
      clearInterval(timer);
      clearInterval(collector);
      await collecting;
      await running?.catch(() => {});
      await notifier?.close();
    },
  };
}

function allow(res: ServerResponse, method: string, methods: string[]): boolean {
  if (methods.includes(method)) return true;
  sendJson(res, 405, { error: `use ${methods.join(', ')}`, code: 'METHOD_NOT_ALLOWED', path: '$' }, { allow: methods.join(', ') });
  return false;
}

function drain(req: IncomingMessage): true {
  req.resume();
  return true;
}

function decodePart(p: string): string | undefined {
  try {
    return decodeURIComponent(p);
  } catch {
    return undefined;
  }
}

/** 201 with the release and its pre-optimised copy (null when none was derived; `optimizedError` says why). */
function sendPublished(res: ServerResponse, published: Awaited<ReturnType<ReleaseService['publishFiles']>>): void {
  const { optimizedError, ...release } = published;
  sendJson(res, 201, { release, optimized: release.entry.optimized ?? null, ...(optimizedError ? { optimizedError } : {}) });
}

/** Checking a publish takes as long as its sandbox limits allow (minutes for a large set), longer than the idle-socket timeout. */
async function whileChecking<T>(req: IncomingMessage, work: () => Promise<T>): Promise<T> {
  const restoreIdleTimeout = holdIdleTimeout(req);
  try {
    return await work();
  } finally {
    restoreIdleTimeout();
  }
}

function publishParams(url: URL): { notes?: string; metrics?: Record<string, unknown>; breaking: boolean } {
  const notes = url.searchParams.get('notes') ?? undefined;
  if (notes !== undefined && notes.length > 4000) throw new ReleaseError(400, 'INVALID_INPUT', 'notes: at most 4000 characters');
  const metricsText = url.searchParams.get('metrics');
  let metrics: Record<string, unknown> | undefined;
  if (metricsText !== null) {
    if (metricsText.length > 8000) throw new ReleaseError(400, 'INVALID_INPUT', 'metrics: at most 8000 characters of JSON');
    try {
      metrics = JSON.parse(metricsText);
    } catch {
      throw new ReleaseError(400, 'INVALID_INPUT', 'metrics is not JSON');
    }
    if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics))
      throw new ReleaseError(400, 'INVALID_INPUT', 'metrics must be a JSON object');
  }
  const breaking = url.searchParams.get('breaking');
  if (breaking !== null && breaking !== '1' && breaking !== 'true' && breaking !== '0' && breaking !== 'false')
    throw new ReleaseError(400, 'INVALID_INPUT', 'breaking must be 1 or 0');
  return { notes, metrics, breaking: breaking === '1' || breaking === 'true' };
}

async function readJsonBody<T>(req: IncomingMessage, check: (o: object) => T, maxBytes = 4096): Promise<T> {
  const body = await readBody(req, { maxBytes, timeoutMs: 10_000 });
  if (!body.ok) throw new ReleaseError(body.status, body.code, body.error);
  let value: unknown;
  try {
    value = body.text.trim() === '' ? {} : JSON.parse(body.text);
  } catch {
    throw new ReleaseError(400, 'INVALID_INPUT', 'body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ReleaseError(400, 'INVALID_INPUT', 'expected a JSON object');
  return check(value);
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
