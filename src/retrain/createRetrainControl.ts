import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxSettings } from '../sandbox';
import { LOOPBACK_HOST_NAMES } from '../http/hostAllowed';
import { isLoopbackHost } from '../http/isLoopbackHost';
import { readBody } from '../http/readBody';
import { sendJson } from '../http/sendJson';
import { checkReadAccess, checkWriteAccess, type ReadAccessPolicy } from '../http/checkWriteAccess';
import type { JobStore } from './JobStore';
import { JobRefusal, RetrainJobs } from './RetrainJobs';
import type { RetrainConfig } from './retrainConfig';
import type { RetrainPorts } from './runRetrainJob';

/** The alert a failed job raises (and the next job of the model that does not fail resolves). */
export const JOB_FAILED_ALERT = 'retrain-job-failed';

export interface RetrainControlOptions {
  config: RetrainConfig;
  store: JobStore;
  ports: RetrainPorts;
  /** Same policy as the release control plane: off loopback, writes need `adminToken` and reads `readToken`. */
  listenHost?: string;
  adminToken?: string;
  readToken?: string;
  requireReadToken?: boolean;
  allowedHosts?: string[];
  /** Raise / resolve the job-failed alert (the collector's raiseAlert / clearAlert). */
  raiseAlert?: (a: { rule: string; labels: Record<string, string>; value: number; description: string }) => Promise<unknown>;
  clearAlert?: (rule: string, labels: Record<string, string>, value: number) => Promise<unknown>;
  lockLeaseMs?: number;
  cwd?: string;
  /** Limits of the sandbox processes that evaluate candidates. Default DEFAULT_SANDBOX_SETTINGS. */
  sandbox?: SandboxSettings;
  log?: (line: string) => void;
  now?: () => number;
}

export interface RetrainControl {
  /** Serve `/v1/jobs` and `/v1/jobs/{id}`; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  jobs: RetrainJobs;
  close(): Promise<void>;
}

const READ = ['GET', 'HEAD'];
const JOB_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * Retraining jobs over HTTP: `GET /v1/jobs` (history), `GET /v1/jobs/{id}` (one, with its log tail),
 * `POST /v1/jobs {"model": id}` (start one by hand; write-gated like publishing). Triggers call
 * `jobs.trigger(model, why)`.
 */
export function createRetrainControl(options: RetrainControlOptions): RetrainControl {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const loopback = options.listenHost === undefined || isLoopbackHost(options.listenHost);
  const openHosts = new Set([...LOOPBACK_HOST_NAMES, ...(options.allowedHosts ?? []).map((h) => h.trim().toLowerCase())]);
  const readRequired = options.requireReadToken ?? !loopback;
  const jobs = new RetrainJobs({
    config: options.config,
    store: options.store,
    ports: options.ports,
    lockLeaseMs: options.lockLeaseMs,
    cwd: options.cwd,
    sandbox: options.sandbox,
    log,
    now: options.now,
    onFailed: (job) =>
      void options
        .raiseAlert?.({
          rule: JOB_FAILED_ALERT,
          labels: { model: job.modelId },
          value: 1,
          description: `retraining job ${job.id} failed: ${job.reason ?? ''}`.slice(0, 500),
        })
        .catch((e: Error) => log(`retrain: raising the alert failed: ${e.message}`)),
    onRecovered: (job) =>
      void options
        .clearAlert?.(JOB_FAILED_ALERT, { model: job.modelId }, 0)
        .catch((e: Error) => log(`retrain: resolving the alert failed: ${e.message}`)),
  });

  const read: ReadAccessPolicy = { required: readRequired, token: options.readToken || undefined, openHosts };
  const readAllowed = (req: IncomingMessage, res: ServerResponse, url: URL): boolean => checkReadAccess(req, res, url, read);

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const method = req.method ?? 'GET';
    if (url.pathname === '/v1/jobs' || url.pathname === '/v1/jobs/') {
      if (method === 'POST') {
        if (!checkWriteAccess(req, res, { adminToken: options.adminToken || undefined, loopback, openHosts }, 'application/json')) {
          req.resume();
          return true;
        }
        const body = await readBody(req, { maxBytes: 4096, timeoutMs: 10_000 });
        if (!body.ok) return refuse(res, body.status, body.code, body.error);
        let model: unknown;
        try {
          model = (JSON.parse(body.text) as { model?: unknown } | null)?.model;
        } catch {
          return refuse(res, 400, 'INVALID_INPUT', 'body is not JSON');
        }
        if (typeof model !== 'string') return refuse(res, 400, 'INVALID_INPUT', 'expected {"model": "<id>"}', '$.model');
        try {
          const { job } = await jobs.start(model, 'manual');
          sendJson(res, 202, { job });
        } catch (e) {
          if (!(e instanceof JobRefusal)) throw e;
          sendJson(res, e.status, { error: e.message, code: e.code, path: '$' });
        }
        return true;
      }
      if (!allow(res, method, [...READ, 'POST'])) return true;
      if (!readAllowed(req, res, url)) return true;
      const limit = Math.min(500, Math.max(1, Number(url.searchParams.get('limit')) || 50));
      const model = url.searchParams.get('model') ?? undefined;
      const list = await options.store.list({ modelId: model, limit });
      // The list leaves the log tails out (up to 16 KiB each); GET /v1/jobs/{id} has it.
      sendJson(res, 200, { jobs: list.map(({ logTail: _logTail, ...j }) => j), models: Object.keys(options.config.models) });
      return true;
    }
    if (!url.pathname.startsWith('/v1/jobs/')) return false;
    if (!allow(res, method, READ)) return true;
    if (!readAllowed(req, res, url)) return true;
    const id = url.pathname.slice('/v1/jobs/'.length);
    const job = JOB_ID.test(id) ? await options.store.get(id) : undefined;
    if (!job) sendJson(res, 404, { error: `no job ${JSON.stringify(id.slice(0, 64))}`, code: 'NOT_FOUND', path: '$' });
    else sendJson(res, 200, { job });
    return true;
  }

  return {
    jobs,
    async handle(req, res) {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://jobs.invalid');
      } catch {
        return false;
      }
      if (url.pathname !== '/v1/jobs' && !url.pathname.startsWith('/v1/jobs/')) return false;
      try {
        return await route(req, res, url);
      } catch (e) {
        log(`retrain: ${req.method} ${url.pathname} failed: ${(e as Error).stack ?? e}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error', code: 'INTERNAL', path: '$' });
        else res.destroy();
        return true;
      }
    },
    close: () => jobs.close(),
  };
}

function refuse(res: ServerResponse, status: number, code: string, error: string, path = '$'): true {
  sendJson(res, status, { error, code, path });
  return true;
}

function allow(res: ServerResponse, method: string, methods: string[]): boolean {
  if (methods.includes(method)) return true;
  sendJson(res, 405, { error: `use ${methods.join(', ')}`, code: 'METHOD_NOT_ALLOWED', path: '$' }, { allow: methods.join(', ') });
  return false;
}
