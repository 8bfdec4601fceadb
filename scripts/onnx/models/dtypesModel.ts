import { encodeModel, type NodeSpec, type ValueInfo } from '../../../src/node/onnx/encodeModel';
import { GENERATED_IR_VERSION, GENERATED_OPSET, GENERATED_PRODUCER, type GeneratedModel } from '../generatedModel';
import type { ElementType } from '../../../src/core/protocol';

/**
 * One input per element type onnxruntime-web moves in and out of a session (float64, int16, uint16,
 * uint64 and string are left out: no browser model we ship uses them), each through a real op.
 * float16 goes through Identity, not arithmetic: WebGPU adapters without `shader-f16` (SwiftShader)
 * cannot run float16 kernels, but can copy float16 buffers.
 */
const LANES: { input: string; type: ElementType; op: string; output: string; constant?: number }[] = [
  { input: 'f32', type: 'float32', op: 'Mul', output: 'f32_times_2', constant: 2 },
  { input: 'f16', type: 'float16', op: 'Identity', output: 'f16_identity' },
  { input: 'i32', type: 'int32', op: 'Add', output: 'i32_plus_1', constant: 1 },
  { input: 'i64', type: 'int64', op: 'Add', output: 'i64_plus_1', constant: 1 },
  { input: 'u32', type: 'uint32', op: 'Identity', output: 'u32_identity' },
  { input: 'u8', type: 'uint8', op: 'Identity', output: 'u8_identity' },
  { input: 'i8', type: 'int8', op: 'Identity', output: 'i8_identity' },
  { input: 'b', type: 'bool', op: 'Not', output: 'b_not' },
];

export const dtypesModel: GeneratedModel = {
  entry: {
    id: 'dtypes',
    version: '1',
    file: 'dtypes.onnx',
    license: 'MIT',
    source: { generator: 'scripts/onnx/models/dtypesModel.ts' },
    task: 'test',
    description:
      'Element-type round trips: f32 -> f32_times_2 (Mul 2), f16 -> f16_identity, i32 -> i32_plus_1, i64 -> i64_plus_1, ' +
      'u32/u8/i8 -> *_identity, b -> b_not (Not), scalar f32 -> scalar_neg (Neg). All [batch, 4] except the scalar.',
    sample: { dims: Object.fromEntries(LANES.map((lane) => [lane.input, [2, 4]])) },
  },
  build() {
    const nodes: NodeSpec[] = [];
    const inputs: ValueInfo[] = [];
    const outputs: ValueInfo[] = [];
    const initializers = [];
    for (const lane of LANES) {
      inputs.push({ name: lane.input, type: lane.type, shape: ['batch', 4] });
      outputs.push({ name: lane.output, type: lane.type, shape: ['batch', 4] });
      const args = [lane.input];
      if (lane.constant !== undefined) {
        const name = `${lane.input}_constant`;
        initializers.push({ name, type: lane.type as Exclude<ElementType, 'string'>, dims: [], values: [lane.constant] });
        args.push(name);
      }
      nodes.push({ opType: lane.op, inputs: args, outputs: [lane.output] });
    }
    inputs.push({ name: 'scalar', type: 'float32', shape: [] });
    outputs.push({ name: 'scalar_neg', type: 'float32', shape: [] });
    nodes.push({ opType: 'Neg', inputs: ['scalar'], outputs: ['scalar_neg'] });
    return encodeModel({
      irVersion: GENERATED_IR_VERSION,
      opsets: [{ domain: '', version: GENERATED_OPSET }],
      ...GENERATED_PRODUCER,
      graph: { name: 'dtypes', nodes, inputs, outputs, initializers, docString: dtypesModel.entry.description },
    });
  },
};
