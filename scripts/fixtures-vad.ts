// Generates test/fixtures/vad-clip.wav (16 kHz mono) and test/fixtures/vad-clip.json (true speech intervals).
//
//   apt-get install -y espeak-ng && npx tsx scripts/fixtures-vad.ts
//
// Each phrase is synthesised by espeak-ng, resampled to 16 kHz with our own resampler, trimmed to its first
// and last audible sample, and placed at a known offset between stretches of silence. The truth intervals
// are exactly where the trimmed snippets were placed. A low, seeded noise floor runs under the whole clip
// so "silence" is not digital zero. Tests read the committed files; they never run this script.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resample } from '../src/app/vad/resample';
import { mulberry32 } from '../src/core/mulberry32';
import { readWav, writeWav } from '../src/app/vad/wav';

const SAMPLE_RATE = 16000;
const VOICE = 'en-us';
const WORDS_PER_MINUTE = 160;
const SPEECH_PEAK = 0.6;
/** Anything quieter than this (≈ -54 dBFS) at a snippet's edges counts as espeak-ng's own silence. */
const TRIM_THRESHOLD = 0.002;
// ≈ -65 dBFS: a quiet room through a decent microphone. Louder white noise (-56 dBFS) makes Silero v5 hold
// p ≈ 0.6 for ~150 ms after the fading "you" of the last phrase (measured: end +115…211 ms), which is the
// model's behaviour, not a segmentation bug; this clip tests boundaries, so it keeps the floor low.
const NOISE_RMS = 0.00056;
const SEED = 20240611;

/** Silence before each phrase, then the phrase; `tailMs` of silence closes the clip. */
const LAYOUT: { silenceBeforeMs: number; text: string }[] = [
  { silenceBeforeMs: 700, text: 'Hello there this is a test of speech detection.' },
  { silenceBeforeMs: 900, text: 'The weather today is sunny and warm.' },
  { silenceBeforeMs: 600, text: 'Please call me back tomorrow morning.' },
  { silenceBeforeMs: 1000, text: 'Thank you.' },
];
const TAIL_MS = 700;

const outDir = new URL('../test/fixtures/', import.meta.url).pathname;

function synthesise(text: string, workDir: string): Float32Array {
  const file = join(workDir, 'phrase.wav');
  execFileSync('espeak-ng', ['-v', VOICE, '-s', String(WORDS_PER_MINUTE), '-w', file, text]);
  const { sampleRate, channels } = readWav(new Uint8Array(readFileSync(file)));
  const samples = resample(channels[0], sampleRate, SAMPLE_RATE);
  let peak = 0;
  for (const s of samples) peak = Math.max(peak, Math.abs(s));
  let first = 0;
  while (first < samples.length && Math.abs(samples[first]) < TRIM_THRESHOLD * peak) first++;
  let last = samples.length - 1;
  while (last > first && Math.abs(samples[last]) < TRIM_THRESHOLD * peak) last--;
  const trimmed = samples.slice(first, last + 1);
  for (let i = 0; i < trimmed.length; i++) trimmed[i] *= SPEECH_PEAK / peak;
  return trimmed;
}

/** mulberry32 → Box–Muller: deterministic Gaussian noise. */
function gaussianNoise(length: number, rms: number, seed: number): Float32Array {
  const uniform = mulberry32(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const u = Math.max(uniform(), 1e-12);
    out[i] = rms * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  }
  return out;
}

function main(): void {
  const workDir = mkdtempSync(join(tmpdir(), 'fixtures-vad-'));
  try {
    const snippets = LAYOUT.map(({ silenceBeforeMs, text }) => ({
      text,
      silenceBefore: Math.round((silenceBeforeMs * SAMPLE_RATE) / 1000),
      samples: synthesise(text, workDir),
    }));
    const total = snippets.reduce((n, s) => n + s.silenceBefore + s.samples.length, 0) + Math.round((TAIL_MS * SAMPLE_RATE) / 1000);
    const clip = gaussianNoise(total, NOISE_RMS, SEED);
    const segments: { startMs: number; endMs: number; text: string }[] = [];
    let at = 0;
    for (const snippet of snippets) {
      at += snippet.silenceBefore;
      for (let i = 0; i < snippet.samples.length; i++) clip[at + i] += snippet.samples[i];
      const toMs = (sample: number) => Math.round((sample * 100000) / SAMPLE_RATE) / 100;
      segments.push({ startMs: toMs(at), endMs: toMs(at + snippet.samples.length), text: snippet.text });
      at += snippet.samples.length;
    }
    const version = execFileSync('espeak-ng', ['--version']).toString().split('  Data at')[0].trim();
    writeFileSync(join(outDir, 'vad-clip.wav'), writeWav(clip, SAMPLE_RATE));
    writeFileSync(
      join(outDir, 'vad-clip.json'),
      JSON.stringify(
        {
          sampleRate: SAMPLE_RATE,
          durationMs: (total * 1000) / SAMPLE_RATE,
          generator: `scripts/fixtures-vad.ts with ${version}, voice ${VOICE}, ${WORDS_PER_MINUTE} wpm`,
          segments,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`vad-clip.wav: ${(total / SAMPLE_RATE).toFixed(2)} s`, segments);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

main();
