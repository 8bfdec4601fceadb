import type { IncomingMessage } from 'node:http';
import { MAX_HEAD_WEIGHTS, maxUpdateBytes } from '../core/schema/FederatedRound';
import { corsHeaders, PREFLIGHT_HEADERS, type OriginPolicy } from '../http/corsHeaders';
import { HttpError } from '../http/HttpError';
import { readBodyText } from '../http/readBodyText';
import { readJsonBody } from '../http/readJsonBody';
import type { Route } from '../http/Route';
import { sendJson } from '../http/sendJson';
import type { TokenBucketLimiter } from '../http/TokenBucketLimiter';
import { INSTALL_ID, MODEL_ID } from '../releases/releaseIds';
import { ownValue } from '../core/ownValue';
import type { Job } from '../retrain/JobStore';
import type { RetrainConfig } from '../retrain/retrainConfig';
import type { FederatedRounds } from './FederatedRounds';
import type { RoundStore } from './RoundStore';

/** What the rounds endpoints need of the retraining jobs (RetrainJobs). */
export interface FederatedJobs {
  readonly config: RetrainConfig;
  start(modelId: string, trigger: 'manual', overrides: { rounds?: number }): Promise<{ job: Job }>;
}

export interface FederatedRouteOptions {
  rounds: FederatedRounds;
  store: RoundStore;
  /** The collector's site keys: a client's requests carry one as `?key=`. */
  siteKeys: ReadonlySet<string>;
  /** The collector's allowed origins (CORS). */
  origins: OriginPolicy;
  /** Round requests (offers and updates) per install. */
  limiter: TokenBucketLimiter;
  /** The retraining jobs, once they exist (they are created after this: they need its job runner). */
  jobs: () => FederatedJobs | undefined;
  now: () => number;
}

const ROUNDS = '/v1/federated/{model}/rounds';
const UPDATES = '/v1/federated/{model}/rounds/{roundId}/updates';

/** Everything under /v1/federated/ is the rounds' (an unknown path there is their 404). */
export function federatedOwn(pathname: string): boolean {
  return pathname.startsWith('/v1/federated/');
}

/** Checks of the `{model}` segment, answered 400 before anything else. */
export const FEDERATED_PARAMS = {
  model: (id: string) => (MODEL_ID.test(id) ? undefined : `model id ${JSON.stringify(id)} must match ${MODEL_ID}`),
};

/**
 * The federated rounds over HTTP (docs/retraining.md, "Federated mode"):
 * - `GET /v1/federated/{model}/round?install=&key=`: the round this install may answer (200 offer, or 204);
 * - `POST /v1/federated/{model}/rounds/{roundId}/updates?install=&key=`: a client's update or evaluation, once per install;
 * - `POST /v1/federated/{model}/rounds` (write, `{ "rounds"?: n }`): start a federated job of the model;
 * - `GET /v1/federated/{model}/rounds?job=` (read): a job's rounds with their figures.
 * Browsers reach the first two from any allowed origin (CORS like `/v1/events`), with a site key, at most
 * `limiter`'s rate per install; every refusal is an HttpError with a stable code.
 */
