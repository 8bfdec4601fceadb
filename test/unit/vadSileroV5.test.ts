import { describe, expect, it } from 'vitest';
import type { Feeds } from '../../src/core/protocol';
import { createSileroV5 } from '../../src/app/vad/createSileroV5';

/** A stand-in for the model that records its feeds and counts frames in its "state". */
function fakeSilero() {
  const seen: Feeds[] = [];
  const runModel = async (modelId: string, feeds: Feeds): Promise<Feeds> => {
    expect(modelId).toBe('vad');
    seen.push(feeds);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 3)); // out-of-order completion
    const state = (feeds.state.data as Float32Array).map((v) => v + 1);
    const input = feeds.input.data as Float32Array;
    return {
      output: { type: 'float32', data: Float32Array.of(input[input.length - 1]), dims: [1, 1] },
      stateN: { type: 'float32', data: state, dims: [2, 1, 128] },
    };
  };
  return { runModel, seen };
}
const frame = (value: number) => new Float32Array(512).fill(value);

describe('createSileroV5', () => {
  it('feeds 64 samples of context + 512 new samples, the carried state and sr = 16000 (int64)', async () => {
    const { runModel, seen } = fakeSilero();
    const silero = createSileroV5(runModel, 'vad');
    const ramp = Float32Array.from({ length: 512 }, (_, i) => i / 512);
    await silero.process(ramp);
    await silero.process(frame(0.25));
    expect(seen[0].input.dims).toEqual([1, 576]);
    expect(Array.from((seen[0].input.data as Float32Array).subarray(0, 64))).toEqual(Array(64).fill(0));
    expect(Array.from((seen[1].input.data as Float32Array).subarray(0, 64))).toEqual(Array.from(ramp.subarray(448)));
    expect((seen[1].state.data as Float32Array)[0]).toBe(1);
    expect(seen[0].sr).toEqual({ type: 'int64', data: BigInt64Array.of(16000n), dims: [] });
  });

  it('serves calls in order even when they are not awaited', async () => {
    const { runModel, seen } = fakeSilero();
    const silero = createSileroV5(runModel, 'vad');
    const results = await Promise.all([0.1, 0.2, 0.3, 0.4, 0.5].map((v) => silero.process(frame(v))));
    expect(results.map((r) => Math.round(r * 10) / 10)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(seen.map((f) => (f.state.data as Float32Array)[0])).toEqual([0, 1, 2, 3, 4]);
  });

  it('starts from zero state and context after reset', async () => {
    const { runModel, seen } = fakeSilero();
    const silero = createSileroV5(runModel, 'vad');
    await silero.process(frame(1));
    silero.reset();
    await silero.process(frame(1));
    expect((seen[1].state.data as Float32Array)[0]).toBe(0);
    expect((seen[1].input.data as Float32Array)[0]).toBe(0);
  });

  it('rejects frames that are not 512 samples, and outputs that are not Silero v5', async () => {
    const { runModel } = fakeSilero();
    await expect(createSileroV5(runModel, 'vad').process(new Float32Array(480))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    const wrong = createSileroV5(async () => ({}), 'vad');
    await expect(wrong.process(frame(0))).rejects.toMatchObject({ code: 'INFERENCE_FAILED' });
  });
});
