import { HttpError } from '../http/HttpError';
import { readJsonBody } from '../http/readJsonBody';
import type { Route } from '../http/Route';
import { sendJson } from '../http/sendJson';
import type { JobStore } from './JobStore';
import type { RetrainConfig } from './retrainConfig';
import type { RetrainJobs } from './RetrainJobs';

const READ = ['GET', 'HEAD'] as const;
const JOB_ID = /^[A-Za-z0-9-]{1,64}$/;

/** `/v1/jobs` and everything below it are the jobs' (an unknown path there is their 404). */
export function jobsOwn(pathname: string): boolean {
  return pathname === '/v1/jobs' || pathname.startsWith('/v1/jobs/');
}

/**
 * `GET /v1/jobs` (history), `GET /v1/jobs/{id}` (one, with its log tail), `POST /v1/jobs {"model": id}`
 * (start one by hand; write-gated like publishing).
 */
export function jobRoutes(jobs: RetrainJobs, store: JobStore, config: RetrainConfig): Route[] {
  return ['/v1/jobs', '/v1/jobs/']
    .flatMap((path): Route[] => [
      {
        path,
        methods: READ,
        access: 'read',
        handle: async (_req, res, { url }) => {
          const limit = Math.min(500, Math.max(1, Number(url.searchParams.get('limit')) || 50));
          const model = url.searchParams.get('model') ?? undefined;
          const list = await store.list({ modelId: model, limit });
          // The list leaves the log tails out (up to 16 KiB each); GET /v1/jobs/{id} has it.
          sendJson(res, 200, { jobs: list.map(({ logTail: _logTail, ...j }) => j), models: Object.keys(config.models) });
        },
      },
      {
        path,
        methods: ['POST'],
        access: 'write',
        bodyType: 'application/json',
        handle: async (req, res) => {
          const { model } = await readJsonBody(req);
          if (typeof model !== 'string') throw new HttpError(400, 'INVALID_INPUT', 'expected {"model": "<id>"}', { path: '$.model' });
          const { job } = await jobs.start(model, 'manual');
          sendJson(res, 202, { job });
        },
      },
    ])
    .concat({
      path: '/v1/jobs/',
      prefix: true,
      methods: READ,
      access: 'read',
      handle: async (_req, res, { rest: id }) => {
        const job = JOB_ID.test(id) ? await store.get(id) : undefined;
        if (!job) throw new HttpError(404, 'NOT_FOUND', `no job ${JSON.stringify(id.slice(0, 64))}`);
        sendJson(res, 200, { job });
      },
    });
}
