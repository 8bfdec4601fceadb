// Where an ONNX model's tensors keep their bytes: inline (`raw_data`) or in external files
// (`data_location: EXTERNAL` with `external_data` entries `location`, `offset`, `length`), read without decoding
// any weight. Field numbers are those of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto):
// ModelProto.graph 7, .functions 25 · GraphProto.node 1, .initializer 5, .sparse_initializer 15 ·
// NodeProto.attribute 5 · FunctionProto.node 7 · AttributeProto.t 5, .g 6, .tensors 11, .graphs 10,
// .sparse_tensor 22, .sparse_tensors 23 · SparseTensorProto.values 1, .indices 2 · TensorProto.dims 1,
// .data_type 2, .name 8, .raw_data 9, .external_data 13, .data_location 14 · StringStringEntryProto.key 1, .value 2.
import { OnDeviceError } from '../OnDeviceError';
import { packedVarints, protobufFields, utf8 } from './protobufFields';

/** One tensor whose bytes live in an external file. */
export interface ExternalDataReference {
  /** The tensor's name (a Constant's value or another attribute tensor is named `<node>/<attribute>` when unnamed). */
  tensor: string;
  /** The file, as the model names it (not yet checked: see externalDataFiles). */
  location: string;
  offset: number;
  /** Bytes the model says the tensor takes; undefined when it leaves `length` out. */
  length?: number;
  /** TensorProto.DataType (1 float32, 10 float16, 3 int8, …). */
  dataType: number;
  /** What dims × element size need; undefined for strings or an unknown type. */
  expectedBytes?: number;
}

/** What a model's tensors hold, by where their bytes are. */
export interface ModelTensorBytes {
  external: ExternalDataReference[];
  /** Bytes of inline tensor data (`raw_data`) per TensorProto.DataType. */
  inlineBytesByType: Map<number, number>;
}

/** TensorProto.DataType values used by name in this codebase. */
export const ONNX_FLOAT32 = 1;
export const ONNX_FLOAT16 = 10;

// Bits per element by TensorProto.DataType (strings have no fixed size).
const BITS: Record<number, number> = {
  1: 32,
  2: 8,
  3: 8,
  4: 16,
  5: 16,
  6: 32,
  7: 64,
  9: 8,
  10: 16,
  11: 64,
  12: 32,
  13: 64,
  14: 64,
  15: 128,
  16: 16,
  17: 8,
  18: 8,
  19: 8,
  20: 8,
  21: 4,
  22: 4,
  23: 4,
};

const EXTERNAL = 1;

/**
 * Every tensor of the model (initializers, sparse initializers, Constant and other attribute tensors, in
 * subgraphs and functions too) whose bytes live in an external file, and the inline bytes of the rest.
 * Throws MODEL_LOAD_FAILED naming `label` when the bytes are not a well-formed ONNX model.
 *
 * @example
 * const { external } = readModelTensors(onnxBytes, 'model.onnx')
 * external.map((r) => r.location) // ['model.onnx_data', …]
 */
export function readModelTensors(model: Uint8Array, label = 'the model'): ModelTensorBytes {
  const out: ModelTensorBytes = { external: [], inlineBytesByType: new Map() };
  try {
    for (const f of protobufFields(model)) {
      if (f.field === 7 && f.bytes) readGraph(f.bytes, out);
      else if (f.field === 25 && f.bytes) for (const g of protobufFields(f.bytes)) if (g.field === 7 && g.bytes) readNode(g.bytes, out);
    }
  } catch (error) {
    if (error instanceof OnDeviceError) throw error;
    throw new OnDeviceError('MODEL_LOAD_FAILED', `${label} is not a well-formed ONNX model: ${(error as Error).message}`, { file: label });
  }
  return out;
}

function readGraph(graph: Uint8Array, out: ModelTensorBytes): void {
  for (const f of protobufFields(graph)) {
    if (!f.bytes) continue;
    if (f.field === 1) readNode(f.bytes, out);
    else if (f.field === 5) readTensor(f.bytes, out, '');
    else if (f.field === 15) readSparseTensor(f.bytes, out, '');
  }
}

function readNode(node: Uint8Array, out: ModelTensorBytes): void {
  let name = '';
  const attributes: Uint8Array[] = [];
  for (const f of protobufFields(node)) {
    if (f.field === 3 && f.bytes) name = utf8(f.bytes);
    else if (f.field === 5 && f.bytes) attributes.push(f.bytes);
  }
  for (const attribute of attributes) readAttribute(attribute, out, name);
}

function readAttribute(attribute: Uint8Array, out: ModelTensorBytes, node: string): void {
  let name = '';
  for (const f of protobufFields(attribute)) if (f.field === 1 && f.bytes) name = utf8(f.bytes);
  const fallback = `${node}/${name}`;
  for (const f of protobufFields(attribute)) {
    if (!f.bytes) continue;
    if (f.field === 5 || f.field === 11) readTensor(f.bytes, out, fallback);
    else if (f.field === 6 || f.field === 10) readGraph(f.bytes, out);
    else if (f.field === 22 || f.field === 23) readSparseTensor(f.bytes, out, fallback);
  }
}

function readSparseTensor(sparse: Uint8Array, out: ModelTensorBytes, fallback: string): void {
  for (const f of protobufFields(sparse)) if ((f.field === 1 || f.field === 2) && f.bytes) readTensor(f.bytes, out, fallback);
}

function readTensor(tensor: Uint8Array, out: ModelTensorBytes, fallback: string): void {
  let name = '';
  let dataType = 0;
  let location: number | undefined;
  let rawBytes = 0;
  const dims: number[] = [];
  const entries: Record<string, string> = {};
  for (const f of protobufFields(tensor)) {
    if (f.field === 1) {
      if (f.bytes) dims.push(...packedVarints(f.bytes));
      else if (f.varint !== undefined) dims.push(f.varint);
    } else if (f.field === 2 && f.varint !== undefined) dataType = f.varint;
    else if (f.field === 8 && f.bytes) name = utf8(f.bytes);
    else if (f.field === 9 && f.bytes) rawBytes = f.bytes.byteLength;
    else if (f.field === 14 && f.varint !== undefined) location = f.varint;
    else if (f.field === 13 && f.bytes) {
      let key = '';
      let value = '';
      for (const e of protobufFields(f.bytes)) {
        if (e.field === 1 && e.bytes) key = utf8(e.bytes);
        else if (e.field === 2 && e.bytes) value = utf8(e.bytes);
      }
      entries[key] = value;
    }
  }
  const label = name || fallback;
  if (location !== EXTERNAL) {
    if (rawBytes > 0) out.inlineBytesByType.set(dataType, (out.inlineBytesByType.get(dataType) ?? 0) + rawBytes);
    return;
  }
  const bits = BITS[dataType];
  const count = dims.reduce((a, b) => a * b, 1);
  out.external.push({
    tensor: label,
    location: entries.location ?? '',
    offset: entries.offset === undefined ? 0 : byteCount(entries.offset, label, 'offset'),
    length: entries.length === undefined ? undefined : byteCount(entries.length, label, 'length'),
    dataType,
    expectedBytes: bits === undefined ? undefined : Math.ceil((count * bits) / 8),
  });
}

function byteCount(text: string, tensor: string, key: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new OnDeviceError('MODEL_LOAD_FAILED', `tensor "${tensor}": external data ${key} "${text}" is not a byte count`, { tensor });
  }
  return value;
}
