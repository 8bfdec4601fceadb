import { OnDeviceError } from '../index';
import { readWav } from './vad';

export interface MonoAudio {
  samples: Float32Array;
  sampleRate: number;
}

/** Any browser can decode these at 48 kHz; the VAD pipeline resamples to 16 kHz itself. */
const DECODE_RATE = 48_000;

/**
 * Mono samples of an audio file. WAV is read exactly as stored (its own sample rate); anything else
 * goes through the browser's decoder.
 */
export async function decodeAudio(file: Blob): Promise<MonoAudio> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const isWav =
    bytes.length > 12 &&
    String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF' &&
    String.fromCharCode(...bytes.subarray(8, 12)) === 'WAVE';
  if (isWav) {
    const { sampleRate, channels } = readWav(bytes);
    return { samples: mixDown(channels), sampleRate };
  }
  if (typeof OfflineAudioContext === 'undefined')
    throw new OnDeviceError('NOT_SUPPORTED', 'This browser cannot decode audio (no Web Audio API); use a WAV file');
  try {
    const buffer = await new OfflineAudioContext(1, 1, DECODE_RATE).decodeAudioData(bytes.buffer);
    return {
      samples: mixDown(Array.from({ length: buffer.numberOfChannels }, (_, c) => buffer.getChannelData(c))),
      sampleRate: buffer.sampleRate,
    };
  } catch (error) {
    throw new OnDeviceError(
      'INVALID_INPUT',
      `This file could not be decoded as audio (${file.type || 'unknown type'}): ${(error as Error).message}`,
    );
  }
}

function mixDown(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0];
  const out = new Float32Array(channels[0].length);
  for (const channel of channels) for (let i = 0; i < out.length; i++) out[i] += channel[i] / channels.length;
  return out;
}
