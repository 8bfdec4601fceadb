import { OnDeviceError } from '../core/OnDeviceError';
import type { Job } from '../retrain/JobStore';
import type { JobOutcome } from '../retrain/runRetrainJob';
import { checkServerRoute } from './checkServerRoute';

/** What the CLI prints a job by. */
export type JobSummary = Pick<JobOutcome, 'state' | 'reason' | 'metrics' | 'resultVersion' | 'baseVersion'>;

/**
 * POST `body` to `path` on the server to start a job (retraining or federated): the job (202), or, when the
 * server refused, a failed outcome with its code and message. A server without the route says so in one line
 * (checkServerRoute probes `probe`); a server that cannot be reached is MODEL_FETCH_FAILED.
 */
export async function startServerJob(
  server: string,
  path: string,
  body: unknown,
  o: { adminToken?: string; probe: { path: string; what: string } },
): Promise<{ job: Job } | { refused: JobSummary }> {
  const started = await fetch(`${server}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(o.adminToken ? { authorization: `Bearer ${o.adminToken}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  }).catch((e: Error) => {
    throw new OnDeviceError('MODEL_FETCH_FAILED', `POST ${server}${path}: ${(e.cause as Error | undefined)?.message ?? e.message}`);
  });
  const answer = (await started.json().catch(() => ({}))) as { job?: Job; code?: string; error?: string };
  if (started.status === 404 && (answer.code === 'NOT_FOUND' || answer.code === undefined))
    await checkServerRoute(server, o.probe.path, o.probe.what);
  if (started.status === 202 && answer.job) return { job: answer.job };
  return {
    refused: {
      state: 'failed',
      reason: `${answer.code ?? `HTTP ${started.status}`}: ${answer.error ?? ''}`,
      metrics: null,
      resultVersion: null,
      baseVersion: null,
    },
  };
}
