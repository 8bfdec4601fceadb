import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { isLoopbackHost } from '../http/isLoopbackHost';
import { hasReadAccess } from '../http/readAccess';
import { TokenBucketLimiter } from '../http/TokenBucketLimiter';
import { defaultModelsDir } from '../node/defaultModelsDir';
import type { SandboxSettings } from '../sandbox';
import { DynamicBatcher, type DynamicBatchingOptions } from './DynamicBatcher';
import { handleInfer, type InferContext } from './handleInfer';
import { ModelCatalog } from './ModelCatalog';
import type { ReleasedModels, ServableEntry } from './ReleasedModels';
import { modelMetadata } from './modelMetadata';
import { parseV2Path } from './parseV2Path';
import type { RecordInference } from './ServerInferenceRecord';
import { SessionPool } from './SessionPool';
import { sendV2, sendV2Error, sendV2Json } from './sendV2';
import { V2Error } from './V2Error';

export interface InferenceServerOptions {
  /** The address the HTTP server listens on: on loopback /v2/* is open, elsewhere it needs `apiToken`. */
  host: string;
  /** Folder with `registry.json` and the model files. Default `$ONDEVICE_MODELS_DIR` or `public/models`. */
  modelsDir?: string;
  /** Sandbox child processes running sessions. Default: the number of cores. */
  workers?: number;
  /** Requests waiting for a worker at most before 503 + Retry-After. Default 8 per worker. */
  queueLimit?: number;
  /** Largest request body. Default 64 MiB. */
  maxBodyBytes?: number;
  bodyTimeoutMs?: number;
  /** Bound on one run (504 TIMEOUT past it; the process is killed and replaced). Default 60 s. */
  runTimeoutMs?: number;
  /** Largest response body (413 RESPONSE_TOO_LARGE past it, decided before encoding). Default 64 MiB. */
  maxResponseBytes?: number;
  /** The sandbox processes' memory cap and model load time. Default DEFAULT_SANDBOX_SETTINGS. */
  sandbox?: SandboxSettings;
  /** Bearer token required off loopback (`ONDEVICE_API_TOKEN`). Without one, /v2/* is closed off loopback. */
  apiToken?: string;
  /** Per-client limit off loopback. Default 50/s, burst 100. */
  rateLimit?: { perSecond: number; burst: number };
  /** Called once per answered inference (telemetry; see ServerInferenceRecord). */
  recordInference?: RecordInference;
  /**
   * Versions a release server published (npm start): a request without a version runs the stable one, and
   * `/v2/models/{id}/versions/{v}` any published one, multi-file sets included. Registry entries answer the rest.
   */
  releases?: ReleasedModels;
  /** Merge concurrent requests of batchable models into one run. Default off. */
  batching?: DynamicBatchingOptions;
}

export interface InferenceServer {
  /** Answers /v2/* and returns true; returns false for any other path. Mount it in any node:http server. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  readonly pool: SessionPool;
  readonly catalog: ModelCatalog;
  /** Present when `batching` is on. */
  readonly batcher: DynamicBatcher | undefined;
  close(): Promise<void>;
}

/**
 * The Open Inference Protocol (KServe v2 REST) for every registry model, on a pool of onnxruntime-node sessions in
 * sandbox child processes (the server's thread never loads or runs a model). Stateless: run several processes
 * behind any HTTP load balancer.
 *
 * @example
 * const inference = await createInferenceServer({ host: '127.0.0.1' });
 * createServer(async (req, res) => { if (!(await inference.handle(req, res))) res.writeHead(404).end(); }).listen(8080);
 */
