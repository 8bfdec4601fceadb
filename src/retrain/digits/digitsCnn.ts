import * as tf from '@tensorflow/tfjs';
import { DIGIT_CLASSES, DIGIT_PIXELS, DIGIT_SIZE, type DigitSample } from './mnistSplit';

/**
 * The digits CNN: conv 4×4 stride 2 (8) → relu → conv 3×3 stride 2 (32) → relu → dense 10 → softmax, in
 * tfjs's NHWC layout (28×28×1 → 13×13×8 → 6×6×32 → 10).
 *
 * Why not tf.layers.conv2d + maxPooling2d: on the tfjs CPU backend their gradients (Conv2DBackpropFilter,
 * MaxPoolGrad) read tensors element by element and take seconds per batch. Here every gradient is a matMul
 * or a conv2d forward: the first layer's 4×4 patches are cut in plain JS (the image needs no gradient) and the
 * second layer's 3×3 patches come from a conv2d with a constant one-hot kernel, so each conv is a matMul on
 * patches. Strides replace pooling. The ONNX export (exportDigitsOnnx) writes the same maths as two Convs.
 */
export const DIGITS_CNN = {
  conv1: { kernel: 4, stride: 2, filters: 8, size: 13 },
  conv2: { kernel: 3, stride: 2, filters: 32, size: 6 },
} as const;

const { conv1, conv2 } = DIGITS_CNN;
const PATCH1 = conv1.kernel * conv1.kernel;
const PATCH2 = conv2.kernel * conv2.kernel * conv1.filters;
const FLAT = conv2.size * conv2.size * conv2.filters;

/** Trainable weights, row-major as the maths below uses them (see exportDigitsOnnx for the ONNX layouts). */
export interface DigitsCnnWeights {
  /** [16, 8]: row ky·4 + kx of a conv1 patch → filter. */
  w1: tf.Variable;
  b1: tf.Variable;
  /** [72, 32]: row (dy·3 + dx)·8 + c of a conv2 patch → filter. */
  w2: tf.Variable;
  b2: tf.Variable;
  /** [1152, 10]: row (y·6 + x)·32 + c of the flattened conv2 output → class. */
  w3: tf.Variable;
  b3: tf.Variable;
}

export function createDigitsCnn(seed: number): DigitsCnnWeights {
  const he = (fanIn: number, shape: number[], offset: number) =>
    tf.variable(tf.truncatedNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed * 7 + offset));
  return {
    w1: he(PATCH1, [PATCH1, conv1.filters], 1),
    b1: tf.variable(tf.zeros([conv1.filters])),
    w2: he(PATCH2, [PATCH2, conv2.filters], 2),
    b2: tf.variable(tf.zeros([conv2.filters])),
    w3: tf.variable(tf.truncatedNormal([FLAT, DIGIT_CLASSES], 0, Math.sqrt(1 / FLAT), 'float32', seed * 7 + 3)),
    b3: tf.variable(tf.zeros([DIGIT_CLASSES])),
  };
}

export function disposeDigitsCnn(weights: DigitsCnnWeights): void {
  for (const variable of Object.values(weights)) variable.dispose();
}

let patchKernel: tf.Tensor4D | undefined;
/** [3, 3, 8, 72] one-hot: conv2d with it copies each 3×3×8 patch into 72 channels, in (dy, dx, c) order. */
function conv2PatchKernel(): tf.Tensor4D {
  patchKernel ??= tf.tidy(() =>
    tf.keep(
      tf
        .oneHot(tf.range(0, PATCH2, 1, 'int32'), PATCH2)
        .toFloat()
        .reshape([conv2.kernel, conv2.kernel, conv1.filters, PATCH2]),
    ),
  ) as tf.Tensor4D;
  return patchKernel;
}

/** The conv1 patches of `samples`, [samples · 169, 16]: row (sample, oy, ox), column ky·4 + kx. */
export function conv1Patches(samples: DigitSample[]): tf.Tensor2D {
  const out = new Float32Array(samples.length * conv1.size * conv1.size * PATCH1);
  let at = 0;
  for (const { pixels } of samples) {
    if (pixels.length !== DIGIT_PIXELS) throw new Error(`a digit has ${pixels.length} pixels, expected ${DIGIT_PIXELS}`);
    for (let oy = 0; oy < conv1.size; oy++)
      for (let ox = 0; ox < conv1.size; ox++)
        for (let ky = 0; ky < conv1.kernel; ky++)
          for (let kx = 0; kx < conv1.kernel; kx++) out[at++] = pixels[(oy * conv1.stride + ky) * DIGIT_SIZE + ox * conv1.stride + kx];
  }
  return tf.tensor2d(out, [samples.length * conv1.size * conv1.size, PATCH1]);
}

/** Logits [batch, 10] for conv1 patches of `batch` digits. */
export function digitsLogits(weights: DigitsCnnWeights, patches: tf.Tensor2D, batch: number): tf.Tensor2D {
  return tf.tidy(() => {
    const a1 = tf
      .relu(tf.add(tf.matMul(patches, weights.w1), weights.b1))
      .reshape([batch, conv1.size, conv1.size, conv1.filters]) as tf.Tensor4D;
    const p2 = tf.conv2d(a1, conv2PatchKernel(), conv2.stride, 'valid').reshape([batch * conv2.size * conv2.size, PATCH2]);
    const a2 = tf.relu(tf.add(tf.matMul(p2, weights.w2), weights.b2)).reshape([batch, FLAT]);
    return tf.add(tf.matMul(a2, weights.w3), weights.b3) as tf.Tensor2D;
  });
}

/** Class probabilities of `samples`, row-major [samples.length, 10] (the tfjs side of the ONNX equality test). */
export function predictDigitsTfjs(weights: DigitsCnnWeights, samples: DigitSample[]): Float32Array {
  const out = new Float32Array(samples.length * DIGIT_CLASSES);
  const chunk = 500;
  for (let start = 0; start < samples.length; start += chunk) {
    const part = samples.slice(start, start + chunk);
    const probabilities = tf.tidy(() => tf.softmax(digitsLogits(weights, conv1Patches(part), part.length)));
    out.set(probabilities.dataSync() as Float32Array, start * DIGIT_CLASSES);
    probabilities.dispose();
  }
  return out;
}