export function federatedRoutes(o: FederatedRouteOptions): Route[] {
  /** A client request's checks: origin, site key, install id, rate. Returns the CORS headers to answer with. */
  function admitClient(req: IncomingMessage, url: URL): { cors: Record<string, string>; install: string } {
    const cors = corsHeaders(req.headers.origin, o.origins);
    if (!cors) throw new HttpError(403, 'ORIGIN_NOT_ALLOWED', 'origin not allowed');
    const refuse = (status: number, code: string, message: string, path: string, headers: Record<string, string> = {}) =>
      new HttpError(status, code, message, { path, headers: { ...cors, ...headers } });
    const key = url.searchParams.get('key');
    if (key === null || !o.siteKeys.has(key))
      throw refuse(403, 'UNKNOWN_SITE_KEY', key === null ? 'site key required (?key=)' : 'unknown site key', '$.key');
    const install = url.searchParams.get('install') ?? '';
    if (!INSTALL_ID.test(install)) throw refuse(400, 'INVALID_INPUT', `install must match ${INSTALL_ID}`, '$.install');
    const taken = o.limiter.take(install, o.now());
    if (!taken.ok)
      throw refuse(429, 'RATE_LIMITED', 'too many round requests from this install', '$', {
        'retry-after': String(taken.retryAfterSeconds),
        'access-control-expose-headers': 'Retry-After',
      });
    return { cors, install };
  }

  /** A refusal of the rounds carries the CORS headers, so the page can read its code. */
  const withCors = async <T>(cors: Record<string, string>, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (e) {
      if (e instanceof HttpError) throw new HttpError(e.status, e.code, e.message, { path: e.path, headers: { ...cors, ...e.headers } });
      throw e;
    }
  };

  return [
    {
      path: '/v1/federated/{model}/round',
      methods: ['GET'],
      access: 'ingest',
      handle: async (req, res, { url, params }) => {
        const { cors, install } = admitClient(req, url);
        const offer = await o.rounds.offerFor(params.model, install);
        if (!offer) {
          res.writeHead(204, { ...cors, 'cache-control': 'no-store' });
          res.end();
          return;
        }
        sendJson(res, 200, offer, { ...cors, 'cache-control': 'no-store' });
      },
    },
    {
      path: UPDATES,
      methods: ['OPTIONS'],
      access: 'ingest',
      handle: (req, res) => {
        const cors = corsHeaders(req.headers.origin, o.origins);
        if (!cors) throw new HttpError(403, 'ORIGIN_NOT_ALLOWED', 'origin not allowed');
        res.writeHead(204, { ...cors, ...PREFLIGHT_HEADERS, 'content-length': '0' });
        res.end();
      },
    },
    {
      path: UPDATES,
      methods: ['POST'],
      access: 'ingest',
      // The largest head's update; each round reads with its own head's bound (maxUpdateBytes).
      maxBodyBytes: maxUpdateBytes(MAX_HEAD_WEIGHTS, 1),
      bodyTimeoutMs: 30_000,
      handle: async (req, res, { url, params }) => {
        const { cors, install } = admitClient(req, url);
        await withCors(cors, async () => {
          const { round, maxBytes } = await o.rounds.roundForUpdate(params.model, params.roundId);
          const text = await readBodyText(req, { maxBytes, timeoutMs: 30_000 });
          await o.rounds.acceptUpdate(round, text, install);
          sendJson(res, 202, { accepted: true, roundId: round.id }, cors);
        });
      },
    },
    {
      path: ROUNDS,
      methods: ['POST'],
      access: 'write',
      bodyType: 'application/json',
      handle: async (req, res, { params }) => {
        const { rounds } = await readJsonBody(req, { emptyIsObject: true });
        if (rounds !== undefined && !(Number.isSafeInteger(rounds) && (rounds as number) >= 1 && (rounds as number) <= 1000))
          throw new HttpError(400, 'INVALID_INPUT', 'rounds must be an integer within 1..1000', { path: '$.rounds' });
        const jobs = o.jobs();
        if (!jobs) throw new HttpError(503, 'NOT_READY', 'the retraining jobs are not started yet');
        const config = ownValue(jobs.config.models, params.model);
        if (!config)
          throw new HttpError(404, 'UNKNOWN_MODEL', `no retraining configured for ${JSON.stringify(params.model)} (config/retrain.json)`);
        if (config.mode !== 'federated')
          throw new HttpError(
            409,
            'NOT_FEDERATED',
            `${params.model} retrains from samples (config/retrain.json mode "${config.mode}"); use POST /v1/jobs`,
          );
        const { job } = await jobs.start(params.model, 'manual', { rounds: rounds as number | undefined });
        sendJson(res, 202, { job });
      },
    },
    {
      path: ROUNDS,
      methods: ['GET', 'HEAD'],
      access: 'read',
      handle: async (_req, res, { url, params }) => {
        const jobId = url.searchParams.get('job');
        if (jobId === null || !/^[A-Za-z0-9-]{1,64}$/.test(jobId))
          throw new HttpError(400, 'INVALID_INPUT', 'job=<job id> is required', { path: '$.job' });
        const list = (await o.store.listRounds(jobId)).filter((r) => r.modelId === params.model);
        const rounds = await Promise.all(
          list.map(async (r) => ({ ...r, updates: r.state === 'open' ? await o.store.countUpdates(r.id) : undefined })),
        );
        sendJson(res, 200, { job: jobId, rounds });
      },
    },
  ];
}
