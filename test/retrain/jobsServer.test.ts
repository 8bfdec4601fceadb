// Retraining inside `npm start` (a real server process): labelled samples and feedback through the real
// ingest endpoint, the accuracy alert starts a job by itself, /v1/jobs shows it, a failed job raises an
// alert, and the CLI runs a job against the server (a sabotaged trainer is refused, exit 3).
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/retrain/JobStore';
import { spawnServer, type SpawnedServer } from '../helpers/spawnServer';
import { launchChromium } from '../helpers/chromium';
import { fieldEvents, sendEvents as send } from './fieldEvents';
import { toySamples } from './toyDigits';
import { waitFor } from '../helpers/waitFor';

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
    // The CLI's sabotaged trainer works on a model of its own: nothing it sends moves toy's field accuracy.
    writeFileSync(path.join(dir, 'sabotage.json'), JSON.stringify({ models: { 'toy-cli': model([...TRAINER, '--shuffle-labels']) } }));
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
    for (const id of ['toy', 'toy-broken', 'toy-count', 'toy-cli']) {
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

  const jobsOf = async (model: string) => (await (await fetch(`${server.url}/v1/jobs?model=${model}`)).json()) as { jobs: Job[] };

  // The three jobs the dashboard lists, each started once per file by the first test that needs it (so each test
  // also runs alone), in the order the dashboard test expects when it runs alone: count, alert, failed.

  /** 4 labelled samples of toy-count (no job yet), then a 5th: its new-samples job, refused. */
  let countJob: Promise<{ jobsAfterFour: Job[]; job: Job }> | undefined;
  const newSamplesJob = () =>
    (countJob ??= (async () => {
      const samples = toySamples({ start: 300, perClass: 1, drifted: true }).slice(0, 5);
      await send(
        server.url,
        samples.slice(0, 4).flatMap((s) => fieldEvents({ ...s, modelId: 'toy-count' }, s.label as number)),
      );
      const jobsAfterFour = (await jobsOf('toy-count')).jobs;
      await send(server.url, fieldEvents({ ...samples[4], modelId: 'toy-count' }, samples[4].label as number));
      const job = await waitFor('the new-samples job', async () => (await jobsOf('toy-count')).jobs.find((j) => j.state === 'refused'), {
        timeoutMs: 30_000,
      });
      return { jobsAfterFour, job };
    })());

  /** 600 right predictions of toy with their samples, then 120 wrong ones: the accuracy alert's job, finished. */
  let alertJob: Promise<Job> | undefined;
  const accuracyAlertJob = () =>
    (alertJob ??= (async () => {
      await send(
        server.url,
        toySamples({ start: 300, perClass: 60, drifted: true }).flatMap((s) => fieldEvents(s, s.label as number)),
      );
      // The drifted population's predictions are wrong: field accuracy falls below 0.9 (600 of 720).
      const wrong = toySamples({ start: 420, perClass: 12, drifted: true, fromMs: 10_000 });
      await send(
        server.url,
        wrong.flatMap((s) => fieldEvents(s, ((s.label as number) + 1) % 10)),
      );
      return waitFor(
        'a finished accuracy-alert job',
        async () => (await jobsOf('toy')).jobs.find((j) => j.trigger === 'accuracy-alert' && j.state !== 'running' && j.state !== 'queued'),
        { timeoutMs: 60_000 },
      );
    })());

  /** toy-broken's samples, then a job started by hand (POST /v1/jobs), failed by its trainer. */
  let manualJob: Promise<{ status: number; job: Job }> | undefined;
  const failedManualJob = () =>
    (manualJob ??= (async () => {
      await send(
        server.url,
        toySamples({ start: 300, perClass: 1, drifted: true }).flatMap((s) =>
          fieldEvents({ ...s, modelId: 'toy-broken' }, s.label as number),
        ),
      );
      const started = await fetch(`${server.url}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"model":"toy-broken"}',
      });
      const { job } = (await started.json()) as { job: Job };
      const failed = await waitFor(
        'the failed job',
        async () => {
          const { job: j } = (await (await fetch(`${server.url}/v1/jobs/${job.id}`)).json()) as { job: Job };
          return j.state === 'failed' ? j : undefined;
        },
        { timeoutMs: 60_000 },
      );
      return { status: started.status, job: failed };
    })());

  it('N new labelled samples start a job by themselves (here refused: not enough field data)', async () => {
    const { jobsAfterFour, job } = await newSamplesJob();
    expect(jobsAfterFour).toEqual([]);
    expect(job).toMatchObject({ trigger: 'new-samples', reason: expect.stringMatching(/^not enough field data: 2 held-back samples/) });
  }, 60_000);

  it('the CLI runs a job against the server: a sabotaged trainer is refused by the gate (exit 3) and nothing is published', async () => {
    const samples = toySamples({ start: 300, perClass: 60, drifted: true });
    // Predictions are right (no alert): only the samples matter here.
    await send(
      server.url,
      samples.flatMap((s) => fieldEvents({ ...s, modelId: 'toy-cli' }, s.label as number)),
    );
    const run = await ondevice(['retrain', '--model', 'toy-cli', '--server', server.url, '--config', path.join(dir, 'sabotage.json')]);
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(run.stdout).toMatch(
      /retrain toy-cli: refused \(not enough better on the field: field -?\d+\.\d\d points on 150 held-back samples/,
    );
    expect(run.stdout).toMatch(/held-back field: 1 \d+\.\d\d % {2}candidate \d+\.\d\d % {2}\(150 samples\)/);
    const status = (await (await fetch(`${server.url}/v1/releases/toy-cli`)).json()) as { versions: { version: string }[] };
    expect(status.versions.map((v) => v.version)).toEqual(['1']);
  }, 120_000);

  it('the accuracy alert firing starts a job by itself; it passes the gate and the candidate enters the staged rollout', async () => {
    const job = await accuracyAlertJob();
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
    const { status, job: done } = await failedManualJob();
    expect(status).toBe(202);
    expect(done.reason).toBe('the trainer exited with code 3');
    expect(done.logTail).toMatch(/failing on purpose/);
    const alerts = await waitFor(
      'the job-failed alert',
      async () => {
        const a = (await (await fetch(`${server.url}/v1/alerts`)).json()) as { firing: { rule: string; labels: Record<string, string> }[] };
        return a.firing.some((f) => f.rule === 'retrain-job-failed') ? a : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(alerts.firing).toContainEqual(expect.objectContaining({ rule: 'retrain-job-failed', labels: { model: 'toy-broken' } }));
    expect(await (await fetch(`${server.url}/v1/jobs/no-such-job`)).json()).toMatchObject({ code: 'NOT_FOUND' });
  }, 120_000);

  it('the dashboard shows the jobs with their gate figures and the alert of the failed job', async () => {
    await newSamplesJob();
    await accuracyAlertJob();
    await failedManualJob();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}/dashboard`);
      await page.locator('#jobs-table[data-ready] tbody tr').nth(2).waitFor({ timeout: 15_000 });
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
  }, 240_000);
});
