import { mkdirSync, readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium';
import { FieldTraffic } from '../../scripts/releases/FieldTraffic';
import { call, publish, setPercent, startReleaseServer, type StartedReleaseServer } from '../releases/startReleaseServer';
import { waitFor } from '../helpers/waitFor';

const TINY_MLP = new Uint8Array(readFileSync('models/generated/tiny-mlp.onnx'));

describe('dashboard release view in real Chromium', () => {
  let srv: StartedReleaseServer;
  let browser: Browser | undefined;

  beforeAll(async () => {
    srv = await startReleaseServer({
      rollout: {
        evaluationIntervalMs: 200,
        default: {
          stages: [1, 10, 50, 100],
          minFeedback: 60,
          minInferences: 60,
          confidence: 0.95,
          accuracyMargin: 0.02,
          errorRateMargin: 0.01,
          latencyP95Tolerance: 0.2,
          rollbackMinFeedback: 40,
          rollbackMinInferences: 40,
          maxFeedbackPerInstall: 20,
        },
        models: {},
      },
    });
    // A candidate the policy rolls back, then a second one rolling out at 10 %.
    expect((await publish(srv.url, 'tiny-mlp', '2', TINY_MLP, '?notes=retrained')).status).toBe(201);
    expect((await setPercent(srv.url, 'tiny-mlp', '2', 10)).status).toBe(200);
    const traffic = new FieldTraffic(srv.url, 'tiny-mlp', {
      '1': { accuracy: 0.9, latencyMs: 10 },
      '2': { accuracy: 0.4, latencyMs: 14 },
      '3': { accuracy: 0.92, latencyMs: 9 },
    });
    await waitFor(
      'the policy to roll tiny-mlp 2 back',
      async () => {
        await traffic.round({ candidatePairs: 20, stablePairs: 200, pairsPerInstall: 10 });
        const s = (await call(`${srv.url}/v1/releases/tiny-mlp`)).body;
        return s.versions.find((v: any) => v.version === '2').state === 'rolled_back' ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect((await publish(srv.url, 'tiny-mlp', '3', TINY_MLP)).status).toBe(201);
    expect((await setPercent(srv.url, 'tiny-mlp', '3', 10)).status).toBe(200);
    await traffic.round({ candidatePairs: 20, stablePairs: 100, pairsPerInstall: 10 });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
    srv?.cleanup();
  });

  it('shows the timeline, per-version metrics with intervals and the rollback alert, next to the existing charts', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${srv.url}/dashboard`);
    const card = page.locator('#release-tiny-mlp');
    await card.locator('table.versions tbody tr').nth(2).waitFor({ timeout: 15_000 });
    const rows = await card
      .locator('table.versions tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ['1', 'stable', '100%'],
      ['2', 'rolled back', '0%'],
      ['3', 'candidate', '10%'],
    ]);
    // accuracy with its interval and sample count, e.g. "40.0% [27.6%, 53.8%] (40)"
    expect(rows[1][5]).toMatch(/^\d+\.\d% \[\d+\.\d%, \d+\.\d%\] \(\d+\)$/);
    expect(rows[1][8]).toMatch(/policy rollback: accuracy regression/);
    await expect(card.locator('.release-alert').first().textContent()).resolves.toMatch(/rolled back 2 .*accuracy regression/);
    expect(await card.locator('.release-chart canvas').count()).toBeGreaterThan(0);
    for (const id of ['#chart-latency', '#chart-events', '#chart-accuracy', '#chart-psi', '#alerts', '#groups'])
      expect(await page.locator(id).count()).toBe(1);
    // A test never writes into the repository: its screenshot goes to test-results/ (docs/ holds the
    // one docs/releases.md shows, taken from the walkthrough).
    mkdirSync('test-results', { recursive: true });
    await page.locator('#releases').screenshot({ path: 'test-results/dashboard-releases.png' });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
