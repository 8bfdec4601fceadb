// The retraining loop end to end, as one scenario: digits v1 (trained on MNIST, the registry's stable release) →
// a drifted population (thick, slanted strokes: driftedDigits) predicts, corrects and shares its drawings through the
// real client in Chromium and the real ingest of `npm start` → field accuracy falls below the alert
// threshold → the alert starts a retraining job by itself → v2 passes the gate → the staged rollout hands it
// to installs in its first stage → on a held-back drifted slice v2 beats v1 by ≥ 10 points. (A sabotaged
// trainer stopped by the gate: retrainSabotage.test.ts.)
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignBucket } from '../../src/releases/assignBucket';
import { driftedDigits } from '../../src/retrain/digits/drift';
import { evaluateDigits } from '../../src/retrain/digits/evaluateOnnx';
import type { Job } from '../../src/retrain/JobStore';
import { startAppServer } from '../helpers/appServer';
import { launchChromium } from '../helpers/chromium';
import { writeHoldingRollout } from '../helpers/holdingRollout';
import type { SpawnedServer } from '../helpers/spawnServer';
import { waitFor } from '../helpers/waitFor';

/** The digits trainer exactly as config/retrain.json runs it (E2E_TRAINER_ARGS swaps its options, to compare recipes). */
const SHIPPED_TRAINER = (JSON.parse(readFileSync('config/retrain.json', 'utf8')) as { models: { digits: { trainer: string[] } } }).models
  .digits.trainer;
const DIGITS_TRAINER = process.env.E2E_TRAINER_ARGS
  ? [
      ...SHIPPED_TRAINER.slice(0, SHIPPED_TRAINER.indexOf('src/retrain/digits/trainerCommand.ts') + 1),
      ...process.env.E2E_TRAINER_ARGS.split(' '),
    ]
  : SHIPPED_TRAINER;
const FIELD = 500;

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return (await res.json()) as T;
}

