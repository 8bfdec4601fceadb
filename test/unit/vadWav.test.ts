import { describe, expect, it } from 'vitest';
import { OnDeviceError } from '../../src/core/OnDeviceError';
import { readWav, writeWav } from '../../src/app/vad/wav';

/** A WAVE file built by hand, so the reader is checked against the format rather than our writer. */
function wavBytes(format: number, channels: number, bits: number, sampleRate: number, data: number[]): Uint8Array {
  const body = new Uint8Array(data);
  const bytes = new Uint8Array(44 + body.length + 10);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, text: string) => [...text].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  ascii(0, 'RIFF');
  view.setUint32(4, bytes.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'LIST'); // an unrelated odd-sized chunk first: the reader must skip it with its pad byte
  view.setUint32(16, 1, true);
  ascii(22, 'fmt ');
  view.setUint32(26, 16, true);
  view.setUint16(30, format, true);
  view.setUint16(32, channels, true);
  view.setUint32(34, sampleRate, true);
  view.setUint32(38, (sampleRate * channels * bits) / 8, true);
  view.setUint16(42, (channels * bits) / 8, true);
  view.setUint16(44, bits, true);
  ascii(46, 'data');
  view.setUint32(50, body.length, true);
  bytes.set(body, 54);
  return bytes;
}

describe('readWav / writeWav', () => {
  it('round-trips 16-bit mono within one quantisation step', () => {
    const samples = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 7) * 0.9);
    const { sampleRate, channels } = readWav(writeWav(samples, 16000));
    expect(sampleRate).toBe(16000);
    expect(channels).toHaveLength(1);
    expect(channels[0]).toHaveLength(1000);
    for (let i = 0; i < samples.length; i++) expect(Math.abs(channels[0][i] - samples[i])).toBeLessThanOrEqual(1 / 32768);
  });

  it('clips out-of-range samples instead of wrapping', () => {
    const { channels } = readWav(writeWav(Float32Array.of(2, -2, 1, -1), 8000));
    expect(Array.from(channels[0])).toEqual([32767 / 32768, -1, 32767 / 32768, -1]);
  });

  it('reads interleaved stereo 16-bit, skipping unknown chunks', () => {
    // L = 0x4000 (0.5), R = 0xC000 (-0.5), then L = -32768, R = 0
    const { sampleRate, channels } = readWav(wavBytes(1, 2, 16, 44100, [0x00, 0x40, 0x00, 0xc0, 0x00, 0x80, 0, 0]));
    expect(sampleRate).toBe(44100);
    expect(Array.from(channels[0])).toEqual([0.5, -1]);
    expect(Array.from(channels[1])).toEqual([-0.5, 0]);
  });

  it('reads 8-bit unsigned, 24-bit and 32-bit float PCM', () => {
    expect(Array.from(readWav(wavBytes(1, 1, 8, 8000, [128, 0, 192])).channels[0])).toEqual([0, -1, 0.5]);
    const s24 = readWav(wavBytes(1, 1, 24, 8000, [0x00, 0x00, 0x40, 0x00, 0x00, 0xc0])).channels[0];
    expect(Array.from(s24)).toEqual([0.5, -0.5]);
    const f32 = new Uint8Array(Float32Array.of(0.25, -0.75).buffer);
    expect(Array.from(readWav(wavBytes(3, 1, 32, 8000, [...f32])).channels[0])).toEqual([0.25, -0.75]);
  });

  it('rejects what it cannot read with INVALID_INPUT', () => {
    expect(() => readWav(new Uint8Array(8))).toThrow(OnDeviceError);
    expect(() => readWav(wavBytes(2, 1, 4, 8000, [0]))).toThrow(/Unsupported WAVE encoding/);
    expect(() => readWav(new TextEncoder().encode('RIFF\0\0\0\0WAVE'))).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: 'WAVE file has no data chunk' }),
    );
  });
});
