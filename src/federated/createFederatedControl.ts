import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkReadAccess, checkWriteAccess, type ReadAccessPolicy, type WriteAccessPolicy } from '../http/checkWriteAccess';
import { corsHeaders, PREFLIGHT_HEADERS, type OriginPolicy } from '../http/corsHeaders';
import { readBody } from '../http/readBody';
import { sendJson } from '../http/sendJson';
import { TokenBucketLimiter } from '../http/TokenBucketLimiter';
import { INSTALL_ID, MODEL_ID } from '../releases/releaseIds';
import type { Job } from '../retrain/JobStore';
import type { RetrainConfig } from '../retrain/retrainConfig';
import { FederatedRounds, RoundRefusal } from './FederatedRounds';
import type { RoundStore } from './RoundStore';

/** What the rounds endpoints need of the retraining jobs (RetrainJobs). */
export interface FederatedJobs {
  readonly config: RetrainConfig;
  start(modelId: string, trigger: 'manual', overrides: { rounds?: number }): Promise<{ job: Job }>;
}

export interface FederatedControlOptions {
  store: RoundStore;
  /** The collector's site keys: a client's requests carry one as `?key=`. */
  siteKeys: ReadonlySet<string>;
  /** The collector's allowed origins (CORS). */
  origins: OriginPolicy;
  write: WriteAccessPolicy;
  read: ReadAccessPolicy;
  /** Round requests (offers and updates) each install may make a minute (0: no limit). Default 60. */
  installRequestsPerMinute?: number;
  now?: () => number;
  log?: (line: string) => void;
}

interface Context {
  params: Record<string, string>;
  url: URL;
}

interface FederatedRoute {
  method: 'GET' | 'POST' | 'OPTIONS';
  /** With `{name}` segments. */
  path: string;
  handle(req: IncomingMessage, res: ServerResponse, context: Context): Promise<void>;
}

const PREFIX = '/v1/federated/';

/**
 * The federated rounds over HTTP (docs/retraining.md, "Federated mode"):
 * - `GET /v1/federated/{model}/round?install=&key=`: the round this install may answer (200 offer, or 204);
 * - `POST /v1/federated/{model}/rounds/{roundId}/updates?key=`: a client's update or evaluation, once per install;
 * - `POST /v1/federated/{model}/rounds` (admin, `{ "rounds"?: n }`): start a federated job of the model;
 * - `GET /v1/federated/{model}/rounds?job=` (read): a job's rounds with their figures.
 * Browsers reach the first two from any allowed origin (CORS like `/v1/events`), with a site key, at most
 * `installRequestsPerMinute` per install.
 */
