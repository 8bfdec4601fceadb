import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../../core/mulberry32';
import { shuffleInPlace } from '../../core/shuffleInPlace';
import { argMax } from './argMax';
import { conv1Patches, createDigitsCnn, digitsLogits, disposeDigitsCnn, predictDigitsTfjs, type DigitsCnnWeights } from './digitsCnn';
import { exportDigitsOnnx } from './exportDigitsOnnx';
import { DIGIT_CLASSES, type DigitSample } from './mnistSplit';

/** How the learning rate moves over a training run (see `learningRateAt`). */
export const LEARNING_RATE_SCHEDULES = ['constant', 'cosine'] as const;
export type LearningRateSchedule = (typeof LEARNING_RATE_SCHEDULES)[number];

export function isLearningRateSchedule(value: unknown): value is LearningRateSchedule {
  return (LEARNING_RATE_SCHEDULES as readonly unknown[]).includes(value);
}

export interface TrainDigitsOptions {
  samples: DigitSample[];
  /** Passes over `samples`; DEFAULT_DIGITS_EPOCHS by default. */
  epochs?: number;
  /** Seeds the weight initialisers and the per-epoch shuffle (tfjs kernels are not bit-reproducible anyway). */
  seed?: number;
  log?: (line: string) => void;
  /** Start from these weights (fine-tuning; trainDigitsCnn owns and disposes them) instead of a fresh initialisation. */
  initialWeights?: DigitsCnnWeights;
  /** Adam's learning rate; DEFAULT_DIGITS_LEARNING_RATE by default (fine-tuning takes a lower one). */
  learningRate?: number;
  /**
   * 'constant' (the default): `learningRate` at every step. 'cosine': a linear warm-up over the first 10 % of
   * the steps, then a cosine decay to 0 by the last one, so training ends on settled weights rather than on
   * one noisy step of Adam (what fine-tuning wants: less forgetting at the same gain).
   */
  schedule?: LearningRateSchedule;
}

export const DEFAULT_DIGITS_EPOCHS = 6;
const BATCH_SIZE = 64;
export const DEFAULT_DIGITS_LEARNING_RATE = 0.003;
const WARMUP_SHARE = 0.1;

/** tfjs's Adam (tf.train.adam's defaults) reads its learning rate at every step; this lets the schedule set it. */
class ScheduledAdam extends tf.AdamOptimizer {
  constructor(learningRate: number) {
    super(learningRate, 0.9, 0.999);
  }
  setLearningRate(rate: number): void {
    this.learningRate = rate;
  }
}

/** The learning rate of step `step` (0-based) of `steps` under `schedule`, peaking at `peak`. */
export function learningRateAt(schedule: LearningRateSchedule, peak: number, step: number, steps: number): number {
  if (schedule === 'constant') return peak;
  const warmup = Math.max(1, Math.round(steps * WARMUP_SHARE));
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const decaySteps = Math.max(1, steps - warmup);
  return peak * 0.5 * (1 + Math.cos((Math.PI * (step - warmup)) / decaySteps));
}

/**
 * Trains the digits CNN (digitsCnn.ts) on the tfjs CPU backend (pure JS, no native download) and exports it
 * to ONNX (input `image` [batch, 1, 28, 28], output `probabilities` [batch, 10]). `trainAccuracy` is
 * measured on `samples` after the last epoch.
 */
export async function trainDigits(opts: TrainDigitsOptions): Promise<{ onnx: Uint8Array; trainAccuracy: number }> {
  const { weights, trainAccuracy } = await trainDigitsCnn(opts);
  try {
    return { onnx: exportDigitsOnnx(weights), trainAccuracy };
  } finally {
    disposeDigitsCnn(weights);
  }
}

/** The trained tfjs weights themselves (the caller disposes them with disposeDigitsCnn); `trainDigits` exports them. */
export async function trainDigitsCnn({
  samples,
  epochs = DEFAULT_DIGITS_EPOCHS,
  seed = 1,
  log = () => {},
  initialWeights,
  learningRate = DEFAULT_DIGITS_LEARNING_RATE,
  schedule = 'constant',
}: TrainDigitsOptions): Promise<{ weights: DigitsCnnWeights; trainAccuracy: number }> {
  if (samples.length === 0) {
    if (initialWeights) disposeDigitsCnn(initialWeights);
    throw new Error('trainDigits: no samples');
  }
  if (!Number.isSafeInteger(epochs) || epochs < 1) throw new Error(`trainDigits: epochs must be a positive integer, got ${epochs}`);
  if (tf.getBackend() !== 'cpu' && !(await tf.setBackend('cpu'))) throw new Error('trainDigits: the tfjs cpu backend is unavailable');
  const weights = initialWeights ?? createDigitsCnn(seed);
  const optimizer = new ScheduledAdam(learningRate);
  // Our own seeded shuffle: tfjs's draws from Math.random.
  const random = mulberry32(seed ^ 0x5eed);
  const order = samples.map((_, i) => i);
  const steps = Math.ceil(order.length / BATCH_SIZE) * epochs;
  let step = 0;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      shuffleInPlace(order, random);
      const startedMs = Date.now();
      let lossSum = 0;
      let batches = 0;
      for (let start = 0; start < order.length; start += BATCH_SIZE) {
        const batch = order.slice(start, start + BATCH_SIZE).map((i) => samples[i]);
        optimizer.setLearningRate(learningRateAt(schedule, learningRate, step++, steps));
        const loss = tf.tidy(() => {
          const patches = conv1Patches(batch);
          const labels = tf.oneHot(
            tf.tensor1d(
              Int32Array.from(batch, (s) => s.label),
              'int32',
            ),
            DIGIT_CLASSES,
          );
          // With returnCost, minimize returns the loss.
          return optimizer.minimize(
            () => tf.losses.softmaxCrossEntropy(labels, digitsLogits(weights, patches, batch.length)) as tf.Scalar,
            true,
          ) as tf.Scalar;
        });
        lossSum += (await loss.data())[0];
        loss.dispose();
        batches++;
      }
      log(`epoch ${epoch}/${epochs}: loss ${(lossSum / batches).toFixed(4)}, ${Date.now() - startedMs} ms`);
    }
    const trainAccuracy = accuracyOf(predictDigitsTfjs(weights, samples), samples);
    log(`train accuracy ${(trainAccuracy * 100).toFixed(2)} % on ${samples.length} samples`);
    return { weights, trainAccuracy };
  } catch (error) {
    disposeDigitsCnn(weights);
    throw error;
  } finally {
    optimizer.dispose();
  }
}

/** The share of rows of `probabilities` ([samples.length, 10]) whose most probable class is the sample's label. */
export function accuracyOf(probabilities: Float32Array, samples: DigitSample[]): number {
  let correct = 0;
  samples.forEach((sample, i) => {
    if (argMax(probabilities.subarray(i * DIGIT_CLASSES, (i + 1) * DIGIT_CLASSES)) === sample.label) correct++;
  });
  return samples.length ? correct / samples.length : 0;
}
