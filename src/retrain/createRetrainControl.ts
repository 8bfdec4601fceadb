import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxSettings } from '../sandbox';
import { accessPolicy } from '../http/accessPolicy';
import { routeRequest, type RouteTable } from '../http/routeRequest';
import { jobRoutes, jobsOwn } from './jobRoutes';
import type { JobStore } from './JobStore';
import { RetrainJobs } from './RetrainJobs';
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

/**
 * Retraining jobs over HTTP: `GET /v1/jobs` (history), `GET /v1/jobs/{id}` (one, with its log tail),
 * `POST /v1/jobs {"model": id}` (start one by hand; write-gated like publishing). Triggers call
 * `jobs.trigger(model, why)`.
 */
export function createRetrainControl(options: RetrainControlOptions): RetrainControl {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
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

  const table: RouteTable = {
    name: 'retrain',
    routes: jobRoutes(jobs, options.store, options.config),
    owns: jobsOwn,
    access: accessPolicy(options),
    log,
  };
  return { jobs, handle: (req, res) => routeRequest(table, req, res), close: () => jobs.close() };
}
