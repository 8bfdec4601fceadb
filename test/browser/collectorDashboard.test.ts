import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertConfig } from '../../src/collector/alertRules';
import type { TelemetryEvent } from '../../src/core/eventSchema';
import { launchChromium } from '../helpers/chromium';
import { errorEvent, inferenceEvent, labelledPrediction, modelLoadEvent, sessionEvent } from '../collector/makeEvents';
import { getJson, postEvents, startCollector, type StartedCollector } from '../collector/startCollector';
import { waitFor } from '../helpers/waitFor';

const TOKEN = 'dashboard-token';
const MINUTE = 60_000;
const ALERTS: AlertConfig = {
  evaluationIntervalMs: 300,
  rules: [
    { name: 'accuracy-drop', metric: 'accuracy', op: '<', threshold: 0.9, windowMs: 10 * MINUTE, minSamples: 20 },
    // Windows run on the receive clock: a 2-second current window lets the first batch become the baseline.
    { name: 'prediction-drift', metric: 'psi', op: '>', threshold: 0.2, windowMs: 2000, baselineWindowMs: 10 * MINUTE, minSamples: 50 },
    { name: 'latency-slo', metric: 'latency_p95', op: '>', threshold: 200, windowMs: 10 * MINUTE, minSamples: 20 },
  ],
};

describe('dashboard in real Chromium', () => {
  let c: StartedCollector;
  let browser: Browser | undefined;

  beforeAll(async () => {
    c = await startCollector({
      alerts: ALERTS,
      env: {
        COLLECTOR_REQUIRE_TOKEN: '1',
        COLLECTOR_READ_TOKEN: TOKEN,
        COLLECTOR_EVAL_THROTTLE_MS: '100',
        COLLECTOR_MONITOR_SAMPLE_MS: '200',
      },
    });
    const auth = { authorization: `Bearer ${TOKEN}` };
    const post = async (events: TelemetryEvent[]) => expect((await postEvents(c.url, { siteKey: 'demo', events })).status).toBe(200);
    const classes = ['cat', 'dog', 'bird'];
    // Baseline predictions first, then the same models in rounds, with two versions of one model.
    const old = Date.now();
    await post([
      ...Array.from({ length: 90 }, (_, i) => inferenceEvent({ modelId: 'vision', modelVersion: '1', topClass: classes[i % 3], ts: old })),
      ...Array.from({ length: 90 }, (_, i) => inferenceEvent({ modelId: 'vision', modelVersion: '2', topClass: classes[i % 3], ts: old })),
    ]);
    // Feed a few rounds so the accuracy and PSI charts get several points each: after each round, wait
    // until the collector has kept one more accuracy point (a monitor sample) before the next one.
    // Rounds go on (at most 20) until the PSI chart has points too, i.e. the baseline has left the current window.
    const points = async (chart: 'accuracy' | 'psi') => {
      const { body } = await getJson(`${c.url}/dashboard/data.json`, auth);
      return (body[chart] as Array<{ name: string; t: number[] }>).find((s) => s.name === 'vision@1')?.t.length ?? 0;
    };
    const accuracyPoints = () => points('accuracy');
    for (let round = 0; round < 4 || (await points('psi')) < 2; round++) {
      if (round === 20) throw new Error('no PSI points after 20 rounds');
      const before = await accuracyPoints();
      await post([
        sessionEvent({ modelId: 'vision', sessionId: `s-gpu-${round}`, vendor: 'nvidia' }),
        sessionEvent({ modelId: 'vision', sessionId: `s-cpu-${round}`, vendor: null, brand: 'Firefox' }),
        modelLoadEvent({ modelId: 'vision', modelVersion: '1', backend: 'webgpu', ms: 180 }),
        modelLoadEvent({ modelId: 'vision', modelVersion: '2', backend: 'wasm', ms: 900 }),
        ...Array.from({ length: 30 }, (_, i) =>
          inferenceEvent({ modelId: 'vision', modelVersion: '1', backend: 'webgpu', sessionId: `s-gpu-${round}`, ms: 4 + (i % 10) }),
        ),
        ...Array.from({ length: 30 }, (_, i) =>
          inferenceEvent({ modelId: 'vision', modelVersion: '2', backend: 'wasm', sessionId: `s-cpu-${round}`, ms: 150 + i * 5 }),
        ),
        ...Array.from({ length: 20 }, (_, i) =>
          labelledPrediction({ modelId: 'vision', modelVersion: '1', predicted: classes[i % 3], correct: i % 10 !== 0 }),
        ).flat(),
        ...Array.from({ length: 20 }, (_, i) =>
          labelledPrediction({ modelId: 'vision', modelVersion: '2', predicted: 'cat', correct: i % 3 !== 0 }),
        ).flat(),
        errorEvent({ modelId: 'vision', modelVersion: '2' }),
      ]);
      await waitFor(`accuracy point after round ${round}`, async () => (await accuracyPoints()) > before, { timeoutMs: 15_000 });
    }
    await waitFor(
      'alerts to fire',
      async () => {
        const { body } = await getJson(`${c.url}/v1/alerts`, auth);
        return body.firing.length >= 2 ? body : undefined;
      },
      { timeoutMs: 15_000 },
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await c?.stop();
    c?.cleanup();
  });

  it('renders uPlot charts and the alerts table without console errors', async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1100 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`));

    const res = await page.goto(`${c.url}/dashboard?token=${TOKEN}`, { waitUntil: 'load', timeout: 30_000 });
    expect(res?.status()).toBe(200);
    for (const chart of ['latency', 'events', 'accuracy', 'psi']) {
      await page.locator(`#chart-${chart} .uplot canvas`).waitFor({ state: 'attached', timeout: 15_000 });
    }
    await page.locator('#alerts tbody .state.firing').first().waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 10_000 }).toMatch(/^updated/);

    expect(await page.locator('.uplot canvas').count()).toBe(4);
    const alertRules = await page.locator('#alerts tbody tr td:nth-child(2)').allTextContents();
    expect(alertRules).toEqual(expect.arrayContaining(['accuracy-drop', 'latency-slo']));
    const legend = await page.locator('#chart-accuracy .u-legend').textContent();
    expect(legend).toContain('vision@1');
    expect(legend).toContain('vision@2');
    expect(await page.locator('#chart-latency .u-legend').textContent()).toMatch(/wasm[\s\S]*webgpu/);
    expect(await page.locator('#groups tbody tr').count()).toBe(3); // v1 webgpu + v1 wasm (labelled) + v2 wasm

    // The charts have actually drawn something (not a blank canvas).
    const inked = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLCanvasElement>('.uplot canvas')].map((canvas) => {
        const ctx = canvas.getContext('2d')!;
        const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
        return painted;
      }),
    );
    expect(inked.every((n) => n > 500)).toBe(true);

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/dashboard.png', fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows a clear message without the token instead of failing silently', async () => {
    const page = await browser!.newPage();
    const res = await page.goto(`${c.url}/dashboard`);
    expect(res?.status()).toBe(401);
    await page.close();
  });
});
