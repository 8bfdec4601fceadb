import { OnDeviceError } from '../core/OnDeviceError';
import { ownValue } from '../core/ownValue';
import { httpPorts } from '../retrain/httpPorts';
import type { Job } from '../retrain/JobStore';
import { loadRetrainConfig } from '../retrain/retrainConfig';
import { runRetrainJob } from '../retrain/runRetrainJob';
import { sandboxSettingsFromEnv } from '../sandbox';
import { checkServerRoute } from './checkServerRoute';
import { runFederatedOnServer } from './runFederatedOnServer';
import { startServerJob, type JobSummary } from './startServerJob';
import { parseArgs } from './parseArgs';
import { UsageError } from './UsageError';

export const RETRAIN_USAGE = `  ondevice retrain --model <id> [--server URL] [--token T] [--config config/retrain.json] [--on-server]
    runs one retraining job here against the server's dataset export and publishes through its release API
    (--on-server: the server runs it, POST /v1/jobs); --token or $COLLECTOR_READ_TOKEN for the read side,
    $ONDEVICE_ADMIN_TOKEN for publishing. Exit 0 published, 3 refused by the gate, 1 failed.
  ondevice retrain --model <id> --federated [--rounds N] [--server URL] [--token T]
    runs one federated job on the server (POST /v1/federated/{model}/rounds): the clients train and evaluate on
    their own examples; prints each round (clients, examples, update norm, field accuracy) and the gate figures.`;

const POLL_MS = 1000;
const WAIT_MS = 2 * 60 * 60_000;

/** `ondevice retrain`: prints the gate decision with its figures; returns the exit code. */
export async function runRetrain(args: string[], env: NodeJS.ProcessEnv = process.env, print = console.log): Promise<number> {
  const values = parseArgs(args, {
    model: { type: 'string' },
    server: { type: 'string' },
    token: { type: 'string' },
    config: { type: 'string' },
    'on-server': { type: 'boolean' },
    federated: { type: 'boolean' },
    rounds: { type: 'string' },
  });
  const o = values as {
    model?: string;
    server?: string;
    token?: string;
    config?: string;
    'on-server'?: boolean;
    federated?: boolean;
    rounds?: string;
  };
  if (!o.model) throw new UsageError('retrain needs --model <id>');
  if (o.rounds !== undefined && !o.federated) throw new UsageError('--rounds goes with --federated');
  const rounds = o.rounds === undefined ? undefined : Number(o.rounds);
  if (rounds !== undefined && !(Number.isSafeInteger(rounds) && rounds >= 1 && rounds <= 1000))
    throw new UsageError(`--rounds must be an integer within 1..1000, got ${JSON.stringify(o.rounds)}`);
  const server = (o.server ?? env.ONDEVICE_SERVER ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const readToken = o.token ?? env.COLLECTOR_READ_TOKEN;
  const adminToken = env.ONDEVICE_ADMIN_TOKEN;

  let outcome: JobSummary;
  if (o.federated) {
    outcome = await runFederatedOnServer(server, o.model, { rounds, readToken, adminToken }, print);
  } else if (o['on-server']) {
    outcome = await runOnServer(server, o.model, { readToken, adminToken }, print);
  } else {
    const config = ownValue((await loadRetrainConfig(o.config, env)).models, o.model);
    if (!config)
      throw new OnDeviceError(
        'INVALID_INPUT',
        `no retraining configured for ${JSON.stringify(o.model)} in ${o.config ?? 'config/retrain.json'}`,
      );
    const sandbox = sandboxSettingsFromEnv(env);
    // The job reads the dataset export and publishes through the release API: say at once when the server has neither.
    await checkServerRoute(server, '/v1/releases', 'release API');
    outcome = await runRetrainJob({
      jobId: `cli-${Date.now().toString(36)}`,
      modelId: o.model,
      config,
      ports: httpPorts({ server, readToken, adminToken, sandbox }),
      log: (line) => print(line),
      sandbox,
    });
  }
  print(summaryOf(o.model, outcome));
  return outcome.state === 'succeeded' ? 0 : outcome.state === 'refused' ? 3 : 1;
}

function summaryOf(model: string, o: JobSummary): string {
  const m = o.metrics as {
    baseAccuracy?: { current: number; candidate: number; count: number };
    fieldAccuracy?: { current: number; candidate: number; count: number };
    privacy?: { epsilon: number; delta: number; noiseMultiplier: number } | null;
  } | null;
  const lines = [`retrain ${model}: ${o.state}${o.reason ? ` (${o.reason})` : ''}`];
  if (m?.baseAccuracy && m.fieldAccuracy) {
    lines.push(
      `  base set:       ${o.baseVersion} ${m.baseAccuracy.current.toFixed(2)} %  candidate ${m.baseAccuracy.candidate.toFixed(2)} %  (${m.baseAccuracy.count} samples)`,
    );
    lines.push(
      `  held-back field: ${o.baseVersion} ${m.fieldAccuracy.current.toFixed(2)} %  candidate ${m.fieldAccuracy.candidate.toFixed(2)} %  (${m.fieldAccuracy.count} samples)`,
    );
  }
  if (m?.privacy)
    lines.push(`  privacy:        (ε = ${m.privacy.epsilon}, δ = ${m.privacy.delta}), noise multiplier ${m.privacy.noiseMultiplier}`);
  if (o.resultVersion) lines.push(`  published ${model} ${o.resultVersion}`);
  return lines.join('\n');
}

async function runOnServer(
  server: string,
  model: string,
  tokens: { readToken?: string; adminToken?: string },
  print: (line: string) => void,
): Promise<JobSummary> {
  const started = await startServerJob(
    server,
    '/v1/jobs',
    { model },
    {
      adminToken: tokens.adminToken,
      probe: { path: '/v1/jobs', what: 'retraining API' },
    },
  );
  if ('refused' in started) return started.refused;
  print(`job ${started.job.id} started on ${server}`);
  const read: Record<string, string> = tokens.readToken ? { authorization: `Bearer ${tokens.readToken}` } : {};
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const res = await fetch(`${server}/v1/jobs/${started.job.id}`, { headers: read, signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new OnDeviceError('MODEL_FETCH_FAILED', `GET /v1/jobs/${started.job.id} → ${res.status}`);
    const { job } = (await res.json()) as { job: Job };
    if (job.state !== 'queued' && job.state !== 'running') {
      print(job.logTail.trimEnd());
      return { ...job, state: job.state };
    }
  }
  throw new OnDeviceError(
    'TIMEOUT',
    `job ${started.job.id} did not finish within ${WAIT_MS} ms (it goes on on the server: GET /v1/jobs/${started.job.id})`,
  );
}
