// The head tooling the release server uses at publish (the features variant) and the federated job uses to
// write a candidate (new W and b), on the real digits model and on small graphs that do not qualify.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel, type NodeSpec } from '../../src/node/onnx/encodeModel';
import { readTrainableHead, withFeaturesOutput, withHeadWeights } from '../../src/node/onnx/trainableHead';
import { mnistSplit } from '../../src/retrain/digits/mnistSplit';

const digits = new Uint8Array(readFileSync('models/trained/digits-1.onnx'));
const DIGITS_HEAD = { features: 'flat', weight: 'dense_w', bias: 'dense_b' };

async function run(model: Uint8Array, pixels: Float32Array, count: number) {
  const session = await ort.InferenceSession.create(model);
  try {
    const out = await session.run({ image: new ort.Tensor('float32', pixels, [count, 1, 28, 28]) });
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { data: t.data as Float32Array, dims: t.dims }]));
  } finally {
    await session.release();
  }
}

function tinyHead(nodes: NodeSpec[], outputs = ['y'], weightType: 'float32' | 'float64' = 'float32') {
  return encodeModel({
    irVersion: 8,
    opsets: [{ domain: '', version: 17 }],
    producerName: 'test',
    producerVersion: '0',
    graph: {
      name: 'tiny',
      inputs: [{ name: 'x', type: 'float32', shape: ['N', 3] }],
      outputs: outputs.map((name) => ({ name, type: 'float32', shape: ['N', 2] })),
      initializers: [
        { name: 'W', type: weightType, dims: [3, 2], values: [1, 2, 3, 4, 5, 6] },
        { name: 'b', type: 'float32', dims: [2], values: [0.5, -0.5] },
      ],
      nodes,
    },
  });
}

describe('readTrainableHead', () => {
  it("finds the digits model's dense head: flat[N,1152] → MatMul dense_w[1152,10] → Add dense_b → Softmax → probabilities", () => {
    const head = readTrainableHead(digits, DIGITS_HEAD);
    expect(head).toMatchObject({ featureCount: 1152, classes: 10, output: 'probabilities', softmax: true });
    expect(head.weightValues).toHaveLength(11520);
    expect(head.biasValues).toHaveLength(10);
  });

  it('accepts a head without Softmax and b on either side of the Add', () => {
    for (const add of [
      ['m', 'b'],
      ['b', 'm'],
    ]) {
      const model = tinyHead([
        { opType: 'MatMul', inputs: ['x', 'W'], outputs: ['m'] },
        { opType: 'Add', inputs: add, outputs: ['y'] },
      ]);
      expect(readTrainableHead(model, { features: 'x', weight: 'W', bias: 'b' })).toMatchObject({
        featureCount: 3,
        classes: 2,
        softmax: false,
      });
    }
  });

  it('refuses what is not exactly the pattern, saying why', () => {
    const spec = { features: 'x', weight: 'W', bias: 'b' };
    const cases: [Uint8Array, RegExp][] = [
      [tinyHead([{ opType: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['y'] }]), /no MatMul\(x, W\)/],
      [
        tinyHead(
          [
            { opType: 'MatMul', inputs: ['x', 'W'], outputs: ['m'] },
            { opType: 'Add', inputs: ['m', 'b'], outputs: ['y'] },
          ],
          ['y', 'm'],
        ),
        /must feed the Add alone/,
      ],
      [
        tinyHead([
          { opType: 'MatMul', inputs: ['x', 'W'], outputs: ['m'] },
          { opType: 'Add', inputs: ['m', 'b'], outputs: ['z'] },
          { opType: 'Relu', inputs: ['z'], outputs: ['y'] },
        ]),
        /graph output or go to one Softmax/,
      ],
      [
        tinyHead([
          { opType: 'MatMul', inputs: ['x', 'W'], outputs: ['m'] },
          { opType: 'Add', inputs: ['m', 'b'], outputs: ['z'] },
          { opType: 'Softmax', inputs: ['z'], outputs: ['y'], attributes: { axis: { int: 0 } } },
        ]),
        /over the last axis/,
      ],
      [
        tinyHead(
          [
            { opType: 'MatMul', inputs: ['x', 'W'], outputs: ['m'] },
            { opType: 'Add', inputs: ['m', 'b'], outputs: ['y'] },
          ],
          ['y'],
          'float64',
        ),
        /W must be float32/,
      ],
    ];
    for (const [model, reason] of cases) expect(() => readTrainableHead(model, spec)).toThrow(reason);
    expect(() => readTrainableHead(digits, { ...DIGITS_HEAD, weight: 'conv2_w' })).toThrow(/no MatMul\(flat, conv2_w\)/);
    expect(() => readTrainableHead(digits, { ...DIGITS_HEAD, bias: 'conv1_b' })).toThrow(/Add\(dense_matmul, conv1_b\)/);
  });

  it('reads a Softmax with axis -1 written as a 10-byte int64', () => {
    const model = tinyHead([
      { opType: 'MatMul', inputs: ['x', 'W'], outputs: ['m'] },
      { opType: 'Add', inputs: ['m', 'b'], outputs: ['z'] },
      { opType: 'Softmax', inputs: ['z'], outputs: ['y'], attributes: { axis: { int: -1 } } },
    ]);
    expect(readTrainableHead(model, { features: 'x', weight: 'W', bias: 'b' }).softmax).toBe(true);
  });
});

