import { OnDeviceError } from '../core/OnDeviceError';
import type { Job } from '../retrain/JobStore';
import { startServerJob, type JobSummary } from './startServerJob';

const POLL_MS = 500;
const WAIT_MS = 2 * 60 * 60_000;

interface RoundRow {
  seq: number;
  kind: string;
  state: string;
  updates?: number;
  summary: {
    clients?: number;
    examples?: number;
    updateNorm?: number;
    medianClientNorm?: number;
    clipped?: number;
    trimmedPerSide?: number;
    fieldAccuracy?: number | null;
    fieldExamples?: number;
    closedBy?: string;
    current?: { correct: number; count: number };
    candidate?: { correct: number; count: number };
  } | null;
}

/**
 * `ondevice retrain --federated`: start a federated job on the server (POST /v1/federated/{model}/rounds; the
 * clients answer the server, so the job runs there), print each round as it closes (clients, examples, update
 * norm, field accuracy), then the job's end. Resolves with the job's outcome.
 */
export async function runFederatedOnServer(
  server: string,
  model: string,
  o: { rounds?: number; readToken?: string; adminToken?: string },
  print: (line: string) => void,
): Promise<JobSummary> {
  const started = await startServerJob(
    server,
    `/v1/federated/${encodeURIComponent(model)}/rounds`,
    o.rounds === undefined ? {} : { rounds: o.rounds },
    {
      adminToken: o.adminToken,
      probe: { path: `/v1/federated/${model}/round?install=cli`, what: 'federated rounds API' },
    },
  );
  if ('refused' in started) return started.refused;
  const jobId = started.job.id;
  print(`federated job ${jobId} started on ${server}: waiting for the clients' rounds`);
  const read: Record<string, string> = o.readToken ? { authorization: `Bearer ${o.readToken}` } : {};
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${server}${path}`, { headers: read, signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new OnDeviceError('MODEL_FETCH_FAILED', `GET ${path} → ${res.status}`);
    return (await res.json()) as T;
  };
  const printed = new Set<number>();
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const { rounds } = await get<{ rounds: RoundRow[] }>(`/v1/federated/${encodeURIComponent(model)}/rounds?job=${jobId}`);
    for (const r of rounds) {
      if (r.summary === null || printed.has(r.seq)) continue;
      printed.add(r.seq);
      print(roundLine(r));
    }
    const { job } = await get<{ job: Job }>(`/v1/jobs/${jobId}`);
    if (job.state !== 'queued' && job.state !== 'running') return { ...job, state: job.state };
  }
  throw new OnDeviceError('TIMEOUT', `job ${jobId} did not finish within ${WAIT_MS} ms (it goes on on the server: GET /v1/jobs/${jobId})`);
}

const pct = (correct: number, count: number) => (count ? `${((100 * correct) / count).toFixed(2)} %` : '–');

function roundLine(r: RoundRow): string {
  const s = r.summary!;
  if (r.kind === 'evaluate')
    return `  round ${r.seq} evaluate: ${s.clients} clients, ${s.examples} held-back examples, current ${pct(s.current?.correct ?? 0, s.current?.count ?? 0)}, candidate ${pct(s.candidate?.correct ?? 0, s.candidate?.count ?? 0)} (closed by ${s.closedBy})`;
  if (s.updateNorm === undefined) return `  round ${r.seq} ${r.kind}: ${s.clients} clients: too few, no candidate`;
  const field = s.fieldAccuracy === null || s.fieldAccuracy === undefined ? '–' : `${(s.fieldAccuracy * 100).toFixed(2)} %`;
  return `  round ${r.seq} train: ${s.clients} clients, ${s.examples} examples, update norm ${s.updateNorm} (median client ${s.medianClientNorm}, ${s.clipped} clipped, ${s.trimmedPerSide} trimmed per side), field accuracy ${field} on ${s.fieldExamples} held back (closed by ${s.closedBy})`;
}
