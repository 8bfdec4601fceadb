import { OnDeviceError } from '../../index';
import type { RunModel } from './RunModel';

export const SILERO_SAMPLE_RATE = 16000;
/** Silero v5 takes exactly 512 new samples per call at 16 kHz (32 ms). */
export const SILERO_FRAME_SAMPLES = 512;
/**
 * …plus the last 64 samples of the previous frame in front of them, so an onset straddling a frame
 * boundary is seen whole. This is what silero-vad's own `OnnxWrapper.__call__` (utils_vad.py) and
 * @ricky0123/vad-web's `Silero.process` (dist/models/silero.js) do; without it v5's scores are off.
 */
export const SILERO_CONTEXT_SAMPLES = 64;
const STATE_SIZE = 2 * 1 * 128;

/** Silero VAD v5 with its recurrent state and context carried from one frame to the next. */
export interface SileroV5 {
  /** Speech probability of the next 512-sample frame (16 kHz). Calls are served in order. */
  process(frame: Float32Array): Promise<number>;
  /** Forget the state and context, e.g. between two unrelated recordings. */
  reset(): void;
}

/**
 * @example
 * const vad = createSileroV5(runModel, 'silero-vad-v5');
 * const probability = await vad.process(frame512);
 */
export function createSileroV5(runModel: RunModel, modelId: string): SileroV5 {
  let state = new Float32Array(STATE_SIZE);
  let context = new Float32Array(SILERO_CONTEXT_SAMPLES);
  let generation = 0;
  let queue: Promise<unknown> = Promise.resolve();

  const step = async (frame: Float32Array): Promise<number> => {
    const startedIn = generation;
    const input = new Float32Array(SILERO_CONTEXT_SAMPLES + SILERO_FRAME_SAMPLES);
    input.set(context, 0);
    input.set(frame, SILERO_CONTEXT_SAMPLES);
    const outputs = await runModel(modelId, {
      input: { type: 'float32', data: input, dims: [1, input.length] },
      state: { type: 'float32', data: state, dims: [2, 1, 128] },
      sr: { type: 'int64', data: BigInt64Array.of(BigInt(SILERO_SAMPLE_RATE)), dims: [] },
    });
    const probability = outputs.output?.data[0];
    const nextState = outputs.stateN?.data;
    if (typeof probability !== 'number' || !(nextState instanceof Float32Array) || nextState.length !== STATE_SIZE) {
      throw new OnDeviceError('INFERENCE_FAILED', 'Silero v5 returned no `output` probability or `stateN` state', {
        modelId,
        outputs: Object.keys(outputs),
      });
    }
    // A reset while this frame was in flight wins: keep its fresh state.
    if (startedIn === generation) {
      state = nextState.slice();
      context = frame.slice(-SILERO_CONTEXT_SAMPLES);
    }
    return probability;
  };

  return {
    process(frame) {
      if (frame.length !== SILERO_FRAME_SAMPLES) {
        return Promise.reject(
          new OnDeviceError('INVALID_INPUT', `Silero v5 frames are ${SILERO_FRAME_SAMPLES} samples`, {
            length: frame.length,
          }),
        );
      }
      // Each frame needs the previous frame's state, so calls run one after another.
      const result = queue.then(() => step(frame));
      queue = result.catch(() => undefined);
      return result;
    },
    reset() {
      generation++;
      state = new Float32Array(STATE_SIZE);
      context = new Float32Array(SILERO_CONTEXT_SAMPLES);
    },
  };
}
