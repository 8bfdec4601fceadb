import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldTraffic } from '../../scripts/releases/FieldTraffic';
import { call, publish, setPercent, startReleaseServer, type StartedReleaseServer } from './startReleaseServer';
import { waitFor } from '../helpers/waitFor';

const TINY_MLP = new Uint8Array(readFileSync('models/generated/tiny-mlp.onnx'));

const POLICY = {
  stages: [1, 10, 50, 100],
  minFeedback: 60,
  minInferences: 60,
  confidence: 0.95 as const,
  accuracyMargin: 0.02,
  errorRateMargin: 0.01,
  latencyP95Tolerance: 0.2,
  rollbackMinFeedback: 40,
  rollbackMinInferences: 40,
  maxFeedbackPerInstall: 20,
};

/** Wait until the decision loop has run after `afterMs` and return the status it left. */
async function statusAfterEvaluation(base: string, modelId: string, afterMs: number) {
  return waitFor(
    `a decision-loop pass on ${modelId} after ${afterMs}`,
    async () => {
      const s = await call(`${base}/v1/releases/${modelId}`);
      return s.body.lastPassAtMs !== null && s.body.lastPassAtMs > afterMs ? s.body : undefined;
    },
    { timeoutMs: 10_000 },
  );
}

describe('automatic promotion and rollback on simulated field traffic', () => {
  let srv: StartedReleaseServer;
  let hook: Server;
  const alerts: any[] = [];

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        alerts.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as { port: number }).port;
    srv = await startReleaseServer({
      rollout: { evaluationIntervalMs: 200, default: POLICY, models: {} },
      env: { COLLECTOR_WEBHOOK_URL: `http://127.0.0.1:${port}/hook` },
    });
  }, 60_000);

  afterAll(async () => {
    await srv?.stop();
    srv?.cleanup();
    await new Promise((r) => hook?.close(r));
  });

  it('rolls a worse candidate back within a bounded number of feedback events, with an alert and the evidence', async () => {
    expect((await publish(srv.url, 'tiny-mlp', '2-worse', TINY_MLP)).status).toBe(201);
    expect((await setPercent(srv.url, 'tiny-mlp', '2-worse', 10)).status).toBe(200);
    const traffic = new FieldTraffic(srv.url, 'tiny-mlp', {
      '1': { accuracy: 0.9, latencyMs: 10 },
      '2-worse': { accuracy: 0.45, latencyMs: 10 },
    });
    let state = 'candidate';
    while (state === 'candidate') {
      if (traffic.sent.candidate >= 200) throw new Error(`still a candidate after ${traffic.sent.candidate} candidate feedback events`);
      await traffic.round({ candidatePairs: 20, stablePairs: 200, pairsPerInstall: 10 });
      const status = await statusAfterEvaluation(srv.url, 'tiny-mlp', Date.now());
      state = status.versions.find((v: any) => v.version === '2-worse').state;
    }
    expect(state).toBe('rolled_back');
    // bounded: rollbackMinFeedback is 40, and it took at most two more rounds than that
    expect(traffic.sent.candidate).toBeLessThanOrEqual(80);

    const status = (await call(`${srv.url}/v1/releases/tiny-mlp`)).body;
    const rollback = status.decisions.find((d: any) => d.action === 'rollback');
    expect(rollback).toMatchObject({ version: '2-worse', actor: 'policy', fromPercent: 10, toPercent: 0 });
    expect(rollback.reason).toMatch(/accuracy regression/);
    expect(rollback.evidence.test).toMatch(/Newcombe/);
    expect(rollback.evidence.accuracyDifference.high).toBeLessThan(-POLICY.accuracyMargin);
    expect(rollback.evidence.thresholds.accuracyMargin).toBe(POLICY.accuracyMargin);

    // the manifest no longer sends anyone to it, and names it as rolled back
    const manifest = (await call(`${srv.url}/v1/manifest?install=after-rollback`)).body;
    expect(manifest.models['tiny-mlp']).toMatchObject({ version: '1', state: 'stable', rolledBack: ['2-worse'] });

    const alert = await waitFor('the rollback webhook', async () => alerts.find((a) => a.alert?.rule === 'release-rollback'), {
      timeoutMs: 10_000,
    });
    expect(alert).toMatchObject({ source: 'ondevice-releases', status: 'firing', alert: { modelId: 'tiny-mlp', version: '2-worse' } });
  }, 120_000);

  it('promotes a better candidate through every stage', async () => {
    expect((await publish(srv.url, 'tiny-mlp', '3-better', TINY_MLP)).status).toBe(201);
    expect((await setPercent(srv.url, 'tiny-mlp', '3-better', 1)).status).toBe(200);
    const traffic = new FieldTraffic(srv.url, 'tiny-mlp', {
      '1': { accuracy: 0.8, latencyMs: 10 },
      '3-better': { accuracy: 0.97, latencyMs: 10 },
    });
    const seen: number[] = [1];
    for (let round = 0; ; round++) {
      if (round > 40) throw new Error(`not promoted after ${round} rounds; stages seen ${seen.join(' → ')}`);
      await traffic.round({ candidatePairs: 60, stablePairs: 300, pairsPerInstall: 20 });
      const status = await statusAfterEvaluation(srv.url, 'tiny-mlp', Date.now());
      const v = status.versions.find((x: any) => x.version === '3-better');
      expect(v.state).not.toBe('rolled_back');
      if (v.percent !== seen.at(-1)) seen.push(v.percent);
      if (v.state === 'stable') break;
    }
    expect(seen).toEqual([1, 10, 50, 100]);
    const status = (await call(`${srv.url}/v1/releases/tiny-mlp`)).body;
    expect(status.stable).toBe('3-better');
    const byPolicy = status.decisions.filter((d: any) => d.version === '3-better' && d.actor === 'policy').reverse();
    const changes = byPolicy.filter((d: any) => d.action !== 'hold');
    expect(changes.map((d: any) => `${d.action} ${d.fromPercent}→${d.toPercent}`)).toEqual([
      'advance 1→10',
      'advance 10→50',
      'promote 50→100',
    ]);
    // Holds are logged with their evidence, but only when what they wait for changes: never the same reason
    // twice in a row within a stage, though the loop passed every 200 ms and held many times.
    const holds = byPolicy.filter((d: any) => d.action === 'hold');
    expect(holds.length).toBeGreaterThan(0);
    for (const [i, d] of byPolicy.entries()) {
      if (d.action !== 'hold') continue;
      expect(d.fromPercent).toBe(d.toPercent);
      expect(d.reason).toMatch(/^(waiting for evidence|not shown to be no worse): /);
      expect(d.evidence.because.length).toBeGreaterThan(0);
      expect(d.evidence.stage).toBeDefined();
      const before = byPolicy[i - 1];
      if (before?.action === 'hold') expect(d.evidence.because).not.toEqual(before.evidence.because);
    }
    // A stage begins at the decision that set its percentage; a hold logged within it does not restart it.
    const operatorStart = status.decisions.find((d: any) => d.version === '3-better' && d.action === 'rollout' && d.toPercent === 1);
    for (const [i, d] of changes.entries()) expect(d.evidence.stageStartMs).toBe(i === 0 ? operatorStart.atMs : changes[i - 1].atMs);
    // each stage waited for its own minimums
    for (const d of changes) {
      expect(d.evidence.stage.feedback).toBeGreaterThanOrEqual(POLICY.minFeedback);
      expect(d.evidence.accuracyDifference.low).toBeGreaterThan(-POLICY.accuracyMargin);
    }
    expect(status.versions.find((x: any) => x.version === '1').state).toBe('retired');
    const manifest = (await call(`${srv.url}/v1/manifest?install=anyone`)).body;
    expect(manifest.models['tiny-mlp']).toMatchObject({ version: '3-better', state: 'stable', stable: '3-better' });
  }, 240_000);
});
