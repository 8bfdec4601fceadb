import { encodeModel } from '../../../src/node/onnx/encodeModel';
import { GENERATED_IR_VERSION, GENERATED_OPSET, GENERATED_PRODUCER, type GeneratedModel } from '../generatedModel';

/** A stateful model: feeding `state_out` back as `state` accumulates x over the calls. */
export const counterModel: GeneratedModel = {
  entry: {
    id: 'counter',
    version: '1',
    file: 'counter.onnx',
    license: 'MIT',
    source: { generator: 'scripts/onnx/models/counterModel.ts' },
    task: 'test',
    description: 'Stateful round trips: y = x + state and state_out = state + x; feed state_out back as state to accumulate.',
    sample: { fill: { state: 0 } },
  },
  build() {
    return encodeModel({
      irVersion: GENERATED_IR_VERSION,
      opsets: [{ domain: '', version: GENERATED_OPSET }],
      ...GENERATED_PRODUCER,
      graph: {
        name: 'counter',
        docString: counterModel.entry.description,
        inputs: [
          { name: 'x', type: 'float32', shape: [1, 4] },
          { name: 'state', type: 'float32', shape: [1, 4] },
        ],
        outputs: [
          { name: 'y', type: 'float32', shape: [1, 4] },
          { name: 'state_out', type: 'float32', shape: [1, 4] },
        ],
        nodes: [
          { opType: 'Add', inputs: ['x', 'state'], outputs: ['y'] },
          { opType: 'Add', inputs: ['state', 'x'], outputs: ['state_out'] },
        ],
      },
    });
  },
};
