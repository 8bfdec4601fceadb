// Voice activity through the demo app's UI: a WAV file in, Silero VAD v5 in the pipeline worker (16 kHz,
// recurrent state), segments listed under the waveform; compared with the clip's known speech (±100 ms).
// The microphone path runs too, with Chromium's fake capture device playing the same clip.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';

const CLIP = path.resolve('test/fixtures/vad-clip.wav');
const expected = (JSON.parse(readFileSync('test/fixtures/vad-clip.json', 'utf8')) as { segments: { startMs: number; endMs: number }[] })
  .segments;
const TOLERANCE_MS = 100;

let session: BrowserSession;
let page: Page;

beforeAll(async () => {
  session = await startBrowserSession({
    extraArgs: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${CLIP}%noloop`],
  });
  page = await session.open('/#vad');
  await page.locator('#vad-models-state').filter({ hasText: 'ready' }).waitFor({ timeout: 120_000 });
});

afterAll(async () => {
  await session?.close();
});

async function segments(): Promise<{ startMs: number; endMs: number }[]> {
  return page
    .locator('#vad-segments tbody tr')
    .evaluateAll((rows) =>
      rows.map((r) => ({ startMs: Number((r as HTMLElement).dataset.startMs), endMs: Number((r as HTMLElement).dataset.endMs) })),
    );
}

async function waitForState(state: string): Promise<void> {
  await page.waitForFunction((want) => document.getElementById('vad-result')?.dataset.state === want, state, { timeout: 120_000 });
}

describe('Voice activity tab accuracy', () => {
  test('a WAV file: every speech segment within ±100 ms of the truth, drawn on the timeline', async () => {
    await page.setInputFiles('#vad-file', CLIP);
    await waitForState('done');
    const found = await segments();
    const errors = found.flatMap((s, i) => [Math.abs(s.startMs - expected[i]?.startMs), Math.abs(s.endMs - expected[i]?.endMs)]);
    console.info(`VAD: ${found.length} segments, largest boundary error ${Math.max(...errors).toFixed(1)} ms`, found);
    expect(found).toHaveLength(expected.length);
    expect(Math.max(...errors)).toBeLessThanOrEqual(TOLERANCE_MS);
    expect(await page.locator('#vad-timeline').isVisible()).toBe(true);
    expect(await page.textContent('#vad-timings')).toMatch(/16 kHz/);
    expect(session.errors).toEqual([]);
  });

  test('the microphone (a fake capture device playing the clip once) finds the speech live', async () => {
    await page.click('#vad-mic');
    await page.locator('#vad-mic[aria-pressed="true"]').waitFor({ timeout: 30_000 });
    await waitForState('listening');
    expect(await segments()).toEqual([]);
    // The clip is 11.1 s long; its last word ends at 10.4 s.
    await expect.poll(async () => (await segments()).length, { timeout: 30_000, interval: 250 }).toBeGreaterThanOrEqual(3);
    await page.click('#vad-mic');
    await waitForState('done');
    const found = await segments();
    console.info('VAD microphone segments', found);
    expect(found.length).toBeGreaterThanOrEqual(3);
    expect(found.length).toBeLessThanOrEqual(expected.length + 1);
    // Live segments keep the clip's spacing, whatever the delay before the device started playing.
    const gaps = found.slice(1).map((s, i) => s.startMs - found[i].startMs);
    const expectedGaps = expected.slice(1).map((s, i) => s.startMs - expected[i].startMs);
    expect(gaps.some((g) => expectedGaps.some((e) => Math.abs(g - e) < 200))).toBe(true);
    expect(session.errors).toEqual([]);
  });
});
