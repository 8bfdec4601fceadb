import { packedVarints, protobufFields as fields, utf8 } from './protobufFields';

// ONNX field numbers (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto).
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const ATTRIBUTE_NAME = 1;
const ATTRIBUTE_INT = 3;
const ATTRIBUTE_TENSOR = 5;
const VALUE_INFO_NAME = 1;
const TENSOR_DIMS = 1;
const TENSOR_DATA_TYPE = 2;
const TENSOR_INT32_DATA = 5;
const TENSOR_INT64_DATA = 7;
const TENSOR_NAME = 8;
const TENSOR_RAW_DATA = 9;
const INT32 = 6;
const INT64 = 7;

/**
 * The integer constants the model's main graph compares each graph input with (`Equal(input, constant)`, the
 * constant a `Constant` node or an initializer holding one int32/int64 value). Generated warm-up inputs use
 * them: a model that branches on a parameter input refuses anything else — Silero VAD runs only for
 * `sr == 16000` (or 8000), and a generated 0 fails it on every load. Reads the graph's structure only; the
 * weights are skipped, not decoded. Empty for bytes it cannot read.
 *
 * @example
 * comparedConstants(vadBytes) // { sr: [16000] }
 */
export function comparedConstants(model: Uint8Array): Record<string, number[]> {
  try {
    for (const f of fields(model)) if (f.field === MODEL_GRAPH && f.bytes) return fromGraph(f.bytes);
  } catch {
    // Not a model we can read: no hint, and the warm-up guesses as it would without one.
  }
  return {};
}

function fromGraph(graph: Uint8Array): Record<string, number[]> {
  const inputs = new Set<string>();
  const constants = new Map<string, number>();
  const equals: string[][] = [];
  for (const f of fields(graph)) {
    if (!f.bytes) continue;
    if (f.field === GRAPH_INPUT) {
      for (const g of fields(f.bytes)) if (g.field === VALUE_INFO_NAME && g.bytes) inputs.add(utf8(g.bytes));
    } else if (f.field === GRAPH_INITIALIZER) {
      const tensor = readIntTensor(f.bytes);
      if (tensor?.value !== undefined) constants.set(tensor.name, tensor.value);
    } else if (f.field === GRAPH_NODE) {
      const node = readNode(f.bytes);
      if (node.op === 'Equal' && node.inputs.length === 2) equals.push(node.inputs);
      else if (node.op === 'Constant' && node.outputs.length === 1 && node.value !== undefined) constants.set(node.outputs[0], node.value);
    }
  }
  const found: Record<string, number[]> = {};
  for (const pair of equals) {
    for (const [a, b] of [pair, [...pair].reverse()]) {
      const value = constants.get(b);
      if (!inputs.has(a) || value === undefined) continue;
      found[a] = [...new Set([...(found[a] ?? []), value])];
    }
  }
  return found;
}

function readNode(bytes: Uint8Array): { op: string; inputs: string[]; outputs: string[]; value?: number } {
  const node: { op: string; inputs: string[]; outputs: string[]; value?: number } = { op: '', inputs: [], outputs: [] };
  const attributes: Uint8Array[] = [];
  for (const f of fields(bytes)) {
    if (!f.bytes) continue;
    if (f.field === NODE_INPUT) node.inputs.push(utf8(f.bytes));
    else if (f.field === NODE_OUTPUT) node.outputs.push(utf8(f.bytes));
    else if (f.field === NODE_OP_TYPE) node.op = utf8(f.bytes);
    else if (f.field === NODE_ATTRIBUTE) attributes.push(f.bytes);
  }
  // Only a Constant's value is needed; other nodes' attributes (subgraphs included) are not read.
  if (node.op === 'Constant') for (const a of attributes) node.value ??= constantValue(a);
  return node;
}

/** A Constant node's `value` (a one-element integer tensor) or `value_int`. */
function constantValue(attribute: Uint8Array): number | undefined {
  let name = '';
  let int: number | undefined;
  let tensor: Uint8Array | undefined;
  for (const f of fields(attribute)) {
    if (f.field === ATTRIBUTE_NAME && f.bytes) name = utf8(f.bytes);
    else if (f.field === ATTRIBUTE_INT) int = f.varint;
    else if (f.field === ATTRIBUTE_TENSOR) tensor = f.bytes;
  }
  if (name === 'value_int') return int;
  if (name === 'value' && tensor) return readIntTensor(tensor)?.value;
  return undefined;
}

/** A tensor's name and, when it holds exactly one int32/int64 value, that value. */
function readIntTensor(bytes: Uint8Array): { name: string; value?: number } | undefined {
  let name = '';
  let type = 0;
  const dims: number[] = [];
  const values: number[] = [];
  let raw: Uint8Array | undefined;
  for (const f of fields(bytes)) {
    if (f.field === TENSOR_NAME && f.bytes) name = utf8(f.bytes);
    else if (f.field === TENSOR_DATA_TYPE && f.varint !== undefined) type = f.varint;
    else if (f.field === TENSOR_DIMS) {
      if (f.bytes) dims.push(...packedVarints(f.bytes));
      else if (f.varint !== undefined) dims.push(f.varint);
    } else if (f.field === TENSOR_INT32_DATA || f.field === TENSOR_INT64_DATA) {
      if (f.bytes) values.push(...packedVarints(f.bytes));
      else if (f.varint !== undefined) values.push(f.varint);
    } else if (f.field === TENSOR_RAW_DATA) raw = f.bytes;
  }
  if ((type !== INT32 && type !== INT64) || dims.reduce((a, b) => a * b, 1) !== 1) return { name };
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (raw.byteLength === 8 && type === INT64) return { name, value: Number(view.getBigInt64(0, true)) };
    if (raw.byteLength === 4 && type === INT32) return { name, value: view.getInt32(0, true) };
    return { name };
  }
  // Negative values are ten-byte two's-complement varints; a warm-up sample needs none of them.
  return values.length === 1 && values[0] <= Number.MAX_SAFE_INTEGER ? { name, value: values[0] } : { name };
}