describe('withFeaturesOutput and withHeadWeights (onnxruntime-node)', () => {
  const samples = mnistSplit().heldOut.slice(0, 8);
  const pixels = new Float32Array(samples.length * 784);
  samples.forEach((s, i) => pixels.set(s.pixels, i * 784));
  const head = readTrainableHead(digits, DIGITS_HEAD);

  it('the variant also outputs features [N, 1152]; its probabilities are the original ones and softmax(features·W + b)', async () => {
    const variant = withFeaturesOutput(digits, head);
    const [original, derived] = [await run(digits, pixels, 8), await run(variant, pixels, 8)];
    expect(Object.keys(derived).sort()).toEqual(['flat', 'probabilities']);
    expect(derived.flat.dims).toEqual([8, 1152]);
    expect(Array.from(derived.probabilities.data)).toEqual(Array.from(original.probabilities.data));
    for (let i = 0; i < 8; i++) {
      const z = Array.from({ length: 10 }, (_, c) => {
        let s = head.biasValues[c];
        for (let f = 0; f < 1152; f++) s += derived.flat.data[i * 1152 + f] * head.weightValues[f * 10 + c];
        return s;
      });
      const max = Math.max(...z);
      const sum = z.reduce((a, v) => a + Math.exp(v - max), 0);
      z.forEach((v, c) => expect(Math.exp(v - max) / sum).toBeCloseTo(original.probabilities.data[i * 10 + c], 5));
    }
    expect(withFeaturesOutput(variant, head)).toBe(variant);
  });

  it('a model with new head weights computes with them and keeps the rest', async () => {
    const weight = Float32Array.from(head.weightValues, (w) => -w);
    const bias = Float32Array.from(head.biasValues, (b) => b + 1);
    const changed = withHeadWeights(digits, head, weight, bias);
    const reread = readTrainableHead(changed, DIGITS_HEAD);
    expect(Array.from(reread.weightValues)).toEqual(Array.from(weight));
    expect(Array.from(reread.biasValues)).toEqual(Array.from(bias));
    const [a, b] = [await run(digits, pixels, 8), await run(changed, pixels, 8)];
    expect(Array.from(b.probabilities.data)).not.toEqual(Array.from(a.probabilities.data));
    // Same features: only the head changed.
    const [fa, fb] = [await run(withFeaturesOutput(digits, head), pixels, 8), await run(withFeaturesOutput(changed, head), pixels, 8)];
    expect(Array.from(fb.flat.data)).toEqual(Array.from(fa.flat.data));
    expect(() => withHeadWeights(digits, head, weight.subarray(1), bias)).toThrow(/1152×10/);
  });
});
