import { OnDeviceError } from '../../index';

/** Decoded audio: one Float32Array per channel, samples in [-1, 1]. */
export interface WavAudio {
  sampleRate: number;
  channels: Float32Array[];
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/**
 * Read a RIFF/WAVE file: integer PCM (8, 16, 24, 32 bit) or IEEE float (32, 64 bit), any channel count.
 *
 * @example
 * const { sampleRate, channels } = readWav(new Uint8Array(await file.arrayBuffer()));
 */
export function readWav(bytes: Uint8Array): WavAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12 || fourCC(view, 0) !== 'RIFF' || fourCC(view, 8) !== 'WAVE') {
    throw new OnDeviceError('INVALID_INPUT', 'Not a RIFF/WAVE file', { bytes: bytes.byteLength });
  }
  let format: { tag: number; channels: number; sampleRate: number; bitsPerSample: number } | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.byteLength) {
    const id = fourCC(view, offset);
    // Streaming writers (espeak-ng to a pipe, for one) leave the data size at 0xffffffff: clamp to the file.
    const size = Math.min(view.getUint32(offset + 4, true), bytes.byteLength - offset - 8);
    const body = offset + 8;
    if (id === 'fmt ') {
      let tag = view.getUint16(body, true);
      if (tag === WAVE_FORMAT_EXTENSIBLE && size >= 26) tag = view.getUint16(body + 24, true);
      format = {
        tag,
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!format) throw new OnDeviceError('INVALID_INPUT', 'WAVE data chunk before its fmt chunk');
      return { sampleRate: format.sampleRate, channels: decodeSamples(view, body, size, format) };
    }
    offset = body + size + (size & 1); // chunks are word-aligned
  }
  throw new OnDeviceError('INVALID_INPUT', 'WAVE file has no data chunk');
}

function decodeSamples(
  view: DataView,
  start: number,
  size: number,
  format: { tag: number; channels: number; bitsPerSample: number },
): Float32Array[] {
  const { tag, channels: channelCount, bitsPerSample } = format;
  const bytesPerSample = bitsPerSample / 8;
  const supported =
    (tag === WAVE_FORMAT_PCM && [8, 16, 24, 32].includes(bitsPerSample)) ||
    (tag === WAVE_FORMAT_IEEE_FLOAT && [32, 64].includes(bitsPerSample));
  if (!supported || channelCount < 1) {
    throw new OnDeviceError('INVALID_INPUT', `Unsupported WAVE encoding (format ${tag}, ${bitsPerSample} bit)`, {
      formatTag: tag,
      bitsPerSample,
      channels: channelCount,
    });
  }
  const frames = Math.floor(size / (bytesPerSample * channelCount));
  const channels = Array.from({ length: channelCount }, () => new Float32Array(frames));
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channelCount; c++) {
      const at = start + (i * channelCount + c) * bytesPerSample;
      channels[c][i] = readSample(view, at, tag, bitsPerSample);
    }
  }
  return channels;
}

function readSample(view: DataView, at: number, tag: number, bits: number): number {
  if (tag === WAVE_FORMAT_IEEE_FLOAT) return bits === 32 ? view.getFloat32(at, true) : view.getFloat64(at, true);
  switch (bits) {
    case 8:
      return (view.getUint8(at) - 128) / 128; // 8-bit WAVE is unsigned
    case 16:
      return view.getInt16(at, true) / 32768;
    case 24: {
      const value = view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16);
      return value / 8388608;
    }
    default:
      return view.getInt32(at, true) / 2147483648;
  }
}

/**
 * Write mono samples as a 16-bit PCM WAVE file (clipped to [-1, 1], rounded to the nearest step).
 *
 * @example
 * const bytes = writeWav(samples, 16000);
 */
export function writeWav(samples: Float32Array, sampleRate: number): Uint8Array {
  const dataBytes = samples.length * 2;
  const bytes = new Uint8Array(44 + dataBytes);
  const view = new DataView(bytes.buffer);
  writeFourCC(view, 0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  writeFourCC(view, 8, 'WAVE');
  writeFourCC(view, 12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, WAVE_FORMAT_PCM, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  writeFourCC(view, 36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) {
    const clipped = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, Math.max(-32768, Math.min(32767, Math.round(clipped * 32768))), true);
  }
  return bytes;
}

function fourCC(view: DataView, at: number): string {
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}

function writeFourCC(view: DataView, at: number, text: string): void {
  for (let i = 0; i < 4; i++) view.setUint8(at + i, text.charCodeAt(i));
}
