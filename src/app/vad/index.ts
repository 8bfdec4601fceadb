// The VAD pipeline of the demo app; everything else in this folder is internal to it.
export type { RunModel } from './RunModel';
export { detectSpeech, type SpeechDetection, type SpeechSegment } from './detectSpeech';
export { createVadStream, VAD_FRAME_MS, type VadEvent, type VadOptions, type VadStream } from './createVadStream';
export type { SegmenterEvent, SpeechSegmenterOptions } from './createSpeechSegmenter';
export { createResampler, resample, type Resampler, type ResamplerOptions } from './resample';
export { readWav, writeWav, type WavAudio } from './wav';
