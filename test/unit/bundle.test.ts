// The main-thread bundles must not contain onnxruntime-web: it belongs in the worker only.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';

const dist = path.resolve('dist');
// Strings that only onnxruntime-web's code contains. (Not the wasm file's name: the page compiles that wasm itself,
// before the worker starts, and hands the compiled module over; compiling runs none of onnxruntime's code.)
const ORT_MARKERS = [/OrtCreateSession/, /\bwasmPaths\b/, /InferenceSession/];

const mainThreadFiles = () => [
  'ondevice.mjs',
  'ondevice.js',
  ...readdirSync(path.join(dist, 'assets'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => `assets/${f}`),
];

describe('built output', () => {
  test('dist/ exists (npm test builds before testing)', () => {
    expect(existsSync(path.join(dist, 'ondevice.mjs'))).toBe(true);
  });

  test('main-thread bundles contain no onnxruntime-web', () => {
    const files = mainThreadFiles();
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const file of files) {
      const text = readFileSync(path.join(dist, file), 'utf8');
      for (const marker of ORT_MARKERS) expect(`${file}: ${marker.test(text)}`).toBe(`${file}: false`);
    }
  });

  test('the worker side does load onnxruntime-web (the check above can fail)', () => {
    const chunks = readdirSync(path.join(dist, 'chunks')).filter((f) => f.endsWith('.mjs'));
    const text = chunks.map((f) => readFileSync(path.join(dist, 'chunks', f), 'utf8')).join('\n');
    for (const marker of ORT_MARKERS) expect(marker.test(text)).toBe(true);
  });

  test('only the lean onnxruntime files are shipped (no combined JSEP build)', () => {
    const ort = readdirSync(path.join(dist, 'ort')).sort();
    expect(ort).toContain('ort-wasm-simd-threaded.wasm');
    expect(ort.some((f) => f.includes('jsep'))).toBe(false);
  });
});
