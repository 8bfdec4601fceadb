import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxSettings } from '../sandbox';
import { accessPolicy, type AccessOptions } from '../http/accessPolicy';
import { routeRequest, type RouteTable } from '../http/routeRequest';
import { jobRoutes, jobsOwn } from './jobRoutes';
import type { JobStore } from './JobStore';
import { RetrainJobs, type RetrainJobsOptions } from './RetrainJobs';
import type { RetrainConfig } from './retrainConfig';
import type { RetrainPorts } from './runRetrainJob';

/** The alert a failed job raises (and the next job of the model that does not fail resolves). */
export const JOB_FAILED_ALERT = 'retrain-job-failed';

/** Access (AccessOptions): the release control plane's policy, off loopback writes need `adminToken` and reads `readToken`. */
export interface RetrainControlOptions extends AccessOptions {
  config: RetrainConfig;
  store: JobStore;
  ports: RetrainPorts;
  /** Raise / resolve the job-failed alert (the collector's raiseAlert / clearAlert). */
  raiseAlert?: (a: { rule: string; labels: Record<string, string>; value: number; description: string }) => Promise<unknown>;
  clearAlert?: (rule: string, labels: Record<string, string>, value: number) => Promise<unknown>;
  lockLeaseMs?: number;
  /** Runs federated jobs (RetrainJobsOptions.runFederated). */
  runFederated?: RetrainJobsOptions['runFederated'];
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
    runFederated: options.runFederated,
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

  // Jobs a stopped server left running: failed (alert, trainer killed) once their lease has lapsed.
  jobs.recoverAbandoned();

  const table: RouteTable = {
    name: 'retrain',
    routes: jobRoutes(jobs, options.store, options.config),
    owns: jobsOwn,
    access: accessPolicy(options),
    log,
  };
  return { jobs, handle: (req, res) => routeRequest(table, req, res), close: () => jobs.close() };
}
