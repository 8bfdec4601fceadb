// The demo's Digits tab in real Chromium against the real `npm start` server (collector in SQLite) and the
// real digits model (models/trained/digits-1.onnx): draw with pointer events (mouse, and touch through the
// DevTools protocol), see the top 3, report feedback; the collector gets the label, and the 28×28 drawing
// only after the share box was ticked.
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { waitFor } from '../helpers/waitFor';

const dbPath = path.join(mkdtempSync(path.join(tmpdir(), 'ondevice-digits-')), 'collector.sqlite');
let session: BrowserSession;

beforeAll(async () => {
  session = await startBrowserSession({ env: { COLLECTOR_DB_PATH: dbPath, COLLECTOR_INSTALL_SAMPLES_PER_MINUTE: '0' } });
});
afterAll(async () => {
  await session?.close();
});

function rows<T>(sql: string, ...params: unknown[]): T[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Canvas-relative points (0..1) to page coordinates. */
async function pagePoints(page: Page, points: [number, number][]): Promise<{ x: number; y: number }[]> {
  // Ticking the share box may have scrolled the page: touches outside the viewport are never delivered.
  await page.locator('#digits-canvas').scrollIntoViewIfNeeded();
  const box = (await page.locator('#digits-canvas').boundingBox())!;
  return points.map(([x, y]) => ({ x: box.x + x * box.width, y: box.y + y * box.height }));
}

/** A "1": one vertical stroke with the mouse (real pointer events). */
async function drawOneWithMouse(page: Page): Promise<void> {
  const [from, to] = await pagePoints(page, [
    [0.5, 0.15],
    [0.5, 0.85],
  ]);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 12 });
  await page.mouse.up();
}

/** A "7" with a finger: touch events through the DevTools protocol, which Chromium turns into touch pointer events. */
async function drawSevenWithTouch(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const points = await pagePoints(page, [
    [0.25, 0.2],
    [0.45, 0.2],
    [0.75, 0.2],
    [0.65, 0.4],
    [0.55, 0.6],
    [0.45, 0.85],
  ]);
  const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', p?: { x: number; y: number }) =>
    cdp.send('Input.dispatchTouchEvent', { type, touchPoints: p ? [{ x: p.x, y: p.y, id: 1, radiusX: 1, radiusY: 1, force: 1 }] : [] });
  await touch('touchStart', points[0]);
  for (const p of points.slice(1)) await touch('touchMove', p);
  await touch('touchEnd');
  await cdp.detach();
}

async function topThree(page: Page): Promise<{ digit: number; text: string }[]> {
  await page.locator('#digits-top li').nth(2).waitFor({ timeout: 60_000 });
  return page.$$eval('#digits-top li', (items) =>
    items.map((li) => ({ digit: Number((li as HTMLElement).dataset.digit), text: li.textContent ?? '' })),
  );
}

describe('Digits tab', () => {
  test('draw, top 3, feedback: only the label without consent, the 28×28 drawing too once the box is ticked', async () => {
    const context = await session.browser.newContext({ hasTouch: true, serviceWorkers: 'block' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${session.server.url}/#digits`);
    await page.locator('#digits-model').filter({ hasText: 'ready' }).waitFor({ timeout: 60_000 });
    expect(await page.isChecked('#digits-share')).toBe(false);

    // Mouse, no consent: "wrong → 7".
    await drawOneWithMouse(page);
    const first = await topThree(page);
    expect(first).toHaveLength(3);
    for (const { text } of first) expect(text).toMatch(/^\d — \d+\.\d %$/);
    expect(new Set(first.map((t) => t.digit)).size).toBe(3);
    // The real model reads the MNIST-style input: a vertical stroke is a 1.
    expect(first[0].digit).toBe(1);
    await page.click('#digits-wrong');
    await page.click('#digits-correct [data-digit="7"]');
    await page.locator('#digits-sent').filter({ hasText: 'stays here' }).waitFor();
    const unshared = await waitFor(
      'the feedback event',
      () =>
        rows<{ predictionId: string; label: string; predicted: string }>(
          `SELECT prediction_id AS predictionId, label, predicted FROM events WHERE type = 'feedback' AND model_id = 'digits'`,
        )[0],
    );
    expect(unshared).toMatchObject({ label: '7', predicted: String(first[0].digit) });
    // The inference event of that prediction is there; no sample anywhere.
    expect(rows(`SELECT id FROM events WHERE type = 'inference' AND prediction_id = ?`, unshared.predictionId)).toHaveLength(1);
    expect(rows(`SELECT id FROM events WHERE type = 'sample'`)).toHaveLength(0);
    expect(rows(`SELECT id FROM samples`)).toHaveLength(0);

    // Touch, consent: tick the box, draw, "right".
    await page.check('#digits-share');
    await page.click('#digits-clear');
    await drawSevenWithTouch(page);
    const second = await topThree(page);
    expect(second[0].digit).toBe(7);
    await page.click('#digits-right');
    await page.locator('#digits-sent').filter({ hasText: 'and your drawing' }).waitFor();
    const sample = await waitFor(
      'the sample',
      () =>
        rows<{ label: string; predictionId: string; inputs: string }>(
          `SELECT label, prediction_id AS predictionId, inputs FROM samples`,
        )[0],
    );
    expect(JSON.parse(sample.label)).toBe(second[0].digit);
    const { image } = JSON.parse(sample.inputs) as { image: { type: string; dims: number[]; data: number[] } };
    expect(image.type).toBe('float32');
    expect(image.dims).toEqual([1, 1, 28, 28]);
    expect(image.data).toHaveLength(784);
    expect(image.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    // MNIST style: the ink fits a 20×20 box (its longer side exactly 20), the rest is background 0.
    const inked = image.data.map((v, i) => (v > 0 ? i : -1)).filter((i) => i >= 0);
    expect(inked.length).toBeGreaterThan(20);
    const xs = inked.map((i) => i % 28);
    const ys = inked.map((i) => Math.floor(i / 28));
    const [w, h] = [Math.max(...xs) - Math.min(...xs) + 1, Math.max(...ys) - Math.min(...ys) + 1];
    expect(Math.max(w, h)).toBe(20);
    expect(Math.min(w, h)).toBeLessThanOrEqual(20);
    const feedback = rows(`SELECT id FROM events WHERE type = 'feedback' AND prediction_id = ?`, sample.predictionId);
    expect(feedback).toHaveLength(1);
    expect(errors).toEqual([]);
    await context.close();
  });
});
