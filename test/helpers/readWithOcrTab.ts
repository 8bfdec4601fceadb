// Drives the demo app's OCR tab (#ocr) as a user would: pick how lines are read, choose a file, wait for
// the result. Shared by the OCR browser tests and the OCR bench.
import type { Page } from 'playwright-core';

export interface OcrTabReading {
  lines: string[];
  /** In the pipeline worker, as the tab shows them (ms). */
  timings: { detectMs: number; classifyMs: number; recognizeMs: number; totalMs: number; roundTripMs: number };
  recBatchSize: number;
  /** Whether the lines were spread over a pool of workers ('parallel'). */
  recParallel: boolean;
}

/** Open the app's OCR tab and wait (bounded) until its models are loaded. */
export async function openOcrTab(page: Page, baseUrl: string, timeoutMs = 120_000): Promise<void> {
  await page.goto(`${baseUrl}/#ocr`);
  await page.locator('#ocr-models-state').filter({ hasText: 'ready' }).waitFor({ timeout: timeoutMs });
}

/** Read `file` (a PNG path) with the recogniser batching `recBatching` ('auto', '1', '6', 'parallel'); throws on a failed run. */
export async function readWithOcrTab(page: Page, file: string, recBatching: string, timeoutMs = 300_000): Promise<OcrTabReading> {
  await page.selectOption('#ocr-rec-batching', recBatching);
  // Forget the previous result's state, so the wait below sees only this run.
  await page.evaluate(() => delete document.getElementById('ocr-result')!.dataset.state);
  await page.setInputFiles('#ocr-file', file);
  await page.waitForFunction(() => ['done', 'failed'].includes(document.getElementById('ocr-result')?.dataset.state ?? ''), undefined, {
    timeout: timeoutMs,
  });
  if ((await page.getAttribute('#ocr-result', 'data-state')) !== 'done') {
    throw new Error(`OCR of ${file} failed: ${await page.textContent('#ocr-error')}`);
  }
  const lines = await page.locator('#ocr-lines .line-text').allTextContents();
  const data = await page.evaluate(() => ({ ...document.getElementById('ocr-timings')!.dataset }));
  const number = (key: string) => Number(data[key]);
  return {
    lines,
    timings: {
      detectMs: number('detectMs'),
      classifyMs: number('classifyMs'),
      recognizeMs: number('recognizeMs'),
      totalMs: number('totalMs'),
      roundTripMs: number('roundTripMs'),
    },
    recBatchSize: number('recBatchSize'),
    recParallel: data.recParallel === 'true',
  };
}
