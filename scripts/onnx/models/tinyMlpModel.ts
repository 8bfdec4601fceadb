import { encodeModel } from '../../../src/node/onnx/encodeModel';
import { GENERATED_IR_VERSION, GENERATED_OPSET, GENERATED_PRODUCER, type GeneratedModel } from '../generatedModel';
import { mulberry32 } from '../../../src/core/mulberry32';

export const TINY_MLP_FEATURES = 16;
export const TINY_MLP_HIDDEN = 32;
export const TINY_MLP_CLASSES = 4;
const WEIGHT_SEED = 20240617;

export interface TinyMlpWeights {
  /** Row-major [16, 32]. */
  w1: number[];
  b1: number[];
  /** Row-major [32, 4]. */
  w2: number[];
  b2: number[];
}

/**
 * The model's weights (seeded, so tests can recompute its output in plain JS). Values are float32-exact.
 * Another seed gives the same graph with other weights (the release demo's v2: `npm run models:demo-v2`).
 */
export function tinyMlpWeights(seed = WEIGHT_SEED): TinyMlpWeights {
  const random = mulberry32(seed);
  const uniform = (count: number, scale: number) => Array.from({ length: count }, () => Math.fround((random() * 2 - 1) * scale));
  return {
    w1: uniform(TINY_MLP_FEATURES * TINY_MLP_HIDDEN, 1 / Math.sqrt(TINY_MLP_FEATURES)),
    b1: uniform(TINY_MLP_HIDDEN, 0.1),
    w2: uniform(TINY_MLP_HIDDEN * TINY_MLP_CLASSES, 1 / Math.sqrt(TINY_MLP_HIDDEN)),
    b2: uniform(TINY_MLP_CLASSES, 0.1),
  };
}

/** softmax(relu(x·W1 + b1)·W2 + b2), row by row, in float64. */
export function tinyMlpReference(x: ArrayLike<number>, batch: number): number[] {
  const { w1, b1, w2, b2 } = tinyMlpWeights();
  const out: number[] = [];
  for (let r = 0; r < batch; r++) {
    const hidden = b1.map((bias, j) => {
      let sum = bias;
      for (let k = 0; k < TINY_MLP_FEATURES; k++) sum += x[r * TINY_MLP_FEATURES + k] * w1[k * TINY_MLP_HIDDEN + j];
      return Math.max(0, sum);
    });
    const logits = b2.map((bias, c) => hidden.reduce((sum, h, j) => sum + h * w2[j * TINY_MLP_CLASSES + c], bias));
    const max = Math.max(...logits);
    const exps = logits.map((l) => Math.exp(l - max));
    const total = exps.reduce((a, b) => a + b, 0);
    out.push(...exps.map((e) => e / total));
  }
  return out;
}

/** A float32 classifier small enough for WebGPU on SwiftShader: MatMul, Add, Relu, MatMul, Add, Softmax. */
export const tinyMlpModel: GeneratedModel = {
  entry: {
    id: 'tiny-mlp',
    version: '1',
    file: 'tiny-mlp.onnx',
    license: 'MIT',
    source: { generator: 'scripts/onnx/models/tinyMlpModel.ts' },
    task: 'classification',
    description: `Seeded float32 MLP classifier: x [batch, ${TINY_MLP_FEATURES}] -> ${TINY_MLP_HIDDEN} hidden (Relu) -> probs [batch, ${TINY_MLP_CLASSES}] (Softmax).`,
    sample: { dims: { x: [1, TINY_MLP_FEATURES] } },
  },
  build: () => encodeTinyMlp(tinyMlpWeights()),
};

/** The tiny-mlp graph with these weights, as ONNX bytes. */
export function encodeTinyMlp({ w1, b1, w2, b2 }: TinyMlpWeights): Uint8Array {
  return encodeModel({
    irVersion: GENERATED_IR_VERSION,
    opsets: [{ domain: '', version: GENERATED_OPSET }],
    ...GENERATED_PRODUCER,
    graph: {
      name: 'tiny_mlp',
      docString: tinyMlpModel.entry.description,
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', TINY_MLP_FEATURES] }],
      outputs: [{ name: 'probs', type: 'float32', shape: ['batch', TINY_MLP_CLASSES] }],
      initializers: [
        { name: 'w1', type: 'float32', dims: [TINY_MLP_FEATURES, TINY_MLP_HIDDEN], values: w1 },
        { name: 'b1', type: 'float32', dims: [TINY_MLP_HIDDEN], values: b1 },
        { name: 'w2', type: 'float32', dims: [TINY_MLP_HIDDEN, TINY_MLP_CLASSES], values: w2 },
        { name: 'b2', type: 'float32', dims: [TINY_MLP_CLASSES], values: b2 },
      ],
      nodes: [
        { opType: 'MatMul', inputs: ['x', 'w1'], outputs: ['h_matmul'] },
        { opType: 'Add', inputs: ['h_matmul', 'b1'], outputs: ['h_biased'] },
        { opType: 'Relu', inputs: ['h_biased'], outputs: ['hidden'] },
        { opType: 'MatMul', inputs: ['hidden', 'w2'], outputs: ['logits_matmul'] },
        { opType: 'Add', inputs: ['logits_matmul', 'b2'], outputs: ['logits'] },
        { opType: 'Softmax', inputs: ['logits'], outputs: ['probs'], attributes: { axis: { int: -1 } } },
      ],
    },
  });
}
