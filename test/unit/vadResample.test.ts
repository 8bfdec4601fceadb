import { describe, expect, it } from 'vitest';
import { createResampler, resample } from '../../src/app/vad/resample';

const tone = (hz: number, rate: number, seconds: number) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.sin((2 * Math.PI * hz * i) / rate));

/** Amplitude of the `hz` component over the middle of the signal (edges are where the filter runs off). */
function amplitudeAt(samples: Float32Array, hz: number, rate: number): number {
  const from = Math.floor(samples.length / 4);
  const to = Math.floor((3 * samples.length) / 4);
  let re = 0;
  let im = 0;
  for (let i = from; i < to; i++) {
    re += samples[i] * Math.cos((2 * Math.PI * hz * i) / rate);
    im += samples[i] * Math.sin((2 * Math.PI * hz * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

describe('resample', () => {
  it('returns a copy when the rates match', () => {
    const input = Float32Array.of(1, 2, 3);
    const output = resample(input, 16000, 16000);
    expect(Array.from(output)).toEqual([1, 2, 3]);
    expect(output).not.toBe(input);
  });

  it('produces ceil(length · to / from) samples', () => {
    expect(resample(new Float32Array(48000), 48000, 16000)).toHaveLength(16000);
    expect(resample(new Float32Array(44101), 44100, 16000)).toHaveLength(16001);
    expect(resample(new Float32Array(100), 16000, 48000)).toHaveLength(300);
  });

  it('keeps a constant constant and a 1 kHz tone in phase (zero delay)', () => {
    const dc = resample(new Float32Array(4410).fill(0.5), 44100, 16000);
    for (let i = 100; i < dc.length - 100; i++) expect(dc[i]).toBeCloseTo(0.5, 6);
    const out = resample(tone(1000, 48000, 0.5), 48000, 16000);
    let worst = 0;
    for (let i = 200; i < out.length - 200; i++) {
      worst = Math.max(worst, Math.abs(out[i] - Math.sin((2 * Math.PI * 1000 * i) / 16000)));
    }
    expect(worst).toBeLessThan(1e-3);
  });

  it('passes speech-band tones and removes what would alias', () => {
    // 6 kHz fits under the 8 kHz Nyquist frequency of 16 kHz audio…
    expect(amplitudeAt(resample(tone(6000, 48000, 0.5), 48000, 16000), 6000, 16000)).toBeGreaterThan(0.99);
    // …12 kHz does not: naive decimation would fold it onto 4 kHz at full strength.
    const folded = resample(tone(12000, 48000, 0.5), 48000, 16000);
    expect(amplitudeAt(folded, 4000, 16000)).toBeLessThan(1e-3);
    const high = tone(12000, 48000, 0.5);
    const naive = Float32Array.from({ length: 8000 }, (_, i) => high[i * 3]);
    expect(amplitudeAt(naive, 4000, 16000)).toBeGreaterThan(0.9);
    // 44.1 kHz → 16 kHz: 9 kHz would land on 7 kHz.
    expect(amplitudeAt(resample(tone(9000, 44100, 0.5), 44100, 16000), 7000, 16000)).toBeLessThan(2e-3);
  });

  it('upsamples a tone without imaging', () => {
    const out = resample(tone(3000, 16000, 0.25), 16000, 48000);
    expect(amplitudeAt(out, 3000, 48000)).toBeGreaterThan(0.99);
    expect(amplitudeAt(out, 13000, 48000)).toBeLessThan(1e-3); // the image of 3 kHz around 16 kHz
  });

  it('gives bit-identical output in chunks of any size', () => {
    const input = Float32Array.from({ length: 20000 }, (_, i) => Math.sin(i * 0.01) + 0.3 * Math.sin(i * 1.7));
    const whole = resample(input, 44100, 16000);
    const resampler = createResampler(44100, 16000);
    const parts: number[] = [];
    const sizes = [1, 7, 128, 0, 3000, 333, 5000];
    let offset = 0;
    for (let i = 0; offset < input.length; i++) {
      const size = sizes[i % sizes.length];
      parts.push(...resampler.push(input.subarray(offset, offset + size)));
      offset += size;
    }
    parts.push(...resampler.flush());
    expect(Float32Array.from(parts)).toEqual(whole);
  });

  it('rejects rates that are not positive integers', () => {
    expect(() => createResampler(0, 16000)).toThrow(/fromRate/);
    expect(() => createResampler(44100, 16000.5)).toThrow(/toRate/);
  });
});
