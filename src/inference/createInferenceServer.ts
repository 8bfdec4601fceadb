import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { isLoopbackHost } from '../http/isLoopbackHost';
import { hasBearerToken } from '../http/accessPolicy';
import { routeRequest, type RouteTable } from '../http/routeRequest';
import { TokenBucketLimiter } from '../http/TokenBucketLimiter';
import { defaultModelsDir } from '../node/defaultModelsDir';
import type { SandboxSettings } from '../sandbox';
import { DynamicBatcher, type DynamicBatchingOptions } from './DynamicBatcher';
import type { InferContext } from './handleInfer';
import { ModelCatalog } from './ModelCatalog';
import type { RecordInference } from './ServerInferenceRecord';
import { SessionPool } from './SessionPool';
import { sendV2, V2_HEADERS } from './sendV2';
import { v2Error } from './v2Error';
import type { ReleasedModels } from './ReleasedModels';
import { v2Routes, type ServableModels } from './v2Routes';

export interface InferenceServerOptions {
  /** The address the HTTP server listens on: on loopback /v2/* is open, elsewhere it needs `apiToken`. */
  host: string;
  /**
   * Folder with `registry.json` and the model files, or a plain folder of `.onnx` files (each served as its
   * file name, see readModelsDir). Default `$ONDEVICE_MODELS_DIR` or `public/models`.
   */
  modelsDir?: string;
  /**
   * One model file to serve alone, with no registry (`ondevice serve model.onnx`): its id is its name lower-cased
   * (readModelFile), its external data files are beside it. Takes the place of `modelsDir`.
   */
  modelFile?: string;
  /** Sandbox child processes running sessions. Default: the number of cores. */
  workers?: number;
  /** Requests waiting for a worker at most before 503 + Retry-After. Default 8 per worker. */
  queueLimit?: number;
  /** Largest request body. Default 64 MiB. */
  maxBodyBytes?: number;
  bodyTimeoutMs?: number;
  /** Bound on one run once its model is loaded (504 TIMEOUT past it; the process is killed and replaced). Default 60 s. */
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
  const modelsDir =
    options.modelFile !== undefined ? path.dirname(path.resolve(options.modelFile)) : (options.modelsDir ?? defaultModelsDir());
  const catalog = await ModelCatalog.open(modelsDir, { sandbox: options.sandbox, modelFile: options.modelFile });
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

  const table: RouteTable = {
    name: 'inference',
    routes: v2Routes(servableModels(catalog, options.releases), () => pool.size > 0, context),
    owns: (pathname) => pathname === '/v2' || pathname.startsWith('/v2/'),
    notFound: (pathname) => `no such endpoint: ${pathname.slice(0, 200)}`,
    errors: {
      shape: 'v2',
      headers: V2_HEADERS,
      internal: (error) => v2Error(500, 'INFERENCE_FAILED', (error as Error)?.message ?? String(error)),
    },
    // Before any route: the CORS preflight, then off loopback the API token and the per-client rate.
    guard: (req, res) => {
      if (req.method === 'OPTIONS') {
        sendV2(res, 204, '', {
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers':
            'Authorization, Content-Type, Inference-Header-Content-Length, X-OnDevice-Install-Id, X-OnDevice-Session-Id',
          'access-control-max-age': '600',
        });
        return true;
      }
      if (!protectedAccess) return false;
      if (!hasBearerToken(req, options.apiToken)) {
        const why = options.apiToken
          ? 'send Authorization: Bearer <ONDEVICE_API_TOKEN>'
          : '/v2 is closed off loopback until ONDEVICE_API_TOKEN is set';
        throw v2Error(401, 'UNAUTHORIZED', why, { 'www-authenticate': 'Bearer' });
      }
      const taken = limiter.take(req.socket.remoteAddress ?? '', Date.now());
      if (!taken.ok) throw v2Error(429, 'RATE_LIMITED', 'too many requests', { 'retry-after': String(taken.retryAfterSeconds) });
      return false;
    },
  };

  return {
    pool,
    catalog,
    batcher,
    handle: (req, res) => routeRequest(table, req, res),
    close: () => pool.close(),
  };
}

/** The registry's entries and, when given, the published versions: the stable one answers a request without a version. */
function servableModels(catalog: ModelCatalog, releases: ReleasedModels | undefined): ServableModels {
  return {
    async find(id, version) {
      const wanted = version ?? (await releases?.stable(id));
      return (wanted !== undefined ? await releases?.entry(id, wanted) : undefined) ?? catalog.find(id, wanted);
    },
    async versionsOf(id) {
      return [...new Set([...catalog.versionsOf(id), ...((await releases?.versions(id)) ?? [])])];
    },
  };
}
