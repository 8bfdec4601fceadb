// The integer constants a model's graph compares its inputs with (src/core/onnx/comparedConstants.ts): what a
// generated warm-up input gives a parameter input (Silero VAD's sample rate) instead of a value it refuses.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { comparedConstants } from '../../src/core/onnx/comparedConstants';
import { encodeModel, type NodeSpec, type TensorSpecInit } from '../../src/node/onnx/encodeModel';

/** A model whose output is Equal(a, b) cast to int64, plus the nodes and initializers given. */
function equalModel(a: string, b: string, nodes: NodeSpec[] = [], initializers: TensorSpecInit[] = []): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsets: [{ domain: '', version: 17 }],
    producerName: 'test',
    producerVersion: '1',
    graph: {
      name: 'g',
      inputs: [
        { name: 'rate', type: 'int64', shape: [] },
        { name: 'other', type: 'int64', shape: [] },
      ],
      outputs: [{ name: 'same', type: 'bool', shape: [] }],
      initializers,
      nodes: [...nodes, { opType: 'Equal', inputs: [a, b], outputs: ['same'] }],
    },
  });
}

describe('comparedConstants', () => {
  test('Silero VAD (v5, v6, legacy) compares its sample rate with 16000; det compares nothing', () => {
    const files = [
      'public/models/silero_vad_v5.onnx',
      'node_modules/@ricky0123/vad-web/dist/silero_vad_v6.onnx',
      'node_modules/@ricky0123/vad-web/dist/silero_vad_legacy.onnx',
    ];
    for (const file of files) expect(comparedConstants(readFileSync(file))).toEqual({ sr: [16000] });
    expect(comparedConstants(readFileSync('public/models/ch_PP-OCRv4_det_infer.onnx'))).toEqual({});
  });

  test('the constant may be a Constant node (tensor or value_int) or an initializer, on either side of Equal', () => {
    const tensor: TensorSpecInit = { name: 'unused', type: 'int64', dims: [], values: [8000] };
    expect(
      comparedConstants(equalModel('rate', 'k', [{ opType: 'Constant', inputs: [], outputs: ['k'], attributes: { value: { tensor } } }])),
    ).toEqual({
      rate: [8000],
    });
    expect(
      comparedConstants(
        equalModel('k', 'rate', [{ opType: 'Constant', inputs: [], outputs: ['k'], attributes: { value_int: { int: 44100 } } }]),
      ),
    ).toEqual({
      rate: [44100],
    });
    expect(comparedConstants(equalModel('rate', 'k', [], [{ name: 'k', type: 'int32', dims: [1], values: [22050] }]))).toEqual({
      rate: [22050],
    });
  });

  test('nothing for two inputs compared with each other, a constant of many values, or bytes that are not a model', () => {
    expect(comparedConstants(equalModel('rate', 'other'))).toEqual({});
    expect(comparedConstants(equalModel('rate', 'k', [], [{ name: 'k', type: 'int64', dims: [2], values: [1, 2] }]))).toEqual({});
    expect(comparedConstants(Uint8Array.of(0xff, 0xff, 0xff))).toEqual({});
  });
});