export function createFederatedControl(options: FederatedControlOptions) {
  const now = options.now ?? Date.now;
  const rounds = new FederatedRounds(options.store, now);
  const limiter = new TokenBucketLimiter({
    perSecond: (options.installRequestsPerMinute ?? 60) / 60,
    burst: Math.max(1, options.installRequestsPerMinute ?? 60),
  });
  let jobs: FederatedJobs | undefined;

  /** The client routes' common checks: origin, site key, install id, rate. Returns the CORS headers to answer with. */
  function admitClient(req: IncomingMessage, url: URL, installId: string | null): Record<string, string> {
    const cors = corsHeaders(req.headers.origin, options.origins);
    if (!cors) throw new RoundRefusalWithHeaders(403, 'ORIGIN_NOT_ALLOWED', 'origin not allowed', {});
    const key = url.searchParams.get('key');
    if (key === null || !options.siteKeys.has(key))
      throw new RoundRefusalWithHeaders(
        403,
        'UNKNOWN_SITE_KEY',
        key === null ? 'site key required (?key=)' : 'unknown site key',
        cors,
        '$.key',
      );
    if (installId !== null) {
      if (!INSTALL_ID.test(installId))
        throw new RoundRefusalWithHeaders(400, 'INVALID_INPUT', `install must match ${INSTALL_ID}`, cors, '$.install');
      const taken = limiter.take(installId, now());
      if (!taken.ok)
        throw new RoundRefusalWithHeaders(429, 'RATE_LIMITED', 'too many round requests from this install', {
          ...cors,
          'retry-after': String(taken.retryAfterSeconds),
          'access-control-expose-headers': 'Retry-After',
        });
    }
    return cors;
  }

  const routes: FederatedRoute[] = [
    {
      method: 'GET',
      path: '/v1/federated/{model}/round',
      async handle(req, res, { params, url }) {
        const cors = admitClient(req, url, url.searchParams.get('install') ?? '');
        const offer = await rounds.offerFor(params.model, url.searchParams.get('install')!);
        if (!offer) {
          res.writeHead(204, { ...cors, 'cache-control': 'no-store' });
          return void res.end();
        }
        sendJson(res, 200, offer, { ...cors, 'cache-control': 'no-store' });
      },
    },
    {
      method: 'OPTIONS',
      path: '/v1/federated/{model}/rounds/{roundId}/updates',
      async handle(req, res) {
        const cors = corsHeaders(req.headers.origin, options.origins);
        if (!cors) throw new RoundRefusalWithHeaders(403, 'ORIGIN_NOT_ALLOWED', 'origin not allowed', {});
        res.writeHead(204, { ...cors, ...PREFLIGHT_HEADERS, 'content-length': '0' });
        res.end();
      },
    },
    {
      method: 'POST',
      path: '/v1/federated/{model}/rounds/{roundId}/updates',
      async handle(req, res, { params, url }) {
        const install = url.searchParams.get('install') ?? '';
        const cors = admitClient(req, url, install);
        let found;
        try {
          found = await rounds.roundForUpdate(params.model, params.roundId);
        } catch (e) {
          throw e instanceof RoundRefusal ? withHeaders(e, cors) : e;
        }
        const body = await readBody(req, { maxBytes: found.maxBytes, timeoutMs: 30_000 });
        if (!body.ok)
          throw new RoundRefusalWithHeaders(body.status, body.code, body.error, {
            ...cors,
            ...(body.status === 408 ? { connection: 'close' } : {}),
          });
        try {
          await rounds.acceptUpdate(found.round, body.text, install);
          sendJson(res, 202, { accepted: true, roundId: found.round.id }, cors);
        } catch (e) {
          throw e instanceof RoundRefusal ? withHeaders(e, cors) : e;
        }
      },
    },
    {
      method: 'POST',
      path: '/v1/federated/{model}/rounds',
      async handle(req, res, { params }) {
        if (!checkWriteAccess(req, res, options.write, 'application/json')) return void req.resume();
        const body = await readBody(req, { maxBytes: 4096, timeoutMs: 10_000 });
        if (!body.ok) throw new RoundRefusalWithHeaders(body.status, body.code, body.error, {});
        let requested: unknown;
        try {
          requested = body.text.trim() === '' ? undefined : (JSON.parse(body.text) as { rounds?: unknown } | null)?.rounds;
        } catch {
          throw new RoundRefusalWithHeaders(400, 'INVALID_INPUT', 'the body is not JSON', {});
        }
        if (requested !== undefined && !(Number.isSafeInteger(requested) && (requested as number) >= 1 && (requested as number) <= 1000))
          throw new RoundRefusalWithHeaders(400, 'INVALID_INPUT', 'rounds must be an integer within 1..1000', {}, '$.rounds');
        if (!jobs) throw new RoundRefusalWithHeaders(503, 'NOT_READY', 'the retraining jobs are not started yet', {});
        const config = Object.hasOwn(jobs.config.models, params.model) ? jobs.config.models[params.model] : undefined;
        if (!config)
          throw new RoundRefusalWithHeaders(
            404,
            'UNKNOWN_MODEL',
            `no retraining configured for ${JSON.stringify(params.model)} (config/retrain.json)`,
            {},
          );
        if (config.mode !== 'federated')
          throw new RoundRefusalWithHeaders(
            409,
            'NOT_FEDERATED',
            `${params.model} retrains from samples (config/retrain.json mode "${config.mode}"); use POST /v1/jobs`,
            {},
          );
        try {
          const { job } = await jobs.start(params.model, 'manual', { rounds: requested as number | undefined });
          sendJson(res, 202, { job });
        } catch (e) {
          const { status, code } = e as { status?: unknown; code?: unknown };
          if (typeof status === 'number' && typeof code === 'string')
            throw new RoundRefusalWithHeaders(status, code, (e as Error).message, {});
          throw e;
        }
      },
    },
    {
      method: 'GET',
      path: '/v1/federated/{model}/rounds',
      async handle(req, res, { params, url }) {
        if (!checkReadAccess(req, res, url, options.read)) return;
        const jobId = url.searchParams.get('job');
        if (jobId === null || !/^[A-Za-z0-9-]{1,64}$/.test(jobId))
          throw new RoundRefusalWithHeaders(400, 'INVALID_INPUT', 'job=<job id> is required', {}, '$.job');
        const list = await options.store.listRounds(jobId);
        const withCounts = await Promise.all(
          list
            .filter((r) => r.modelId === params.model)
            .map(async (r) => ({ ...r, updates: r.state === 'open' ? await options.store.countUpdates(r.id) : undefined })),
        );
        sendJson(res, 200, { job: jobId, rounds: withCounts });
      },
    },
  ];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://federated.invalid');
    } catch {
      return false;
    }
    if (!url.pathname.startsWith(PREFIX)) return false;
    try {
      const matched = routes.map((r) => ({ route: r, params: match(r.path, url.pathname) })).filter((m) => m.params !== undefined);
      if (matched.length === 0) throw new RoundRefusalWithHeaders(404, 'NOT_FOUND', 'no such federated endpoint', {});
      const route = matched.find((m) => m.route.method === req.method);
      if (!route) {
        const allow = matched.map((m) => m.route.method).join(', ');
        throw new RoundRefusalWithHeaders(405, 'METHOD_NOT_ALLOWED', `use ${allow}`, { allow });
      }
      if (!MODEL_ID.test(route.params!.model))
        throw new RoundRefusalWithHeaders(400, 'INVALID_INPUT', `model id must match ${MODEL_ID}`, {});
      await route.route.handle(req, res, { params: route.params!, url });
    } catch (e) {
      if (!req.readableEnded) req.resume();
      if (e instanceof RoundRefusalWithHeaders) sendJson(res, e.status, { error: e.message, code: e.code, path: e.path }, e.headers);
      else {
        options.log?.(`federated: ${req.method} ${url.pathname} failed: ${(e as Error).stack ?? e}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error', code: 'INTERNAL', path: '$' });
        else res.destroy();
      }
    }
    return true;
  }

  return {
    handle,
    /** The retraining jobs that run federated jobs (created after this control: they need its runner). */
    attachJobs(j: FederatedJobs): void {
      jobs = j;
    },
  };
}

class RoundRefusalWithHeaders extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string>,
    readonly path = '$',
  ) {
    super(message);
  }
}

function withHeaders(e: RoundRefusal, headers: Record<string, string>): RoundRefusalWithHeaders {
  return new RoundRefusalWithHeaders(e.status, e.code, e.message, headers, e.path);
}

/** The `{name}` segments of `pathname` when it matches `pattern`. */
function match(pattern: string, pathname: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = pathname.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith('{')) {
      if (got[i] === '') return undefined;
      try {
        params[want[i].slice(1, -1)] = decodeURIComponent(got[i]);
      } catch {
        return undefined;
      }
    } else if (want[i] !== got[i]) return undefined;
  }
  return params;
}
