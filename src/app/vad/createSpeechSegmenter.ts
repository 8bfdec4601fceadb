import { OnDeviceError } from '../../index';

/**
 * Hysteresis thresholds and durations. The defaults are silero-vad's `get_speech_timestamps` defaults
 * (threshold 0.5, neg_threshold = threshold - 0.15, min_speech 250 ms, speech_pad 30 ms) except
 * min_silence: 300 ms instead of 100 ms, because a stop closure inside a phrase ("back | tomorrow" in our
 * espeak-ng test clip) scores below 0.35 for 190 ms and 100 ms split the utterance there. Pauses between
 * utterances are longer than 300 ms; it also sets how late the microphone stream reports an end.
 */
export interface SpeechSegmenterOptions {
  /** A frame at or above this probability starts (or continues) speech. Default 0.5. */
  positiveThreshold?: number;
  /** While speaking, frames below this count as silence; in between, nothing changes. Default 0.35. */
  negativeThreshold?: number;
  /** Shorter segments (before padding) are reported as misfires. Default 250. */
  minSpeechMs?: number;
  /** Silence must last this long to end a segment; shorter pauses stay inside it. Default 300. */
  minSilenceMs?: number;
  /** Added before each start and after each end (never overlapping the previous segment). Default 30. */
  speechPadMs?: number;
}

export type SegmenterEvent =
  /** Speech crossed the positive threshold; it may still turn out to be a misfire. */
  | { type: 'speech-start'; startMs: number }
  | { type: 'speech-end'; startMs: number; endMs: number }
  /** Speech that ended before `minSpeechMs`: a cough, a click. */
  | { type: 'misfire'; startMs: number; endMs: number };

export interface SpeechSegmenter {
  /** Feed the probability of the next frame; returns what that frame decided. */
  push(probability: number): SegmenterEvent[];
  /** The audio ended after `totalSamples` samples: close an open segment. */
  flush(totalSamples: number): SegmenterEvent[];
}

export const DEFAULT_SEGMENTER_OPTIONS: Required<SpeechSegmenterOptions> = {
  positiveThreshold: 0.5,
  negativeThreshold: 0.35,
  minSpeechMs: 250,
  minSilenceMs: 300,
  speechPadMs: 30,
};

/**
 * The frame-by-frame state machine of silero-vad's `get_speech_timestamps`, made incremental so the
 * microphone and whole-file paths share it. Two deliberate differences:
 * - A segment ends where its last frame at or above `positiveThreshold` ends, not where the first frame
 *   below `negativeThreshold` starts. Frames in between the thresholds still keep a segment open (that
 *   is the hysteresis), but they are not evidence of speech, so they do not stretch it: the end is
 *   placed the same way as the start, at a confident frame. On the fading "Thank you." that closes our
 *   test clip, silero's rule ends the segment 115 ms after the truth, this one 83 ms (30 ms of it pad).
 * - Padding is applied as segments close (silero splits a too-short gap evenly between neighbours
 *   afterwards); with the defaults a gap is always ≥ minSilenceMs > 2 × speechPadMs, so the two agree.
 *
 * @example
 * const segmenter = createSpeechSegmenter(512, 16000);
 * for (const p of probabilities) for (const e of segmenter.push(p)) if (e.type === 'speech-end') keep(e);
 */
export function createSpeechSegmenter(frameSamples: number, sampleRate: number, options: SpeechSegmenterOptions = {}): SpeechSegmenter {
  const settings = { ...DEFAULT_SEGMENTER_OPTIONS, ...options };
  validate(settings);
  const samples = (ms: number) => (ms * sampleRate) / 1000;
  const toMs = (sample: number) => (sample * 1000) / sampleRate;
  const minSpeech = samples(settings.minSpeechMs);
  const minSilence = samples(settings.minSilenceMs);
  const pad = samples(settings.speechPadMs);

  let frame = 0;
  let triggered = false;
  let start = 0; // unpadded, in samples
  let paddedStart = 0;
  let lastSpeechEnd = 0; // end of the latest frame at or above the positive threshold
  let silenceSince: number | undefined;
  let previousPaddedEnd = 0;

  const close = (end: number, paddedEnd: number): SegmenterEvent => {
    triggered = false;
    silenceSince = undefined;
    if (end - start > minSpeech) {
      previousPaddedEnd = paddedEnd;
      return { type: 'speech-end', startMs: toMs(paddedStart), endMs: toMs(paddedEnd) };
    }
    return { type: 'misfire', startMs: toMs(paddedStart), endMs: toMs(end) };
  };

  return {
    push(probability) {
      const position = frame * frameSamples;
      frame++;
      if (probability >= settings.positiveThreshold) {
        silenceSince = undefined;
        lastSpeechEnd = position + frameSamples;
        if (!triggered) {
          triggered = true;
          start = position;
          paddedStart = Math.max(0, previousPaddedEnd, start - pad);
          return [{ type: 'speech-start', startMs: toMs(paddedStart) }];
        }
        return [];
      }
      if (triggered && probability < settings.negativeThreshold) {
        silenceSince ??= position;
        if (position - silenceSince >= minSilence) return [close(lastSpeechEnd, lastSpeechEnd + pad)];
      }
      return [];
    },
    flush(totalSamples) {
      if (!triggered) return [];
      const end = Math.min(lastSpeechEnd, totalSamples);
      return [close(end, Math.min(totalSamples, end + pad))];
    },
  };
}

function validate(settings: Required<SpeechSegmenterOptions>): void {
  const { positiveThreshold, negativeThreshold, minSpeechMs, minSilenceMs, speechPadMs } = settings;
  const problems: string[] = [];
  if (!(positiveThreshold > 0 && positiveThreshold <= 1)) problems.push('positiveThreshold must be in (0, 1]');
  if (!(negativeThreshold >= 0 && negativeThreshold <= positiveThreshold)) {
    problems.push('negativeThreshold must be in [0, positiveThreshold]');
  }
  for (const [name, value] of Object.entries({ minSpeechMs, minSilenceMs, speechPadMs })) {
    if (!(value >= 0 && Number.isFinite(value))) problems.push(`${name} must be a finite number ≥ 0`);
  }
  if (problems.length > 0) {
    throw new OnDeviceError('INVALID_INPUT', `Invalid VAD options: ${problems.join('; ')}`, { ...settings });
  }
}
