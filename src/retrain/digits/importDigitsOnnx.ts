import * as tf from '@tensorflow/tfjs';
import { readInitializers } from '../../node/onnx/readInitializers';
import { DIGITS_CNN, type DigitsCnnWeights } from './digitsCnn';
import { DIGIT_CLASSES } from './mnistSplit';

const { conv1, conv2 } = DIGITS_CNN;
/** The initializers exportDigitsOnnx writes, with their ONNX dims. */
const EXPECTED: Record<string, number[]> = {
  conv1_w: [conv1.filters, 1, conv1.kernel, conv1.kernel],
  conv1_b: [conv1.filters],
  conv2_w: [conv2.filters, conv1.filters, conv2.kernel, conv2.kernel],
  conv2_b: [conv2.filters],
  dense_w: [conv2.size * conv2.size * conv2.filters, DIGIT_CLASSES],
  dense_b: [DIGIT_CLASSES],
};

/**
 * The tfjs weights of a digits model exportDigitsOnnx wrote (its layouts undone: OIHW kernels back to patch
 * rows, the dense rows from ONNX Flatten's (c, y, x) order back to tfjs's (y, x, c)), or undefined when the
 * model's initializers are not this architecture's (another trainer's model): the caller then trains from scratch.
 */
export function importDigitsOnnx(model: Uint8Array): DigitsCnnWeights | undefined {
  const byName = new Map(readInitializers(model).map((t) => [t.name, t]));
  const values: Record<string, Float32Array> = {};
  for (const [name, dims] of Object.entries(EXPECTED)) {
    const tensor = byName.get(name);
    if (!tensor?.values || String(tensor.dims) !== String(dims)) return undefined;
    values[name] = tensor.values;
  }
  const k1 = values.conv1_w;
  const w1 = new Float32Array(k1.length);
  for (let f = 0; f < conv1.filters; f++)
    for (let ky = 0; ky < conv1.kernel; ky++)
      for (let kx = 0; kx < conv1.kernel; kx++)
        w1[(ky * conv1.kernel + kx) * conv1.filters + f] = k1[(f * conv1.kernel + ky) * conv1.kernel + kx];
  const k2 = values.conv2_w;
  const w2 = new Float32Array(k2.length);
  for (let f = 0; f < conv2.filters; f++)
    for (let c = 0; c < conv1.filters; c++)
      for (let dy = 0; dy < conv2.kernel; dy++)
        for (let dx = 0; dx < conv2.kernel; dx++) {
          w2[((dy * conv2.kernel + dx) * conv1.filters + c) * conv2.filters + f] =
            k2[((f * conv1.filters + c) * conv2.kernel + dy) * conv2.kernel + dx];
        }
  const dense = values.dense_w;
  const w3 = new Float32Array(dense.length);
  for (let y = 0; y < conv2.size; y++)
    for (let x = 0; x < conv2.size; x++)
      for (let c = 0; c < conv2.filters; c++) {
        const to = (y * conv2.size + x) * conv2.filters + c;
        const from = (c * conv2.size + y) * conv2.size + x;
        for (let k = 0; k < DIGIT_CLASSES; k++) w3[to * DIGIT_CLASSES + k] = dense[from * DIGIT_CLASSES + k];
      }
  const patch1 = conv1.kernel * conv1.kernel;
  const patch2 = conv2.kernel * conv2.kernel * conv1.filters;
  return {
    w1: tf.variable(tf.tensor2d(w1, [patch1, conv1.filters])),
    b1: tf.variable(tf.tensor1d(values.conv1_b)),
    w2: tf.variable(tf.tensor2d(w2, [patch2, conv2.filters])),
    b2: tf.variable(tf.tensor1d(values.conv2_b)),
    w3: tf.variable(tf.tensor2d(w3, [conv2.size * conv2.size * conv2.filters, DIGIT_CLASSES])),
    b3: tf.variable(tf.tensor1d(values.dense_b)),
  };
}
