import { describe, expect, it } from 'vitest';
import { createSpeechSegmenter, type SegmenterEvent } from '../../src/app/vad/createSpeechSegmenter';

// 16 samples per frame at 1 kHz: one frame is 16 ms, which keeps the arithmetic readable.
const FRAME = 16;
const RATE = 1000;

function run(probabilities: number[], options = {}, totalSamples = probabilities.length * FRAME): SegmenterEvent[] {
  const segmenter = createSpeechSegmenter(FRAME, RATE, {
    speechPadMs: 0,
    minSpeechMs: 50,
    minSilenceMs: 40,
    ...options,
  });
  return [...probabilities.flatMap((p) => segmenter.push(p)), ...segmenter.flush(totalSamples)];
}
const repeat = (p: number, frames: number) => Array<number>(frames).fill(p);

describe('createSpeechSegmenter', () => {
  it('opens at the first confident frame and closes after the last one, once silence lasts minSilenceMs', () => {
    const events = run([...repeat(0, 3), ...repeat(0.9, 5), ...repeat(0.1, 4), ...repeat(0, 2)]);
    expect(events).toEqual([
      { type: 'speech-start', startMs: 48 },
      // 3 silent frames = 48 ms ≥ 40 ms is reached on the 4th frame (the check is "position - silence start")
      { type: 'speech-end', startMs: 48, endMs: 128 },
    ]);
  });

  it('keeps a segment open through frames between the thresholds, without extending its end', () => {
    const events = run([...repeat(0.9, 4), ...repeat(0.4, 10), ...repeat(0.1, 4)]);
    expect(events.at(-1)).toEqual({ type: 'speech-end', startMs: 0, endMs: 64 });
  });

  it('bridges pauses shorter than minSilenceMs', () => {
    const events = run([...repeat(0.9, 4), ...repeat(0.1, 2), ...repeat(0.9, 4), ...repeat(0, 4)]);
    expect(events.filter((e) => e.type !== 'speech-start')).toEqual([{ type: 'speech-end', startMs: 0, endMs: 160 }]);
  });

  it('reports segments shorter than minSpeechMs as misfires', () => {
    const events = run([0, 0.9, 0.9, 0.9, 0, 0, 0, 0, 0]);
    expect(events).toEqual([
      { type: 'speech-start', startMs: 16 },
      { type: 'misfire', startMs: 16, endMs: 64 },
    ]);
  });

  it('pads both sides, never before 0 nor into the previous segment', () => {
    const events = run([0.9, 0.9, 0.9, 0.9, 0, 0, 0, 0, 0.9, 0.9, 0.9, 0.9, 0, 0, 0, 0], { speechPadMs: 40 });
    expect(events.filter((e) => e.type === 'speech-end')).toEqual([
      { type: 'speech-end', startMs: 0, endMs: 104 },
      { type: 'speech-end', startMs: 104, endMs: 232 },
    ]);
  });

  it('closes an open segment at the end of the audio on flush', () => {
    expect(run([0, ...repeat(0.9, 6)], { speechPadMs: 20 }, 100).at(-1)).toEqual({
      type: 'speech-end',
      startMs: 0,
      endMs: 100,
    });
    expect(run([0, 0.9, 0.9], {}, 40).at(-1)).toEqual({ type: 'misfire', startMs: 16, endMs: 40 });
  });

  it('validates its options', () => {
    expect(() => createSpeechSegmenter(FRAME, RATE, { positiveThreshold: 0.3, negativeThreshold: 0.4 })).toThrow(/negativeThreshold/);
    expect(() => createSpeechSegmenter(FRAME, RATE, { minSilenceMs: -1 })).toThrow(/minSilenceMs/);
  });
});
