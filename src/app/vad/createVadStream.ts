import { OnDeviceError } from '../../index';
import { createResampler, type Resampler } from './resample';
import type { RunModel } from './RunModel';
import { createSileroV5, SILERO_FRAME_SAMPLES, SILERO_SAMPLE_RATE } from './createSileroV5';
import { createSpeechSegmenter, type SegmenterEvent, type SpeechSegmenterOptions } from './createSpeechSegmenter';

export interface VadOptions extends SpeechSegmenterOptions {
  /** The id `runModel` knows Silero VAD v5 by. Default 'silero-vad-v5'. */
  modelId?: string;
  /** Stops processing between frames; the pending call rejects with code 'ABORTED'. */
  signal?: AbortSignal;
}

/** 32 ms: one Silero v5 frame of 512 samples at 16 kHz. */
export const VAD_FRAME_MS = (SILERO_FRAME_SAMPLES * 1000) / SILERO_SAMPLE_RATE;

export type VadEvent =
  /** One 32 ms frame was scored; `startMs` is where it starts in the stream. */
  { type: 'frame'; index: number; startMs: number; probability: number } | SegmenterEvent;

export interface VadStream {
  /** Feed the next chunk (any length, at the stream's sample rate); resolves with what it decided. */
  push(chunk: Float32Array): Promise<VadEvent[]>;
  /** The input ended: score the partial last frame (zero-padded) and close an open segment. */
  flush(): Promise<VadEvent[]>;
}

/**
 * Voice activity detection for audio that arrives over time (a microphone worklet). Times are in ms from
 * the first sample pushed. Calls are served in order, so a caller may push without awaiting.
 *
 * @example
 * const vad = createVadStream(runModel, audioContext.sampleRate);
 * port.onmessage = async (e) => {
 *   for (const event of await vad.push(e.data)) if (event.type === 'speech-end') transcribe(event);
 * };
 */
export function createVadStream(runModel: RunModel, sampleRate: number, options: VadOptions = {}): VadStream {
  const silero = createSileroV5(runModel, options.modelId ?? 'silero-vad-v5');
  const segmenter = createSpeechSegmenter(SILERO_FRAME_SAMPLES, SILERO_SAMPLE_RATE, options);
  const resampler: Resampler = createResampler(sampleRate, SILERO_SAMPLE_RATE);
  const pending = new Float32Array(SILERO_FRAME_SAMPLES);
  let pendingLength = 0;
  let frameIndex = 0;
  let totalSamples = 0; // at 16 kHz
  let flushed = false;
  let queue: Promise<unknown> = Promise.resolve();

  const scoreFrame = async (frame: Float32Array, events: VadEvent[]) => {
    if (options.signal?.aborted) {
      throw new OnDeviceError('ABORTED', 'Voice activity detection was aborted', { frameIndex });
    }
    const probability = await silero.process(frame);
    events.push({ type: 'frame', index: frameIndex, startMs: frameIndex * VAD_FRAME_MS, probability });
    frameIndex++;
    events.push(...segmenter.push(probability));
  };

  const consume = async (samples: Float32Array): Promise<VadEvent[]> => {
    const events: VadEvent[] = [];
    totalSamples += samples.length;
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(SILERO_FRAME_SAMPLES - pendingLength, samples.length - offset);
      pending.set(samples.subarray(offset, offset + take), pendingLength);
      pendingLength += take;
      offset += take;
      if (pendingLength === SILERO_FRAME_SAMPLES) {
        pendingLength = 0;
        await scoreFrame(pending.slice(), events);
      }
    }
    return events;
  };

  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  };

  return {
    push(chunk) {
      return serially(async () => {
        if (flushed) throw new OnDeviceError('INVALID_INPUT', 'VAD stream was already flushed');
        return consume(resampler.push(chunk));
      });
    },
    flush() {
      return serially(async () => {
        if (flushed) return [];
        flushed = true;
        const events = await consume(resampler.flush());
        if (pendingLength > 0) {
          // silero-vad zero-pads the last partial window the same way.
          const last = new Float32Array(SILERO_FRAME_SAMPLES);
          last.set(pending.subarray(0, pendingLength));
          pendingLength = 0;
          await scoreFrame(last, events);
        }
        events.push(...segmenter.flush(totalSamples));
        return events;
      });
    },
  };
}