describe('acceptance: drift → alert → retraining → gate → staged rollout', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ondevice-e2e-retrain-'));
  let server: SpawnedServer;
  let browser: Browser;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    const model = (trainer: string[]) => ({
      trainer,
      evaluator: 'digits',
      triggers: { accuracyAlert: true },
      minFieldSamples: 100,
      heldBackFraction: 0.3,
      cooldownMs: 0,
      trainerTimeoutMs: 600_000,
    });
    writeFileSync(path.join(dir, 'retrain.json'), JSON.stringify({ models: { digits: model(DIGITS_TRAINER) } }));
    // The alert judges once the whole population has reported (minSamples = FIELD), so the job it starts
    // sees every shared drawing.
    writeFileSync(
      path.join(dir, 'alerts.json'),
      JSON.stringify({
        evaluationIntervalMs: 500,
        rules: [{ name: 'accuracy-drop', metric: 'accuracy', op: '<', threshold: 0.9, windowMs: 3_600_000, minSamples: FIELD }],
      }),
    );
    // A candidate stays at its first stage (half the installs) until the test promotes it.
    writeHoldingRollout(path.join(dir, 'rollout.json'));
    server = await startAppServer({
      COLLECTOR_DB_PATH: path.join(dir, 'collector.sqlite'),
      COLLECTOR_ALERT_RULES: path.join(dir, 'alerts.json'),
      COLLECTOR_EVAL_THROTTLE_MS: '200',
      COLLECTOR_RATE_LIMIT_PER_SECOND: '0',
      COLLECTOR_INSTALL_EVENTS_PER_MINUTE: '0',
      COLLECTOR_INSTALL_SAMPLES_PER_MINUTE: '0',
      // A handful of browser installs stand for the population: each may weigh all of its feedback.
      COLLECTOR_MAX_FEEDBACK_PER_INSTALL: String(FIELD),
      ONDEVICE_RETRAIN_CONFIG: path.join(dir, 'retrain.json'),
      ONDEVICE_ROLLOUT_CONFIG: path.join(dir, 'rollout.json'),
    });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    console.log(`retraining acceptance figures: ${JSON.stringify(figures, null, 2)}`);
    await browser?.close();
    await server?.stop();
  });

  it('the drifted population reports through the real client; the alert retrains, v2 passes the gate and rolls out', async () => {
    const drifted = driftedDigits(FIELD, 1, 'train');
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/test-page.html`);
    const reported = await page.evaluate(
      async (samples) => {
        const O = (window as any).OnDevice;
        O.configure({ telemetry: { endpoint: '/v1/events', siteKey: 'demo', shareInputs: true } });
        const model = await O.loadModel('digits', { backend: 'wasm', warmup: false });
        let correct = 0;
        let sent = 0;
        for (const s of samples) {
          // run() transfers its input buffer to the worker: the feedback gets its own copy.
          const input = { type: 'float32', data: new Float32Array(s.pixels), dims: [1, 1, 28, 28] };
          const out = await model.run({ image: { ...input, data: new Float32Array(s.pixels) } });
          const p = out.probabilities.data as Float32Array;
          const predicted = p.indexOf(Math.max(...p));
          if (predicted === s.label) correct++;
          O.reportFeedback({ modelId: 'digits', modelVersion: model.version, predictionId: model.lastPredictionId, label: s.label, input });
          // The page's telemetry queue is bounded (QUEUE_FULL beyond it): deliver as a user's page would, as it goes.
          if (++sent % 25 === 0) await O.flushTelemetry();
        }
        await O.flushTelemetry();
        return { version: model.version, correct, status: O.telemetryStatus() };
      },
      drifted.map((s) => ({ pixels: Array.from(s.pixels), label: s.label })),
    );
    expect(reported.version).toBe('1');
    expect(reported.status.lastError).toBeNull();
    figures.v1ClientAccuracyOnDrift = reported.correct / FIELD;
    await context.close();

    // The alert fires on the field accuracy, and its job retrains, by itself.
    const alerts = await waitFor(
      'the accuracy alert on digits',
      async () => {
        const a = await json<{ firing: { rule: string; value: number; labels: Record<string, string> }[] }>(`${server.url}/v1/alerts`);
        return a.firing.find((f) => f.rule === 'accuracy-drop' && f.labels.modelId === 'digits');
      },
      { timeoutMs: 60_000 },
    );
    figures.fieldAccuracyAtAlert = alerts.value;
    const job = await waitFor(
      'the retraining job to finish',
      async () =>
        (await json<{ jobs: Job[] }>(`${server.url}/v1/jobs?model=digits`)).jobs.find((j) => j.state !== 'running' && j.state !== 'queued'),
      { timeoutMs: 600_000 },
    );
    const { job: full } = await json<{ job: Job }>(`${server.url}/v1/jobs/${job.id}`);
    figures.job = { trigger: full.trigger, state: full.state, durationMs: full.durationMs, metrics: full.metrics, data: full.dataSummary };
    expect(full, full.logTail).toMatchObject({ trigger: 'accuracy-alert', state: 'succeeded', baseVersion: '1', resultVersion: '2' });

    // The staged rollout: v2 at its first stage (50 %); each new install gets what its bucket says.
    const status = await json<{ versions: { version: string; state: string; percent: number }[] }>(`${server.url}/v1/releases/digits`);
    expect(status.versions.find((v) => v.version === '2')).toMatchObject({ state: 'candidate', percent: 50 });
    let sawV2 = false;
    for (let i = 0; i < 20 && !sawV2; i++) {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      await p.goto(`${server.url}/test-page.html`);
      const loaded = await p.evaluate(async () => {
        const model = await (window as any).OnDevice.loadModel('digits', { backend: 'wasm', warmup: false });
        return { version: model.version as string, installId: localStorage.getItem('ondevice.installId') ?? '' };
      });
      expect(loaded.version).toBe(assignBucket(loaded.installId, 'digits') < 50 ? '2' : '1');
      sawV2 = loaded.version === '2';
      await ctx.close();
    }
    expect(sawV2).toBe(true);

    // docs/retraining.md's walkthrough pictures (copied to docs/ by hand; a test never writes into the repository).
    const dash = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await dash.goto(`${server.url}/dashboard`);
    await dash.locator('#jobs-table[data-ready] tbody tr').first().waitFor({ timeout: 15_000 });
    await dash.locator('#release-digits table.versions tbody tr').nth(1).waitFor({ timeout: 15_000 });
    mkdirSync('test-results', { recursive: true });
    await dash.locator('#alerts').screenshot({ path: 'test-results/retrain-alerts.png' });
    await dash.locator('#jobs').screenshot({ path: 'test-results/retrain-jobs.png' });
    await dash.locator('#release-digits').screenshot({ path: 'test-results/retrain-release.png' });
    await dash.close();

    // On drifted digits no job saw (from MNIST's held-out side), v2 beats v1 by at least 10 points.
    const heldOutDrift = driftedDigits(500, 99, 'heldOut');
    const v1 = new Uint8Array(readFileSync('models/trained/digits-1.onnx'));
    const v2 = new Uint8Array(await (await fetch(`${server.url}/v1/releases/digits/2/model.onnx`)).arrayBuffer());
    const [a1, a2] = [await evaluateDigits(v1, heldOutDrift), await evaluateDigits(v2, heldOutDrift)];
    figures.heldOutDrift = { v1: a1.accuracy, v2: a2.accuracy, count: a1.count };
    expect(a2.accuracy - a1.accuracy).toBeGreaterThanOrEqual(0.1);
  }, 600_000);
});
