import type { RunModel } from './RunModel';
import { createVadStream, VAD_FRAME_MS, type VadOptions } from './createVadStream';

export interface SpeechSegment {
  startMs: number;
  endMs: number;
}

export interface SpeechDetection {
  segments: SpeechSegment[];
  /** Silero's speech probability for each frame; frame i starts at i × frameMs. */
  probabilities: Float32Array;
  frameMs: number;
}

/**
 * Find the speech in a whole recording (any sample rate; it is resampled to 16 kHz for Silero VAD v5).
 * Runs the same code as {@link createVadStream}, so a file and a microphone give the same segments.
 *
 * @example
 * const { segments } = await detectSpeech(channels[0], sampleRate, runModel);
 * // → [{ startMs: 680, endMs: 3220 }, …]
 */
export async function detectSpeech(
  samples: Float32Array,
  sampleRate: number,
  runModel: RunModel,
  options: VadOptions = {},
): Promise<SpeechDetection> {
  const stream = createVadStream(runModel, sampleRate, options);
  const events = [...(await stream.push(samples)), ...(await stream.flush())];
  const segments: SpeechSegment[] = [];
  const probabilities: number[] = [];
  for (const event of events) {
    if (event.type === 'frame') probabilities.push(event.probability);
    else if (event.type === 'speech-end') segments.push({ startMs: event.startMs, endMs: event.endMs });
  }
  return { segments, probabilities: Float32Array.from(probabilities), frameMs: VAD_FRAME_MS };
}
