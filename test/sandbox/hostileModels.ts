// Hostile models for the sandbox tests, written by the repository's ONNX encoder: a Loop that never ends
// (trip count INT64_MAX, a pass-through body), a Loop whose trip count is an input (a run as long as the
// caller asks), and ConstantOfShape→ReduceSum memory bombs (a constant shape that onnxruntime folds while it
// creates the session, or a shape the caller sends).
import { encodeModel, type GraphSpec, type ModelSpec } from '../../src/node/onnx/encodeModel';

const INT64_MAX = 9223372036854775807n;

function model(graph: GraphSpec): Uint8Array {
  const spec: ModelSpec = {
    irVersion: 8,
    opsets: [{ domain: '', version: 17 }],
    producerName: 'ondevice-tests',
    producerVersion: '1',
    graph,
  };
  return encodeModel(spec);
}

/** Loop's body: the loop-carried `x` passes through, the condition stays true. */
const passThrough: GraphSpec = {
  name: 'body',
  nodes: [
    { opType: 'Identity', inputs: ['cond_in'], outputs: ['cond_out'] },
    { opType: 'Identity', inputs: ['x_in'], outputs: ['x_out'] },
  ],
  inputs: [
    { name: 'i', type: 'int64', shape: [] },
    { name: 'cond_in', type: 'bool', shape: [] },
    { name: 'x_in', type: 'float32', shape: [1] },
  ],
  outputs: [
    { name: 'cond_out', type: 'bool', shape: [] },
    { name: 'x_out', type: 'float32', shape: [1] },
  ],
};

/** `y = x` after INT64_MAX iterations of a pass-through body: a run that never ends. */
export function endlessLoopModel(): Uint8Array {
  return model({
    name: 'endless',
    nodes: [{ opType: 'Loop', inputs: ['trips', 'keep_going', 'x'], outputs: ['y'], attributes: { body: { graph: passThrough } } }],
    inputs: [{ name: 'x', type: 'float32', shape: [1] }],
    outputs: [{ name: 'y', type: 'float32', shape: [1] }],
    initializers: [
      { name: 'trips', type: 'int64', dims: [], values: [INT64_MAX] },
      { name: 'keep_going', type: 'bool', dims: [], values: [true] },
    ],
  });
}

/** `y = x` after `trips` iterations (an int64 scalar input): a finite run as long as the caller asks. */
export function tripsLoopModel(): Uint8Array {
  return model({
    name: 'trips',
    nodes: [{ opType: 'Loop', inputs: ['trips', 'keep_going', 'x'], outputs: ['y'], attributes: { body: { graph: passThrough } } }],
    inputs: [
      { name: 'trips', type: 'int64', shape: [] },
      { name: 'x', type: 'float32', shape: [1] },
    ],
    outputs: [{ name: 'y', type: 'float32', shape: [1] }],
    initializers: [{ name: 'keep_going', type: 'bool', dims: [], values: [true] }],
  });
}

/** The sum of `elements` zeros (float32), with a constant shape: onnxruntime folds it while creating the session. */
export function constantMemoryBombModel(elements: number): Uint8Array {
  return model({
    name: 'bomb',
    nodes: [
      {
        opType: 'ConstantOfShape',
        inputs: ['shape'],
        outputs: ['zeros'],
        attributes: { value: { tensor: { name: 'v', type: 'float32', dims: [1], values: [0] } } },
      },
      { opType: 'ReduceSum', inputs: ['zeros'], outputs: ['sum'], attributes: { keepdims: { int: 0 } } },
      { opType: 'Add', inputs: ['sum', 'x'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', type: 'float32', shape: [1] }],
    outputs: [{ name: 'y', type: 'float32', shape: [1] }],
    initializers: [{ name: 'shape', type: 'int64', dims: [1], values: [elements] }],
  });
}

/** The sum of as many zeros (float32) as the int64 input `shape` asks for: memory on demand. */
export function memoryOnDemandModel(): Uint8Array {
  return model({
    name: 'zeros',
    nodes: [
      {
        opType: 'ConstantOfShape',
        inputs: ['shape'],
        outputs: ['zeros'],
        attributes: { value: { tensor: { name: 'v', type: 'float32', dims: [1], values: [0] } } },
      },
      { opType: 'ReduceSum', inputs: ['zeros'], outputs: ['sum'], attributes: { keepdims: { int: 0 } } },
    ],
    inputs: [{ name: 'shape', type: 'int64', shape: [1] }],
    outputs: [{ name: 'sum', type: 'float32', shape: [] }],
  });
}

/** `y`: as many zeros (float32) as the int64 input `shape` asks for — a small request, an answer as big as asked. */
export function fillModel(): Uint8Array {
  return model({
    name: 'fill',
    nodes: [
      {
        opType: 'ConstantOfShape',
        inputs: ['shape'],
        outputs: ['y'],
        attributes: { value: { tensor: { name: 'v', type: 'float32', dims: [1], values: [0] } } },
      },
    ],
    inputs: [{ name: 'shape', type: 'int64', shape: [1] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['n'] }],
  });
}
