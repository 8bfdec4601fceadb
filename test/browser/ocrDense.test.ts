// OCR must keep its text when it reads faster: the OCR of a dense page (test/fixtures/ocr-dense.png: 80 lines in two columns, made by
// scripts/fixtures-ocr-dense.ts) through the demo app's OCR tab in real Chromium, line by line and in
// batches. Speed is measured by `npm run bench -- ocr`, not here.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { openOcrTab, readWithOcrTab, type OcrTabReading } from '../helpers/readWithOcrTab';
import { cer } from '../../src/app/ocr';

const FIXTURE = 'test/fixtures/ocr-dense.png';
const expected = (JSON.parse(readFileSync('test/fixtures/ocr-dense.json', 'utf8')) as { lines: string[] }).lines;
/** Line by line read the page at 1.09% before batching existed (6 missing spaces, 1 extra one in 80 lines); + 0.5 points. */
const MAX_CER = 0.0109 + 0.005;

let session: BrowserSession;
let page: Page;

beforeAll(async () => {
  session = await startBrowserSession();
  page = await session.open('/');
  await openOcrTab(page, session.server.url);
}, 180_000);

afterAll(async () => {
  await session?.close();
});

describe('OCR of a dense page (80 lines)', () => {
  const modes = [
    { batching: '1', recBatchSize: 1, recParallel: false }, // line by line
    { batching: '6', recBatchSize: 6, recParallel: false },
    { batching: 'parallel', recBatchSize: 1, recParallel: true }, // line by line over a pool of workers (runBatch)
    // WASM with 1 thread per session: line by line, over a pool when there are 2 cores or more.
    { batching: 'auto', recBatchSize: 1, recParallel: 'when 2 cores or more' },
  ] as const;
  // Each reading once per file: the parallel reading is compared with the line-by-line one, read here by whichever
  // test asks first (so each test also runs alone).
  const readings = new Map<string, Promise<OcrTabReading>>();
  const read = (batching: string) => {
    if (!readings.has(batching)) readings.set(batching, readWithOcrTab(page, FIXTURE, batching));
    return readings.get(batching)!;
  };
  for (const { batching, recBatchSize, recParallel } of modes) {
    test(`recognition "${batching}" reads every line with CER ≤ ${(MAX_CER * 100).toFixed(2)}%`, { timeout: 400_000 }, async () => {
      const reading = await read(batching);
      const rate = cer(expected.join('\n'), reading.lines.join('\n'));
      console.info(`OCR dense page, ${batching}: CER ${(rate * 100).toFixed(2)}%`, reading.timings);
      expect(reading.recBatchSize).toBe(recBatchSize);
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      expect(reading.recParallel).toBe(typeof recParallel === 'boolean' ? recParallel : cores >= 2);
      // The same calls, only spread over workers: the very same text as line by line.
      if (recParallel) expect(reading.lines).toEqual((await read('1')).lines);
      expect(reading.lines).toHaveLength(expected.length);
      expect(rate).toBeLessThanOrEqual(MAX_CER);
      // Numbers must be exact: every amount on the page is read.
      const text = reading.lines.join('\n');
      for (const amount of expected.join(' ').match(/\d+\.\d\d/g)!) expect(text).toContain(amount);
      const { detectMs, classifyMs, recognizeMs, totalMs } = reading.timings;
      expect(totalMs).toBeCloseTo(detectMs + classifyMs + recognizeMs, 3);
      expect(session.errors).toEqual([]);
    });
  }
});
