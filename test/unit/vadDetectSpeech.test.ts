import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createVadStream, type VadEvent } from '../../src/app/vad/createVadStream';
import { detectSpeech, type SpeechSegment } from '../../src/app/vad/detectSpeech';
import { resample } from '../../src/app/vad/resample';
import { readWav } from '../../src/app/vad/wav';
import { createOnnxRunModel } from '../fixtures/helpers/onnxRunModel';

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);
const clip = readWav(new Uint8Array(readFileSync(fixture('vad-clip.wav'))));
const truth: { sampleRate: number; segments: SpeechSegment[] } = JSON.parse(readFileSync(fixture('vad-clip.json'), 'utf8'));
const model = createOnnxRunModel({
  'silero-vad-v5': new URL('../../node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx', import.meta.url).pathname,
});
afterAll(() => model.release());

const TOLERANCE_MS = 100;

/** Signed boundary errors per true segment; each must be matched by exactly one detected segment. */
function boundaryErrors(detected: SpeechSegment[]) {
  return truth.segments.map((t) => {
    const overlapping = detected.filter((d) => d.startMs < t.endMs && d.endMs > t.startMs);
    expect(overlapping, `segment ${t.startMs}–${t.endMs} ms`).toHaveLength(1);
    return { startMs: overlapping[0].startMs - t.startMs, endMs: overlapping[0].endMs - t.endMs };
  });
}

describe('detectSpeech (Silero VAD v5, onnxruntime-node)', () => {
  it('finds each espeak-ng phrase of the fixture within ±100 ms', async () => {
    expect(clip.sampleRate).toBe(16000);
    const result = await detectSpeech(clip.channels[0], clip.sampleRate, model.runModel);
    expect(result.frameMs).toBe(32);
    expect(result.probabilities).toHaveLength(Math.ceil(clip.channels[0].length / 512));
    expect(result.segments).toHaveLength(truth.segments.length);
    const errors = boundaryErrors(result.segments);
    const rounded = errors.map((e) => `${Math.round(e.startMs)}/${Math.round(e.endMs)}`);
    console.info(`VAD boundary errors, start/end (detected − true, ms): ${rounded.join(', ')}`);
    for (const e of errors) {
      expect(Math.abs(e.startMs)).toBeLessThanOrEqual(TOLERANCE_MS);
      expect(Math.abs(e.endMs)).toBeLessThanOrEqual(TOLERANCE_MS);
    }
  });

  it('is deterministic', async () => {
    const a = await detectSpeech(clip.channels[0], 16000, model.runModel);
    const b = await detectSpeech(clip.channels[0], 16000, model.runModel);
    expect(b).toEqual(a);
  });

  it('gives the same segments, within one frame, for the clip at 44.1 and 48 kHz', async () => {
    const native = await detectSpeech(clip.channels[0], 16000, model.runModel);
    for (const rate of [44100, 48000]) {
      const { segments } = await detectSpeech(resample(clip.channels[0], 16000, rate), rate, model.runModel);
      expect(segments).toHaveLength(native.segments.length);
      segments.forEach((s, i) => {
        expect(Math.abs(s.startMs - native.segments[i].startMs)).toBeLessThanOrEqual(32);
        expect(Math.abs(s.endMs - native.segments[i].endMs)).toBeLessThanOrEqual(32);
      });
    }
  });

  it('streams: chunks of microphone size give the same events as the whole file', async () => {
    const whole = await detectSpeech(clip.channels[0], 16000, model.runModel);
    const stream = createVadStream(model.runModel, 16000);
    const events: VadEvent[] = [];
    const pushes: Promise<VadEvent[]>[] = [];
    for (let offset = 0; offset < clip.channels[0].length; offset += 128) {
      pushes.push(stream.push(clip.channels[0].subarray(offset, offset + 128))); // not awaited: order is kept
    }
    for (const p of pushes) events.push(...(await p));
    events.push(...(await stream.flush()));
    const ends = events.filter((e) => e.type === 'speech-end').map(({ startMs, endMs }) => ({ startMs, endMs }));
    expect(ends).toEqual(whole.segments);
    expect(events.filter((e) => e.type === 'speech-start')).toHaveLength(whole.segments.length);
    const frames = events.filter((e) => e.type === 'frame');
    expect(Float32Array.from(frames.map((e) => e.probability))).toEqual(whole.probabilities);
    // The microphone hears about the end of a phrase once minSilenceMs (300) of silence has been scored,
    // not at the end of the input.
    const firstEnd = events.findIndex((e) => e.type === 'speech-end');
    const framesBeforeFirstEnd = events.slice(0, firstEnd).filter((e) => e.type === 'frame').length;
    expect(framesBeforeFirstEnd * 32).toBeLessThan(truth.segments[0].endMs + 500);
  });

  it('stops between frames when its signal aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(detectSpeech(clip.channels[0], 16000, model.runModel, { signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });
});