export async function createInferenceServer(options: InferenceServerOptions): Promise<InferenceServer> {
  const modelsDir = options.modelsDir ?? defaultModelsDir();
  const catalog = await ModelCatalog.open(modelsDir);
  const workers = options.workers ?? availableParallelism();
  const pool = new SessionPool({
    modelsDir,
    workers,
    queueLimit: options.queueLimit ?? 8 * workers,
    runTimeoutMs: options.runTimeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    sandbox: options.sandbox,
  });
  const protectedAccess = !isLoopbackHost(options.host);
  const limiter = new TokenBucketLimiter(options.rateLimit ?? { perSecond: 50, burst: 100 });
  const serverIds = { installId: `server-${randomUUID()}`, sessionId: randomUUID() };
  const batcher = options.batching
    ? new DynamicBatcher((entry, feeds, parts) => pool.run(entry, feeds, parts), options.batching)
    : undefined;
  const context: InferContext = {
    run: batcher
      ? (entry, feeds, part) => batcher.run(entry, feeds, part)
      : (entry, feeds, part) => pool.run(entry, feeds, [part]).then(({ ms, parts }) => ({ ms, part: parts[0] })),
    maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 * 1024,
    bodyTimeoutMs: options.bodyTimeoutMs ?? 30_000,
    recordInference: options.recordInference,
    serverIds,
  };

  /** A published version (the stable one when none is named), else the registry's entry. */
  async function findEntry(id: string, version: string | undefined): Promise<ServableEntry | undefined> {
    const releases = options.releases;
    const wanted = version ?? (await releases?.stable(id));
    return (wanted !== undefined ? await releases?.entry(id, wanted) : undefined) ?? catalog.find(id, wanted);
  }

  async function route(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (req.method === 'OPTIONS') {
      return sendV2(res, 204, '', {
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers':
          'Authorization, Content-Type, Inference-Header-Content-Length, X-OnDevice-Install-Id, X-OnDevice-Session-Id',
        'access-control-max-age': '600',
      });
    }
    if (protectedAccess) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (!hasReadAccess(req, url, { required: true, token: options.apiToken }, false)) {
        throw new V2Error(
          401,
          'UNAUTHORIZED',
          options.apiToken
            ? 'send Authorization: Bearer <ONDEVICE_API_TOKEN>'
            : '/v2 is closed off loopback until ONDEVICE_API_TOKEN is set',
          {
            'www-authenticate': 'Bearer',
          },
        );
      }
      const taken = limiter.take(req.socket.remoteAddress ?? '', Date.now());
      if (!taken.ok) throw new V2Error(429, 'RATE_LIMITED', 'too many requests', { 'retry-after': String(taken.retryAfterSeconds) });
    }
    const target = parseV2Path(pathname);
    if (!target) throw new V2Error(404, 'NOT_FOUND', `no such endpoint: ${pathname.slice(0, 200)}`);
    const method = target.kind === 'infer' ? 'POST' : 'GET';
    if (req.method !== method && !(method === 'GET' && req.method === 'HEAD')) {
      throw new V2Error(405, 'METHOD_NOT_ALLOWED', `${pathname} accepts ${method}`, { allow: method });
    }
    if (target.kind === 'server') {
      return sendV2Json(res, 200, { name: 'ondevice', version: '0.1.0', extensions: ['binary_tensor_data'] });
    }
    if (target.kind === 'live') return sendV2Json(res, 200, { live: true });
    if (target.kind === 'ready') return sendV2Json(res, 200, { ready: pool.size > 0 });
    const entry = await findEntry(target.id, target.version);
    if (!entry) {
      const what = target.version === undefined ? `model "${target.id}"` : `version "${target.version}" of model "${target.id}"`;
      throw new V2Error(404, 'NOT_FOUND', `unknown ${what}`);
    }
    if (target.kind === 'metadata') {
      const versions = [...new Set([...catalog.versionsOf(entry.id), ...((await options.releases?.versions(entry.id)) ?? [])])];
      return sendV2Json(res, 200, modelMetadata(entry, versions));
    }
    if (target.kind === 'model-ready') return sendV2Json(res, 200, { name: entry.id, version: entry.version, ready: true });
    return handleInfer(req, res, entry, context);
  }

  return {
    pool,
    catalog,
    batcher,
    async handle(req, res) {
      const pathname = (req.url ?? '/').split('?', 1)[0];
      if (pathname !== '/v2' && !pathname.startsWith('/v2/')) return false;
      try {
        await route(req, res, pathname);
      } catch (error) {
        const v2 = error instanceof V2Error ? error : new V2Error(500, 'INFERENCE_FAILED', (error as Error)?.message ?? String(error));
        if (res.headersSent) res.destroy();
        else sendV2Error(res, v2);
      }
      return true;
    },
    close: () => pool.close(),
  };
}
