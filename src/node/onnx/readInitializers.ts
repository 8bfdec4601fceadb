/**
 * Reads the initializers (the weights) of an ONNX model back: ModelProto.graph (7) → GraphProto.initializer (5)
 * → TensorProto dims (1), data_type (2), float_data (4), name (8), raw_data (9). The inverse of encodeModel for
 * float32 tensors, enough to fine-tune a model the repository exported.
 * https://github.com/onnx/onnx/blob/main/onnx/onnx.proto
 */
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

interface Field {
  field: number;
  varint?: number;
  fixed32?: number;
  bytes?: Uint8Array;
}

/** The top-level fields of one message. Wire types 0, 1, 2 and 5; groups (3, 4) are not used by ONNX. */
function* fields(buf: Uint8Array): Generator<Field> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (at >= buf.length) throw new Error('truncated protobuf varint');
      const byte = buf[at++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new Error('protobuf varint longer than 10 bytes');
  };
  while (at < buf.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) yield { field, varint: varint() };
    else if (wire === 1) {
      if (at + 8 > buf.length) throw new Error('truncated protobuf fixed64');
      at += 8;
      yield { field };
    } else if (wire === 2) {
      const length = varint();
      if (at + length > buf.length) throw new Error(`protobuf field ${field}: ${length} bytes, ${buf.length - at} left`);
      yield { field, bytes: buf.subarray(at, at + length) };
      at += length;
    } else if (wire === 5) {
      if (at + 4 > buf.length) throw new Error('truncated protobuf fixed32');
      const value = view.getFloat32(at, true);
      at += 4;
      yield { field, fixed32: value };
    } else throw new Error(`unsupported protobuf wire type ${wire} (field ${field})`);
  }
}

function packedVarints(buf: Uint8Array): number[] {
  const out: number[] = [];
  for (const f of fields(concatTagged(buf))) if (f.varint !== undefined) out.push(f.varint);
  return out;
}

/** Packed varints have no tags: prefix each with a field-1 varint tag so `fields` can walk them. */
function concatTagged(buf: Uint8Array): Uint8Array {
  const out: number[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] < 0x80) {
      out.push(0x08, ...buf.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start !== buf.length) throw new Error('truncated packed varint');
  return Uint8Array.from(out);
}

function littleEndianFloats(buf: Uint8Array): Float32Array {
  if (buf.length % 4 !== 0) throw new Error(`float32 data of ${buf.length} bytes`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return Float32Array.from({ length: buf.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}
