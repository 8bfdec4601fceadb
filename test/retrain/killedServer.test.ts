// kill -9 of `npm start` while a retraining job runs (a real SIGKILL, like test/collector/durability.test.ts):
// the next server fails the job once its lease has lapsed (reason: the server stopped), raises the job-failed
// alert, and kills the trainer's process group (the trainer and the process it started), which outlived the
// server it belonged to.
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { postEvents } from '../collector/startCollector';
import { waitFor } from '../helpers/waitFor';
import { spawnServer, type SpawnedServer } from '../helpers/spawnServer';

const dir = mkdtempSync(path.join(tmpdir(), 'ondevice-retrain-kill-'));
const pidsFile = path.join(dir, 'pids.json');
const LEASE_MS = 3000;
let server: SpawnedServer | undefined;
let pids: { trainer: number; child: number } | undefined;

/** Alive and not a zombie (a killed orphan waits for init to reap it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function start(): Promise<SpawnedServer> {
  return spawnServer(process.execPath, ['--import', 'tsx', 'src/start/main.ts'], {
    env: {
      COLLECTOR_DB_PATH: path.join(dir, 'collector.sqlite'),
      COLLECTOR_RATE_LIMIT_PER_SECOND: '0',
      COLLECTOR_INSTALL_EVENTS_PER_MINUTE: '0',
      COLLECTOR_INSTALL_SAMPLES_PER_MINUTE: '0',
      ONDEVICE_RETRAIN_CONFIG: path.join(dir, 'retrain.json'),
      ONDEVICE_RETRAIN_LEASE_MS: String(LEASE_MS),
    },
  });
}

afterAll(async () => {
  await server?.stop();
  // Never leave a trainer behind (this test's first, or the one the last job started), whatever failed above.
  const last = existsSync(pidsFile) ? (JSON.parse(readFileSync(pidsFile, 'utf8')) as typeof pids) : undefined;
  for (const pid of [pids?.trainer, pids?.child, last?.trainer, last?.child])
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('kill -9 during a retraining job', () => {
  it('the next server fails the job, raises its alert and kills the trainer process group it left', async () => {
    writeFileSync(path.join(dir, 'base.jsonl'), '');
    writeFileSync(
      path.join(dir, 'retrain.json'),
      JSON.stringify({
        models: {
          hang: {
            trainer: [process.execPath, 'test/retrain/hangingTrainer.mjs', '--pids', pidsFile],
            evaluator: { file: path.join(dir, 'base.jsonl') },
            minFieldSamples: 1,
            heldBackFraction: 0.5,
            cooldownMs: 0,
            triggers: { accuracyAlert: false },
          },
        },
      }),
    );
    server = await start();
    const published = await fetch(`${server.url}/v1/releases/hang/1`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: readFileSync('public/models/tiny-mlp.onnx'),
    });
    expect(published.status).toBe(201);
    const samples = Array.from({ length: 6 }, (_, i) => ({
      type: 'sample',
      id: randomUUID(),
      ts: Date.now(),
      installId: `install-${i}`,
      sessionId: 'session-1',
      modelId: 'hang',
      modelVersion: '1',
      predictionId: randomUUID(),
      label: i % 2,
      inputs: { x: { type: 'float32', dims: [1, 16], data: new Array(16).fill(i / 10) } },
    }));
    expect((await postEvents(server.url, { siteKey: 'demo', events: samples })).status).toBe(200);

    const startedJob = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'hang' }),
    });
    expect(startedJob.status).toBe(202);
    const { job } = (await startedJob.json()) as { job: { id: string } };
    pids = await waitFor(
      'the trainer and its child to start',
      async () => (existsSync(pidsFile) ? (JSON.parse(readFileSync(pidsFile, 'utf8')) as { trainer: number; child: number }) : undefined),
      { timeoutMs: 60_000 },
    );
    // The trainer's process group is on the job before anything can kill the server.
    await waitFor(
      'the recorded trainer process group',
      async () => {
        const db = new Database(path.join(dir, 'collector.sqlite'), { readonly: true, fileMustExist: true });
        try {
          const row = db.prepare('SELECT trainer FROM retrain_jobs WHERE id = ?').get(job.id) as { trainer: string | null };
          return row.trainer ? (JSON.parse(row.trainer) as { pgid: number }) : undefined;
        } finally {
          db.close();
        }
      },
      { timeoutMs: 10_000 },
    ).then((trainer) => expect(trainer.pgid).toBe(pids!.trainer));

    await server.kill();
    expect(server.process.signalCode).toBe('SIGKILL');
    // What the crash leaves: both processes still run, parentless.
    expect([alive(pids.trainer), alive(pids.child)]).toEqual([true, true]);

    server = await start();
    const failed = await waitFor(
      'the abandoned job to be failed',
      async () => {
        const { job: now } = (await (await fetch(`${server!.url}/v1/jobs/${job.id}`)).json()) as {
          job: { state: string; reason: string | null; logTail: string; trainer?: unknown };
        };
        return now.state === 'failed' ? now : undefined;
      },
      { timeoutMs: LEASE_MS + 20_000 },
    );
    expect(failed.reason).toMatch(/the server stopped while the job ran/);
    expect(failed.reason).toMatch(new RegExp(`process group ${pids.trainer}\\) was still running and was killed`));
    expect(failed.logTail).toContain(failed.reason);
    expect(failed.trainer).toBeUndefined(); // where it ran stays on the server
    await waitFor('the trainer group to die', async () => (!alive(pids!.trainer) && !alive(pids!.child) ? true : undefined), {
      timeoutMs: 10_000,
    });
    // The alert is raised beside the job's update, asynchronously: wait for it, bounded.
    const firing = await waitFor(
      'the retrain-job-failed alert',
      async () => {
        const alerts = (await (await fetch(`${server!.url}/v1/alerts`)).json()) as {
          firing: { rule: string; labels: Record<string, string> }[];
        };
        const raised = alerts.firing.filter((a) => a.rule === 'retrain-job-failed');
        return raised.length > 0 ? raised : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(firing.map((a) => a.labels)).toEqual([{ model: 'hang' }]);
    // The lock is free again: the next job starts.
    const next = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'hang' }),
    });
    expect(next.status).toBe(202);
  });
});
