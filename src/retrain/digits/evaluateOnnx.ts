import { loadOrt } from '../../node/loadOrt';
import { DIGITS_INPUT, DIGITS_OUTPUT } from './exportDigitsOnnx';
import { DIGIT_CLASSES, DIGIT_PIXELS, DIGIT_SIZE, type DigitSample } from './mnistSplit';
import { argMax } from './argMax';

const BATCH = 256;

/**
 * Runs a digits model (`image` [batch, 1, 28, 28] → `probabilities` [batch, 10]) on `samples` with
 * onnxruntime-node, in batches, and returns its class probabilities, row-major [samples.length, 10].
 */
export async function predictDigitsOnnx(onnx: Uint8Array, samples: DigitSample[]): Promise<Float32Array> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const out = new Float32Array(samples.length * DIGIT_CLASSES);
    for (let start = 0; start < samples.length; start += BATCH) {
      const part = samples.slice(start, start + BATCH);
      const pixels = new Float32Array(part.length * DIGIT_PIXELS);
      part.forEach((sample, i) => pixels.set(sample.pixels, i * DIGIT_PIXELS));
      const results = await session.run({ [DIGITS_INPUT]: new ort.Tensor('float32', pixels, [part.length, 1, DIGIT_SIZE, DIGIT_SIZE]) });
      const probabilities = results[DIGITS_OUTPUT];
      if (!probabilities || probabilities.type !== 'float32' || probabilities.size !== part.length * DIGIT_CLASSES) {
        throw new Error(`the digits model must output ${DIGITS_OUTPUT}: float32 [batch, ${DIGIT_CLASSES}]`);
      }
      out.set(probabilities.data as Float32Array, start * DIGIT_CLASSES);
    }
    return out;
  } finally {
    await session.release();
  }
}

/** The share of `samples` whose most probable class is their label, with onnxruntime-node. */
export async function evaluateDigits(onnx: Uint8Array, samples: DigitSample[]): Promise<{ accuracy: number; count: number }> {
  const probabilities = await predictDigitsOnnx(onnx, samples);
  let correct = 0;
  samples.forEach((sample, i) => {
    if (argMax(probabilities.subarray(i * DIGIT_CLASSES, (i + 1) * DIGIT_CLASSES)) === sample.label) correct++;
  });
  return { accuracy: samples.length ? correct / samples.length : 0, count: samples.length };
}
