/**
 * Reads the initializers (the weights) of an ONNX model back: ModelProto.graph (7) → GraphProto.initializer (5)
 * → TensorProto dims (1), data_type (2), float_data (4), name (8), raw_data (9). The inverse of encodeModel for
 * float32 tensors, enough to fine-tune a model the repository exported.
 * https://github.com/onnx/onnx/blob/main/onnx/onnx.proto
 */
import { packedVarints, protobufFields as fields } from '../../core/onnx/protobufFields';

export interface OnnxInitializer {
  name: string;
  dims: number[];
  /** TensorProto.DataType: 1 is float32, the only type whose values are decoded. */
  dataType: number;
  /** The float32 values; undefined for other data types. */
  values?: Float32Array;
}

const FLOAT32 = 1;

/** The graph's initializers, in file order. Throws on bytes that are not a well-formed protobuf message. */
export function readInitializers(model: Uint8Array): OnnxInitializer[] {
  const initializers: OnnxInitializer[] = [];
  for (const graph of fields(model)) {
    if (graph.field !== 7 || graph.bytes === undefined) continue;
    for (const tensor of fields(graph.bytes)) if (tensor.field === 5 && tensor.bytes) initializers.push(readTensor(tensor.bytes));
  }
  return initializers;
}

function readTensor(bytes: Uint8Array): OnnxInitializer {
  let name = '';
  const dims: number[] = [];
  let dataType = 0;
  let raw: Uint8Array | undefined;
  const floats: number[] = [];
  for (const f of fields(bytes)) {
    if (f.field === 1) {
      if (f.bytes) for (const v of packedVarints(f.bytes)) dims.push(v);
      else if (f.varint !== undefined) dims.push(f.varint);
    } else if (f.field === 2 && f.varint !== undefined) dataType = f.varint;
    else if (f.field === 4) {
      if (f.bytes) floats.push(...littleEndianFloats(f.bytes));
      else if (f.fixed32 !== undefined) floats.push(f.fixed32);
    } else if (f.field === 8 && f.bytes) name = new TextDecoder().decode(f.bytes);
    else if (f.field === 9 && f.bytes) raw = f.bytes;
  }
  if (dataType !== FLOAT32) return { name, dims, dataType };
  const values = raw ? littleEndianFloats(raw) : Float32Array.from(floats);
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new Error(`initializer ${name}: dims [${dims}] need ${count} values, found ${values.length}`);
  return { name, dims, dataType, values };
}

function littleEndianFloats(buf: Uint8Array): Float32Array {
  if (buf.length % 4 !== 0) throw new Error(`float32 data of ${buf.length} bytes`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return Float32Array.from({ length: buf.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}
