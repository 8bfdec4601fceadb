// Retraining inside `npm start` (a real server process): labelled samples and feedback through the real
// ingest endpoint, the accuracy alert starts a job by itself, /v1/jobs shows it, a failed job raises an
// alert, and the CLI runs a job against the server (a sabotaged trainer is refused, exit 3).
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/retrain/JobStore';
import { spawnServer, type SpawnedServer } from '../helpers/spawnServer';
import { postEvents, waitFor } from '../collector/startCollector';
import { launchChromium } from '../helpers/chromium';
import { inferenceEvent, feedbackEvent } from '../collector/makeEvents';
import { toySamples } from './toyDigits';
import type { FieldSample } from '../../src/retrain/FieldSample';

const TRAINER = [process.execPath, '--import', 'tsx', 'test/retrain/prototypeTrainer.ts'];

function ondevice(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['bin/ondevice.mjs', ...args],
      { env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// Sample event ids in send order: the dataset is ordered by (receive time, id), so random ids would shuffle the
// samples of one batch, and with them the held-back slice and what a trainer sees (the gate's figures would vary).
let sampleSeq = 0;

/** What the drifted population sends: a prediction, the user's correction, and the consented sample. */
function fieldEvents(s: FieldSample, predicted: number) {
  const common = { modelId: s.modelId, modelVersion: '1', installId: `install-${randomUUID()}` };
  const predictionId = randomUUID();
  return [
    inferenceEvent({ ...common, topClass: predicted, predictionId }),
    feedbackEvent({ ...common, predictionId, label: s.label as number }),
    {
      type: 'sample',
      id: `sample-${String(sampleSeq++).padStart(8, '0')}`,
      ts: Date.now(),
      sessionId: 'session-1',
      ...common,
      predictionId,
      label: s.label,
      predicted,
      inputs: s.inputs,
    },
  ];
}

async function send(url: string, events: unknown[]) {
  for (let i = 0; i < events.length; i += 24) {
    const r = await postEvents(url, { siteKey: 'demo', events: events.slice(i, i + 24) });
    expect(r.status, JSON.stringify(r)).toBe(200);
  }
}

describe('retraining in npm start (real server process, real ingest, real trainer)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ondevice-retrain-server-'));
  let server: SpawnedServer;

  beforeAll(async () => {
    writeFileSync(
      path.join(dir, 'base.jsonl'),
      toySamples({ start: 500, perClass: 50, drifted: false })
        .map((s) => `${JSON.stringify(s)}\n`)
        .join(''),
    );
    const model = (trainer: string[], extra: object = {}) => ({
      trainer,
      evaluator: { file: path.join(dir, 'base.jsonl') },
      heldBackFraction: 0.25,
      cooldownMs: 0,
      triggers: { accuracyAlert: true },
      ...extra,
    });
    writeFileSync(
      path.join(dir, 'retrain.json'),
      JSON.stringify({
        models: {
          toy: model(TRAINER),
          'toy-broken': model([...TRAINER, '--fail'], { minFieldSamples: 1, triggers: { accuracyAlert: false } }),
          'toy-count': model([...TRAINER, '--fail'], { minFieldSamples: 1000, triggers: { accuracyAlert: false, newLabelledSamples: 5 } }),
        },
      }),
    );
    writeFileSync(path.join(dir, 'sabotage.json'), JSON.stringify({ models: { toy: model([...TRAINER, '--shuffle-labels']) } }));
    writeFileSync(
      path.join(dir, 'alerts.json'),
      JSON.stringify({
        evaluationIntervalMs: 500,
        rules: [{ name: 'accuracy-drop', metric: 'accuracy', op: '<', threshold: 0.9, windowMs: 3_600_000, minSamples: 100 }],
      }),
    );
    // v1: the prototype trainer on no field data.
    const v1 = path.join(dir, 'v1');
    mkdirSync(path.join(v1, 'dataset'), { recursive: true });
    writeFileSync(path.join(v1, 'dataset', 'manifest.json'), JSON.stringify({ model: 'toy', fieldTrainCount: 0 }));
    writeFileSync(path.join(v1, 'dataset', 'field-train.jsonl'), '');
    execFileSync(TRAINER[0], [...TRAINER.slice(1), '--dataset', path.join(v1, 'dataset'), '--out', v1]);

    server = await spawnServer(process.execPath, ['--import', 'tsx', 'src/start/main.ts'], {
      env: {
        COLLECTOR_DB_PATH: path.join(dir, 'collector.sqlite'),
        COLLECTOR_ALERT_RULES: path.join(dir, 'alerts.json'),
        COLLECTOR_EVAL_THROTTLE_MS: '200',
        COLLECTOR_RATE_LIMIT_PER_SECOND: '0',
        COLLECTOR_INSTALL_EVENTS_PER_MINUTE: '0',
        COLLECTOR_INSTALL_SAMPLES_PER_MINUTE: '0',
        ONDEVICE_RETRAIN_CONFIG: path.join(dir, 'retrain.json'),
      },
    });
    for (const id of ['toy', 'toy-broken', 'toy-count']) {
      const res = await fetch(`${server.url}/v1/releases/${id}/1`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: readFileSync(path.join(v1, 'model.onnx')),
      });
      expect(res.status).toBe(201);
    }
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('N new labelled samples start a job by themselves (here refused: not enough field data)', async () => {
    const samples = toySamples({ start: 300, perClass: 1, drifted: true }).slice(0, 5);
    await send(
      server.url,
      samples.slice(0, 4).flatMap((s) => fieldEvents({ ...s, modelId: 'toy-count' }, s.label as number)),
    );
    const jobsOf = async () => (await (await fetch(`${server.url}/v1/jobs?model=toy-count`)).json()) as { jobs: Job[] };
    expect((await jobsOf()).jobs).toEqual([]);
    await send(server.url, fieldEvents({ ...samples[4], modelId: 'toy-count' }, samples[4].label as number));
    const job = await waitFor(async () => (await jobsOf()).jobs.find((j) => j.state === 'refused'), 30_000, 'the new-samples job');
    expect(job).toMatchObject({ trigger: 'new-samples', reason: expect.stringMatching(/^not enough field data: 2 held-back samples/) });
  }, 60_000);

  it('the CLI runs a job against the server: a sabotaged trainer is refused by the gate (exit 3) and nothing is published', async () => {
    const samples = toySamples({ start: 300, perClass: 60, drifted: true });
    // Predictions are right (no alert yet): only the samples matter here.
    await send(
      server.url,
      samples.flatMap((s) => fieldEvents(s, s.label as number)),
    );
    const run = await ondevice(['retrain', '--model', 'toy', '--server', server.url, '--config', path.join(dir, 'sabotage.json')]);
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(run.stdout).toMatch(/retrain toy: refused \(not enough better on the field: field -?\d+\.\d\d points on 150 held-back samples/);
    expect(run.stdout).toMatch(/held-back field: 1 \d+\.\d\d % {2}candidate \d+\.\d\d % {2}\(150 samples\)/);
    const status = (await (await fetch(`${server.url}/v1/releases/toy`)).json()) as { versions: { version: string }[] };
    expect(status.versions.map((v) => v.version)).toEqual(['1']);
  }, 120_000);

  it('the accuracy alert firing starts a job by itself; it passes the gate and the candidate enters the staged rollout', async () => {
    // The drifted population's predictions are wrong: field accuracy falls below 0.9.
    const wrong = toySamples({ start: 420, perClass: 12, drifted: true, fromMs: 10_000 });
    await send(
      server.url,
      wrong.flatMap((s) => fieldEvents(s, ((s.label as number) + 1) % 10)),
    );
    const job = await waitFor(
      async () => {
        const { jobs } = (await (await fetch(`${server.url}/v1/jobs?model=toy`)).json()) as { jobs: Job[] };
        return jobs.find((j) => j.trigger === 'accuracy-alert' && j.state !== 'running' && j.state !== 'queued');
      },
      60_000,
      'a finished accuracy-alert job',
    );
    const { job: full } = (await (await fetch(`${server.url}/v1/jobs/${job.id}`)).json()) as { job: Job };
    expect(full, full.logTail).toMatchObject({ state: 'succeeded', baseVersion: '1', resultVersion: '2' });
    expect(full.logTail).toMatch(/rollout of toy 2 started at 1 %/);
    const alerts = (await (await fetch(`${server.url}/v1/alerts`)).json()) as {
      firing: { rule: string; labels: Record<string, string> }[];
    };
    expect(alerts.firing).toContainEqual(expect.objectContaining({ rule: 'accuracy-drop', labels: { modelId: 'toy', modelVersion: '1' } }));
    const status = (await (await fetch(`${server.url}/v1/releases/toy`)).json()) as {
      versions: { version: string; state: string; percent: number; metrics: { gate: { passed: boolean } } }[];
    };
    expect(status.versions.find((v) => v.version === '2')).toMatchObject({
      state: 'candidate',
      percent: 1,
      metrics: { gate: { passed: true } },
    });
  }, 120_000);

  it('POST /v1/jobs starts one by hand (write-gated); a failing trainer fails the job and raises an alert', async () => {
    await send(
      server.url,
      toySamples({ start: 300, perClass: 1, drifted: true }).flatMap((s) =>
        fieldEvents({ ...s, modelId: 'toy-broken' }, s.label as number),
      ),
    );
    const fromBrowser = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ model: 'toy-broken' }),
    });
    expect(fromBrowser.status).toBe(403);
    const unknown = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"nope"}',
    });
    expect(await unknown.json()).toMatchObject({ code: 'UNKNOWN_MODEL' });
    const started = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"toy-broken"}',
    });
    expect(started.status).toBe(202);
    const { job } = (await started.json()) as { job: Job };
    const done = await waitFor(
      async () => {
        const { job: j } = (await (await fetch(`${server.url}/v1/jobs/${job.id}`)).json()) as { job: Job };
        return j.state === 'failed' ? j : undefined;
      },
      60_000,
      'the failed job',
    );
    expect(done.reason).toBe('the trainer exited with code 3');
    expect(done.logTail).toMatch(/failing on purpose/);
    const alerts = await waitFor(
      async () => {
        const a = (await (await fetch(`${server.url}/v1/alerts`)).json()) as { firing: { rule: string; labels: Record<string, string> }[] };
        return a.firing.some((f) => f.rule === 'retrain-job-failed') ? a : undefined;
      },
      10_000,
      'the job-failed alert',
    );
    expect(alerts.firing).toContainEqual(expect.objectContaining({ rule: 'retrain-job-failed', labels: { model: 'toy-broken' } }));
    expect(await (await fetch(`${server.url}/v1/jobs/no-such-job`)).json()).toMatchObject({ code: 'NOT_FOUND' });
  }, 120_000);

  it('the dashboard shows the jobs with their gate figures and the alert of the failed job', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}/dashboard`);
      await page.locator('#jobs-table[data-ready] tbody tr').nth(1).waitFor({ timeout: 15_000 });
      const rows = await page
        .locator('#jobs-table tbody tr')
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
      // Newest first: the failed manual job, then the alert's job that published 2, then the count's refusal.
      expect(rows[0].slice(1, 4)).toEqual(['toy-broken from 1', 'manual', 'failed']);
      expect(rows[0][8]).toBe('the trainer exited with code 3');
      expect(rows[1].slice(1, 4)).toEqual(['toy from 1', 'accuracy-alert', 'succeeded']);
      expect(rows[1][6]).toMatch(/^\d+\.\d% → \d+\.\d% \(1\d\d\)$/);
      expect(rows[1][8]).toBe('published 2');
      expect(rows[2].slice(1, 4)).toEqual(['toy-count from 1', 'new-samples', 'refused']);
      await expect(page.locator('#alerts').textContent()).resolves.toMatch(/retrain-job-failed/);
      mkdirSync('test-results', { recursive: true });
      await page.locator('#jobs').screenshot({ path: 'test-results/dashboard-jobs.png' });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
