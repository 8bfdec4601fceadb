// How the digits trainer's fine-tuning recipe trades MNIST for the drifted field, over several seeds:
//   npx tsx scripts/digits-finetune-sweep.ts [--epochs n] [--learning-rate x] [--schedule constant|cosine]
//                                            [--field-repeat n] [--seeds 1,2,3,4]
// It stands in for the acceptance test's job (test/acceptance/retrainEndToEnd.test.ts) without the browser and the
// server: field = driftedDigits(500, 1, 'train'), the last 150 held back (as the job holds back the most recent
// slice), the first 350 trained on with ~7 % of them left out per seed (as class balancing leaves some out),
// fine-tuning v1 (models/trained/digits-1.onnx) on MNIST's training side + the field samples. The seed moves
// both the shuffle and that subset. Each line: the points gained on MNIST's held-back split (the gate's base
// set, needs ≥ -0.5), on the held-back field slice (needs ≥ +2) and on driftedDigits(500, 99, 'heldOut') (the
// acceptance test asks ≥ +10), evaluated with the tfjs model (onnxruntime-node's outputs within 1e-4).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../src/core/mulberry32';
import { predictDigitsTfjs, disposeDigitsCnn, type DigitsCnnWeights } from '../src/retrain/digits/digitsCnn';
import { driftedDigits } from '../src/retrain/digits/drift';
import { importDigitsOnnx } from '../src/retrain/digits/importDigitsOnnx';
import { mnistSplit, type DigitSample } from '../src/retrain/digits/mnistSplit';
import { accuracyOf, isLearningRateSchedule, trainDigitsCnn } from '../src/retrain/digits/trainDigits';
import {
  DEFAULT_FIELD_REPEAT,
  DEFAULT_FINE_TUNE_EPOCHS,
  DEFAULT_FINE_TUNE_LEARNING_RATE,
  DEFAULT_FINE_TUNE_SCHEDULE,
} from '../src/retrain/digits/trainerCommand';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: String(DEFAULT_FINE_TUNE_EPOCHS) },
    'learning-rate': { type: 'string', default: String(DEFAULT_FINE_TUNE_LEARNING_RATE) },
    schedule: { type: 'string', default: DEFAULT_FINE_TUNE_SCHEDULE },
    'field-repeat': { type: 'string', default: String(DEFAULT_FIELD_REPEAT) },
    seeds: { type: 'string', default: '1,2,3,4' },
  },
});
const epochs = Number(values.epochs);
const learningRate = Number(values['learning-rate']);
const fieldRepeat = Number(values['field-repeat']);
const schedule = values.schedule;
if (!isLearningRateSchedule(schedule)) throw new Error(`--schedule must be constant or cosine, got ${schedule}`);
const seeds = values.seeds.split(',').map(Number);
if (![epochs, learningRate, fieldRepeat, ...seeds].every(Number.isFinite)) throw new Error('numbers expected');

const v1Bytes = new Uint8Array(readFileSync('models/trained/digits-1.onnx'));
const field = driftedDigits(500, 1, 'train');
const heldBack = field.slice(350);
const base = mnistSplit();
const heldOutDrift = driftedDigits(500, 99, 'heldOut');
const points = (w: DigitsCnnWeights, samples: DigitSample[]) => accuracyOf(predictDigitsTfjs(w, samples), samples) * 100;
const scores = (w: DigitsCnnWeights) => ({ base: points(w, base.heldOut), field: points(w, heldBack), drift: points(w, heldOutDrift) });
const v1 = importDigitsOnnx(v1Bytes);
if (!v1) throw new Error('models/trained/digits-1.onnx is not the digits CNN');
const reference = scores(v1);
disposeDigitsCnn(v1);

const config = `${epochs} epoch(s), learning rate ${learningRate} (${schedule}), field x${fieldRepeat}`;
const rows: { base: number; field: number; drift: number }[] = [];
for (const seed of seeds) {
  const keep = mulberry32(seed * 31 + 7);
  const trainField = field.slice(0, 350).filter(() => keep() > 0.07);
  const samples = [...base.train, ...Array.from({ length: fieldRepeat }, () => trainField).flat()];
  const startedMs = Date.now();
  const { weights } = await trainDigitsCnn({ samples, epochs, seed, learningRate, schedule, initialWeights: importDigitsOnnx(v1Bytes) });
  const s = scores(weights);
  disposeDigitsCnn(weights);
  const row = { base: s.base - reference.base, field: s.field - reference.field, drift: s.drift - reference.drift };
  rows.push(row);
  const fmt = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
  console.log(
    `${config}, seed ${seed} (${trainField.length} field samples): MNIST ${fmt(row.base)}, held-back field ${fmt(row.field)}, held-out drift ${fmt(row.drift)} points, ${Math.round((Date.now() - startedMs) / 1000)} s`,
  );
}
const range = (key: 'base' | 'field' | 'drift') => {
  const xs = rows.map((r) => r[key]);
  return `${Math.min(...xs).toFixed(2)} … ${Math.max(...xs).toFixed(2)} (mean ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2)})`;
};
console.log(`${config} over ${rows.length} seeds: MNIST ${range('base')}, field ${range('field')}, drift ${range('drift')}`);
