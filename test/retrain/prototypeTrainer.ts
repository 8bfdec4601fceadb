// A second, tiny trainer proving the trainer contract (docs/retraining.md, "The trainer contract"): a
// nearest-prototype digit classifier. Base prototypes are the class means of MNIST digits from the
// `mnist` package; one more prototype per class is the mean of the dataset's field samples of that class.
// Written as ONNX with the repo's encoder. Flags for the tests: --shuffle-labels (a sabotaged trainer)
// and --fail (exits 3 after logging).
//   node --import tsx test/retrain/prototypeTrainer.ts --dataset <dir> --out <dir> [--shuffle-labels] [--fail]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { encodeModel } from '../../scripts/onnx/encodeModel';
import { mulberry32 } from '../../scripts/onnx/mulberry32';

const PIXELS = 784;
// The `mnist` package (MIT) ships no types: ten digit sets, `get(i)` the i-th 784-pixel image.
const mnist = createRequire(import.meta.url)('mnist') as Array<{ get(i: number): number[] }>;
const { values } = parseArgs({
  options: { dataset: { type: 'string' }, out: { type: 'string' }, 'shuffle-labels': { type: 'boolean' }, fail: { type: 'boolean' } },
});
if (!values.dataset || !values.out) throw new Error('usage: --dataset <dir> --out <dir>');
console.log(`prototype trainer: dataset ${values.dataset}`);
if (values.fail) {
  console.error('prototype trainer: failing on purpose (--fail)');
  process.exit(3);
}

const manifest = JSON.parse(readFileSync(path.join(values.dataset, 'manifest.json'), 'utf8')) as { model: string; fieldTrainCount: number };
const lines = readFileSync(path.join(values.dataset, 'field-train.jsonl'), 'utf8').split('\n').filter(Boolean);
const field = lines.map((l) => JSON.parse(l) as { label: number; inputs: { image: { data: number[] } } });
if (field.length !== manifest.fieldTrainCount)
  throw new Error(`manifest says ${manifest.fieldTrainCount} samples, file has ${field.length}`);
const labels = field.map((s) => Number(s.label));
if (values['shuffle-labels']) {
  const random = mulberry32(7);
  for (let i = labels.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [labels[i], labels[j]] = [labels[j], labels[i]];
  }
}

const mean = (rows: ArrayLike<number>[]) => {
  const m = new Float32Array(PIXELS);
  for (const r of rows) for (let i = 0; i < PIXELS; i++) m[i] += r[i] / rows.length;
  return m;
};
const baseProtos = Array.from({ length: 10 }, (_, d) => mean(Array.from({ length: 200 }, (_, i) => mnist[d].get(i))));
const fieldProtos = baseProtos.map((base, d) => {
  const rows = field.filter((_, i) => labels[i] === d).map((s) => s.inputs.image.data);
  return rows.length > 0 ? mean(rows) : base;
});
// Prototype p = class * 2 + k. score = 2 x·p − |p|² (= −|x − p|² + |x|², the same arg-max per row).
const protos = baseProtos.flatMap((b, d) => [b, fieldProtos[d]]);
const weights = new Array<number>(PIXELS * protos.length);
protos.forEach((p, j) => p.forEach((value, i) => (weights[i * protos.length + j] = 2 * value)));
const bias = protos.map((p) => -p.reduce((s, x) => s + x * x, 0));

const onnx = encodeModel({
  irVersion: 8,
  opsets: [{ domain: '', version: 17 }],
  producerName: 'ondevice',
  producerVersion: 'test/retrain/prototypeTrainer.ts',
  graph: {
    name: 'prototypes',
    inputs: [{ name: 'image', type: 'float32', shape: ['batch', 1, 28, 28] }],
    outputs: [{ name: 'probabilities', type: 'float32', shape: ['batch', 10] }],
    initializers: [
      { name: 'flat', type: 'int64', dims: [2], values: [-1, PIXELS] },
      { name: 'w', type: 'float32', dims: [PIXELS, protos.length], values: weights },
      { name: 'b', type: 'float32', dims: [protos.length], values: bias },
      { name: 'grouped', type: 'int64', dims: [3], values: [-1, 10, 2] },
      { name: 'temperature', type: 'float32', dims: [], values: [0.1] },
    ],
    nodes: [
      { opType: 'Reshape', inputs: ['image', 'flat'], outputs: ['x'] },
      { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['xw'] },
      { opType: 'Add', inputs: ['xw', 'b'], outputs: ['scores'] },
      { opType: 'Reshape', inputs: ['scores', 'grouped'], outputs: ['perClass'] },
      { opType: 'ReduceMax', inputs: ['perClass'], outputs: ['best'], attributes: { axes: { ints: [2] }, keepdims: { int: 0 } } },
      { opType: 'Mul', inputs: ['best', 'temperature'], outputs: ['logits'] },
      { opType: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: { int: 1 } } },
    ],
  },
});
mkdirSync(values.out, { recursive: true });
writeFileSync(path.join(values.out, 'model.onnx'), onnx);
writeFileSync(path.join(values.out, 'metrics.json'), JSON.stringify({ trainSamples: 2000 + field.length, fieldSamples: field.length }));
console.log(`prototype trainer: wrote ${onnx.byteLength} bytes (${field.length} field samples)`);
