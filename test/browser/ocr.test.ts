// OCR accuracy through the demo app's UI (file input → pipeline worker → PaddleOCR on the ondevice
// runtime → text list): text rendered in the browser itself, and the bundled sample receipt.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { cer } from '../../src/app/ocr';

/** Several lines, three font families, two styles, four sizes, turned 2°. */
const RENDERED = [
  { text: 'Invoice 2024-0173', font: 'bold 36px "DejaVu Sans"' },
  { text: 'Ship to: 48 Harbour Road, Leith', font: '28px "DejaVu Serif"' },
  { text: 'Widgets x12 at 4.50 each', font: '26px "Liberation Mono"' },
  { text: 'Subtotal 54.00 EUR', font: '30px "Liberation Sans"' },
  { text: 'Questions? Call 555 0199', font: 'italic 24px "DejaVu Sans"' },
];
const ROTATION_DEGREES = 2;
const MAX_CER = 0.05;

let session: BrowserSession;
let page: Page;

beforeAll(async () => {
  session = await startBrowserSession();
  page = await session.open('/#ocr');
  await page.locator('#ocr-models-state').filter({ hasText: 'ready' }).waitFor({ timeout: 120_000 });
});

afterAll(async () => {
  await session?.close();
});

/** Forget the previous result's state, so the next wait sees only the run that is about to start. */
async function resetResultState(): Promise<void> {
  await page.evaluate(() => {
    delete document.getElementById('ocr-result')!.dataset.state;
  });
}

/** Wait for the OCR tab to finish and return its lines (text only), in reading order. */
async function recognisedLines(): Promise<string[]> {
  await page.waitForFunction(() => ['done', 'failed'].includes(document.getElementById('ocr-result')?.dataset.state ?? ''), undefined, {
    timeout: 120_000,
  });
  expect(await page.textContent('#ocr-error')).toBe('');
  expect(await page.getAttribute('#ocr-result', 'data-state')).toBe('done');
  return page.locator('#ocr-lines .line-text').allTextContents();
}

/** Overall CER over all lines (joined by newlines, as the copy button copies them). */
function overallCer(expected: string[], actual: string[]): number {
  return cer(expected.join('\n'), actual.join('\n'));
}

describe('OCR tab accuracy', () => {
  test(`text rendered on a canvas (${RENDERED.length} lines, 3 fonts, 4 sizes, ${ROTATION_DEGREES}° turn): CER < 5%`, async () => {
    const png = await page.evaluate(
      async ({ lines, degrees }) => {
        await document.fonts.ready;
        const canvas = document.createElement('canvas');
        canvas.width = 900;
        canvas.height = 480;
        const context = canvas.getContext('2d')!;
        context.fillStyle = '#fdfdf8';
        context.fillRect(0, 0, canvas.width, canvas.height);
        context.translate(canvas.width / 2, canvas.height / 2);
        context.rotate((degrees * Math.PI) / 180);
        context.translate(-canvas.width / 2, -canvas.height / 2);
        context.fillStyle = '#1f2937';
        context.textBaseline = 'alphabetic';
        lines.forEach((line, i) => {
          context.font = line.font;
          context.fillText(line.text, 70, 90 + i * 78);
        });
        return canvas.toDataURL('image/png');
      },
      { lines: RENDERED, degrees: ROTATION_DEGREES },
    );
    await resetResultState();
    await page.setInputFiles('#ocr-file', {
      name: 'rendered.png',
      mimeType: 'image/png',
      buffer: Buffer.from(png.split(',')[1], 'base64'),
    });
    const lines = await recognisedLines();
    const expected = RENDERED.map((l) => l.text);
    const rate = overallCer(expected, lines);
    console.info(`OCR rendered text: CER ${(rate * 100).toFixed(2)}%\n${lines.join('\n')}`);
    expect(lines).toHaveLength(expected.length);
    expect(rate).toBeLessThan(MAX_CER);
    expect(session.errors).toEqual([]);
  });

  test('the bundled sample receipt (the "Try the sample" button) is read as expected', async () => {
    const expected = (JSON.parse(readFileSync('test/fixtures/ocr-sample.json', 'utf8')) as { lines: string[] }).lines;
    // public/samples/ocr-sample.png is the test fixture, copied: the demo shows what the tests check.
    expect(readFileSync('public/samples/ocr-sample.png').equals(readFileSync('test/fixtures/ocr-sample.png'))).toBe(true);
    await resetResultState();
    await page.click('#ocr-sample');
    const lines = await recognisedLines();
    const rate = overallCer(expected, lines);
    console.info(`OCR bundled sample: CER ${(rate * 100).toFixed(2)}%\n${lines.join('\n')}`);
    expect(lines).toHaveLength(expected.length);
    expect(rate).toBeLessThan(MAX_CER);
    // Numbers on a receipt must be exact.
    for (const amount of ['3.80', '2.95', '6.75']) expect(lines.join(' ')).toContain(amount);
    // One box drawn per line, and the copy button is live.
    expect(await page.isEnabled('#ocr-copy')).toBe(true);
    expect(session.errors).toEqual([]);
  });

  test('copy text puts the recognised lines on the clipboard', async () => {
    await session.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: session.server.url });
    await resetResultState();
    await page.click('#ocr-sample');
    expect(await recognisedLines()).not.toEqual([]);
    await page.click('#ocr-copy');
    await page.locator('#ocr-copied').filter({ hasText: 'Copied' }).waitFor();
    const clipboard = await page.evaluate(() => navigator.clipboard.readText());
    expect(clipboard).toBe((await page.locator('#ocr-lines .line-text').allTextContents()).join('\n'));
  });

  test('a file that is not an image gets a helpful message, not a blank result', async () => {
    await resetResultState();
    await page.setInputFiles('#ocr-file', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not really a png') });
    await page.waitForFunction(() => document.getElementById('ocr-result')?.dataset.state === 'failed', undefined, { timeout: 30_000 });
    expect(await page.getAttribute('#ocr-error', 'data-code')).toBe('INVALID_INPUT');
    expect(await page.textContent('#ocr-error')).toMatch(/does not fit what the model expects|could not be read as an image/);
  });
});
