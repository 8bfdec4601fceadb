// The default trainer of the `digits` model, per the trainer contract (docs/retraining.md, "The trainer contract"):
//   node --import tsx src/retrain/digits/trainerCommand.ts --dataset <dir> --out <dir>
//        [--init current|scratch] [--epochs n] [--learning-rate x] [--schedule constant|cosine] [--max-base-samples n]
//        [--field-repeat n] [--seed n]
// Reads <dataset>/manifest.json, <dataset>/field-train.jsonl and <dataset>/current.onnx; fine-tunes the current
// model (or, with --init scratch or when current.onnx is not this architecture, trains from scratch) on
// mnistSplit().train plus the field samples, writes <out>/model.onnx and <out>/metrics.json, and exits 0;
// anything else exits 1.
import { createReadStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../../core/mulberry32';
import { DIGIT_CLASSES, DIGIT_PIXELS, mnistSplit, type DigitSample } from './mnistSplit';
import { importDigitsOnnx } from './importDigitsOnnx';
import {
  DEFAULT_DIGITS_EPOCHS,
  DEFAULT_DIGITS_LEARNING_RATE,
  isLearningRateSchedule,
  trainDigits,
  type LearningRateSchedule,
} from './trainDigits';

const USAGE =
  'usage: trainerCommand --dataset <dir> --out <dir> [--init current|scratch] [--epochs n] [--learning-rate x] [--schedule constant|cosine] [--max-base-samples n] [--field-repeat n] [--seed n]';
/**
 * Fine-tuning from current.onnx: two passes, warming up to a learning rate of 0.003 and decaying it to 0
 * (cosine). Measured over 12 seeds against one pass at a constant 0.001 on the same field data: less
 * forgetting of MNIST and more gain on the field (docs/models.md, "The digits model"; scripts/digits-finetune-sweep.ts).
 */
export const DEFAULT_FINE_TUNE_EPOCHS = 2;
export const DEFAULT_FINE_TUNE_LEARNING_RATE = 0.003;
export const DEFAULT_FINE_TUNE_SCHEDULE: LearningRateSchedule = 'cosine';
/** Each field sample is trained on this many times per epoch: a few hundred of them against ~8000 MNIST digits. */
export const DEFAULT_FIELD_REPEAT = 3;

export interface DigitsTrainerOptions {
  dataset: string;
  out: string;
  /** 'current' (the default) fine-tunes <dataset>/current.onnx; 'scratch' trains a fresh model. */
  init?: 'current' | 'scratch';
  /** Default: DEFAULT_FINE_TUNE_EPOCHS when fine-tuning, DEFAULT_DIGITS_EPOCHS from scratch. */
  epochs?: number;
  learningRate?: number;
  /** Default: DEFAULT_FINE_TUNE_SCHEDULE when fine-tuning, 'constant' from scratch (how digits@1 was trained). */
  schedule?: LearningRateSchedule;
  /** Train on at most this many MNIST digits (a seeded, class-mixed subset), so tests can train faster. */
  maxBaseSamples?: number;
  fieldRepeat?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface DigitsTrainerMetrics {
  /** Where training started: the current model's weights, or a fresh initialisation (asked for, or current.onnx did not fit). */
  init: 'current' | 'scratch';
  learningRate: number;
  schedule: LearningRateSchedule;
  trainSamples: number;
  baseSamples: number;
  fieldSamples: number;
  /** Lines of field-train.jsonl that are not a digit sample (wrong input, dims or label), left out of training. */
  skippedFieldLines: number;
  fieldRepeat: number;
  trainAccuracy: number;
  epochs: number;
  durationMs: number;
}

/** Trains a digits model on `mnistSplit().train` + the dataset's field samples; writes model.onnx and metrics.json. */
export async function runDigitsTrainer({
  dataset,
  out,
  init: requestedInit = 'current',
  epochs: requestedEpochs,
  learningRate: requestedLearningRate,
  schedule: requestedSchedule,
  maxBaseSamples,
  fieldRepeat = DEFAULT_FIELD_REPEAT,
  seed = 1,
  log = console.log,
}: DigitsTrainerOptions): Promise<DigitsTrainerMetrics> {
  const startedMs = Date.now();
  const manifest = JSON.parse(await readFile(join(dataset, 'manifest.json'), 'utf8')) as { model?: unknown; inputs?: { name?: unknown }[] };
  if (manifest.model !== 'digits')
    throw new Error(`manifest.json is for model ${JSON.stringify(manifest.model)}, this trainer trains "digits"`);
  const inputName = typeof manifest.inputs?.[0]?.name === 'string' ? manifest.inputs[0].name : 'image';
  const { samples: field, skipped } = await readFieldSamples(join(dataset, 'field-train.jsonl'), inputName);
  if (skipped > 0) log(`skipped ${skipped} field-train.jsonl lines that are not a ${inputName} [1, 1, 28, 28] digit sample`);

  let initialWeights;
  if (requestedInit === 'current') {
    const current = await readFile(join(dataset, 'current.onnx')).catch(() => undefined);
    initialWeights = current ? importDigitsOnnx(new Uint8Array(current)) : undefined;
    if (!initialWeights) log(`current.onnx ${current ? 'is not the digits CNN' : 'is missing'}: training from scratch`);
  }
  const init = initialWeights ? 'current' : 'scratch';
  const epochs = requestedEpochs ?? (initialWeights ? DEFAULT_FINE_TUNE_EPOCHS : DEFAULT_DIGITS_EPOCHS);
  const learningRate = requestedLearningRate ?? (initialWeights ? DEFAULT_FINE_TUNE_LEARNING_RATE : DEFAULT_DIGITS_LEARNING_RATE);
  const schedule = requestedSchedule ?? (initialWeights ? DEFAULT_FINE_TUNE_SCHEDULE : 'constant');

  let base = mnistSplit().train;
  if (maxBaseSamples !== undefined && maxBaseSamples < base.length) base = seededSubset(base, maxBaseSamples, seed);
  const samples = [...base, ...Array.from({ length: fieldRepeat }, () => field).flat()];
  log(
    `${init === 'current' ? 'fine-tuning the current model' : 'training from scratch'} on ${base.length} MNIST digits + ${field.length} field samples (x${fieldRepeat}), ${epochs} epochs, learning rate ${learningRate} (${schedule})`,
  );
  const { onnx, trainAccuracy } = await trainDigits({ samples, epochs, seed, log, initialWeights, learningRate, schedule });

  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'model.onnx'), onnx);
  const metrics: DigitsTrainerMetrics = {
    init,
    learningRate,
    schedule,
    trainSamples: base.length + field.length,
    baseSamples: base.length,
    fieldSamples: field.length,
    skippedFieldLines: skipped,
    fieldRepeat,
    trainAccuracy,
    epochs,
    durationMs: Date.now() - startedMs,
  };
  await writeFile(join(out, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
  log(`wrote ${join(out, 'model.onnx')} (${onnx.length} bytes), train accuracy ${(trainAccuracy * 100).toFixed(2)} %`);
  return metrics;
}

/** The dataset-export lines that are digit samples: `inputs[inputName]` float32 [1, 1, 28, 28] and a label 0–9. */
async function readFieldSamples(path: string, inputName: string): Promise<{ samples: DigitSample[]; skipped: number }> {
  const samples: DigitSample[] = [];
  let skipped = 0;
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const sample = toDigitSample(line, inputName);
    if (sample) samples.push(sample);
    else skipped++;
  }
  return { samples, skipped };
}

function toDigitSample(line: string, inputName: string): DigitSample | undefined {
  let record: { label?: unknown; inputs?: Record<string, { type?: unknown; dims?: unknown; data?: unknown }> };
  try {
    record = JSON.parse(line) as typeof record;
  } catch {
    return undefined;
  }
  const label = typeof record.label === 'string' && /^\d$/.test(record.label) ? Number(record.label) : record.label;
  if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label >= DIGIT_CLASSES) return undefined;
  const input = record.inputs?.[inputName];
  if (!input || input.type !== 'float32' || String(input.dims) !== '1,1,28,28') return undefined;
  const data = input.data;
  if (!Array.isArray(data) || data.length !== DIGIT_PIXELS || !data.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return undefined;
  }
  return { pixels: Float32Array.from(data as number[]), label };
}

function seededSubset(samples: DigitSample[], count: number, seed: number): DigitSample[] {
  const random = mulberry32(seed ^ 0xba5e);
  const order = samples.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(0, count).map((i) => samples[i]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dataset: { type: 'string' },
      out: { type: 'string' },
      init: { type: 'string' },
      epochs: { type: 'string' },
      'learning-rate': { type: 'string' },
      schedule: { type: 'string' },
      'max-base-samples': { type: 'string' },
      'field-repeat': { type: 'string' },
      seed: { type: 'string' },
    },
  });
  if (!values.dataset || !values.out) throw new Error(USAGE);
  const integer = (text: string | undefined, flag: string, min: number) => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min) throw new Error(`${flag} must be an integer >= ${min}, got ${text}\n${USAGE}`);
    return value;
  };
  if (values.init !== undefined && values.init !== 'current' && values.init !== 'scratch') {
    throw new Error(`--init must be current or scratch, got ${values.init}\n${USAGE}`);
  }
  if (values.schedule !== undefined && !isLearningRateSchedule(values.schedule)) {
    throw new Error(`--schedule must be constant or cosine, got ${values.schedule}\n${USAGE}`);
  }
  const learningRate = values['learning-rate'] === undefined ? undefined : Number(values['learning-rate']);
  if (learningRate !== undefined && !(learningRate > 0 && learningRate < 1)) {
    throw new Error(`--learning-rate must be a number in (0, 1), got ${values['learning-rate']}\n${USAGE}`);
  }
  await runDigitsTrainer({
    dataset: values.dataset,
    out: values.out,
    init: values.init,
    learningRate,
    schedule: values.schedule,
    epochs: integer(values.epochs, '--epochs', 1),
    maxBaseSamples: integer(values['max-base-samples'], '--max-base-samples', 0),
    fieldRepeat: integer(values['field-repeat'], '--field-repeat', 0),
    seed: integer(values.seed, '--seed', 0),
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(`digits trainer: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
