// A minimal ONNX ModelProto encoder: enough to write small, real test models without a protobuf
// dependency. Field numbers are those of onnx.proto3 (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto3).
import type { ElementType } from '../../core/protocol';
import { toFloat16Bits } from '../../core/float16';
import { ProtobufWriter } from './ProtobufWriter';

/** TensorProto.DataType. */
export const ONNX_DATA_TYPES: Record<ElementType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
};

/**
 * A constant tensor (initializer or attribute), given by exactly one of `values` (numbers; bigints allowed for
 * 64-bit ints), `raw` (the values already little-endian, as `raw_data` holds them) or `external` (the values
 * live in a file beside the model that the caller writes: `data_location` EXTERNAL with location, offset, length).
 */
export interface TensorSpecInit {
  name: string;
  type: Exclude<ElementType, 'string'>;
  dims: number[];
  values?: readonly (number | bigint | boolean)[];
  raw?: Uint8Array;
  external?: ExternalDataSpec;
}

/** Where an external tensor's bytes are (TensorProto.external_data). */
export interface ExternalDataSpec {
  location: string;
  offset: number;
  length: number;
}

/** A graph input or output. Fixed dims are numbers, symbolic dims are names. */
export interface ValueInfo {
  name: string;
  type: ElementType;
  shape: (number | string)[];
  docString?: string;
}

export type AttributeValue =
  | { int: number }
  | { float: number }
  | { string: string }
  | { ints: number[] }
  | { floats: number[] }
  | { tensor: TensorSpecInit }
  | { graph: GraphSpec };

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers?: TensorSpecInit[];
  docString?: string;
}

export interface ModelSpec {
  irVersion: number;
  /** Operator sets; the default domain is ''. */
  opsets: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  graph: GraphSpec;
  docString?: string;
  metadata?: Record<string, string>;
}

/** Serialize a model to ONNX bytes. The output is deterministic: the same spec gives the same bytes. */
export function encodeModel(model: ModelSpec): Uint8Array {
  // ModelProto. ir_version goes first: loaders sniff the first byte (see src/core/looksLikeModel.ts).
  const w = new ProtobufWriter().varint(1, model.irVersion);
  w.string(2, model.producerName).string(3, model.producerVersion);
  if (model.docString) w.string(6, model.docString);
  w.message(7, (g) => writeGraph(g, model.graph));
  for (const opset of model.opsets) w.message(8, (o) => o.string(1, opset.domain).varint(2, opset.version));
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.message(14, (e) => e.string(1, key).string(2, value));
  }
  return w.finish();
}

function writeGraph(w: ProtobufWriter, graph: GraphSpec): void {
  graph.nodes.forEach((node, i) => w.message(1, (n) => writeNode(n, node, `${node.opType}_${i}`)));
  w.string(2, graph.name);
  for (const tensor of graph.initializers ?? []) w.message(5, (t) => writeTensor(t, tensor));
  if (graph.docString) w.string(10, graph.docString);
  for (const input of graph.inputs) w.message(11, (v) => writeValueInfo(v, input));
  for (const output of graph.outputs) w.message(12, (v) => writeValueInfo(v, output));
}

function writeNode(w: ProtobufWriter, node: NodeSpec, defaultName: string): void {
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, node.name ?? defaultName);
  w.string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) w.message(5, (a) => writeAttribute(a, name, value));
  if (node.domain) w.string(7, node.domain);
}

// AttributeProto.AttributeType: FLOAT=1, INT=2, STRING=3, TENSOR=4, GRAPH=5, FLOATS=6, INTS=7.
function writeAttribute(w: ProtobufWriter, name: string, value: AttributeValue): void {
  w.string(1, name);
  if ('float' in value) w.float(2, value.float).varint(20, 1);
  else if ('int' in value) w.varint(3, value.int).varint(20, 2);
  else if ('string' in value) w.string(4, value.string).varint(20, 3);
  else if ('tensor' in value) w.message(5, (t) => writeTensor(t, value.tensor)).varint(20, 4);
  else if ('graph' in value) w.message(6, (g) => writeGraph(g, value.graph)).varint(20, 5);
  else if ('floats' in value) w.packedFloats(7, value.floats).varint(20, 6);
  else w.packedVarints(8, value.ints).varint(20, 7);
}

function writeTensor(w: ProtobufWriter, tensor: TensorSpecInit): void {
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  const given = [tensor.values, tensor.raw, tensor.external].filter((x) => x !== undefined).length;
  if (given !== 1) throw new Error(`tensor ${tensor.name}: give exactly one of values, raw or external`);
  const bytes = count * ELEMENT_BYTES[tensor.type];
  if (tensor.values && count !== tensor.values.length) {
    throw new Error(`tensor ${tensor.name}: dims [${tensor.dims}] need ${count} values, got ${tensor.values.length}`);
  }
  const length = tensor.raw?.byteLength ?? tensor.external?.length;
  if (length !== undefined && length !== bytes)
    throw new Error(`tensor ${tensor.name}: dims [${tensor.dims}] need ${bytes} bytes, got ${length}`);
  if (tensor.dims.length > 0) w.packedVarints(1, tensor.dims);
  w.varint(2, ONNX_DATA_TYPES[tensor.type]);
  w.string(8, tensor.name);
  if (tensor.external) {
    const { location, offset, length: externalLength } = tensor.external;
    for (const [key, value] of [
      ['location', location],
      ['offset', String(offset)],
      ['length', String(externalLength)],
    ])
      w.message(13, (e) => e.string(1, key).string(2, value));
    w.varint(14, 1); // DataLocation.EXTERNAL
  } else w.bytes(9, tensor.raw ?? rawData(tensor.type, tensor.values!));
}

/** Bytes per element of each numeric element type. */
export const ELEMENT_BYTES: Record<Exclude<ElementType, 'string'>, number> = {
  float64: 8,
  int64: 8,
  uint64: 8,
  float32: 4,
  int32: 4,
  uint32: 4,
  float16: 2,
  int16: 2,
  uint16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** TensorProto.raw_data: fixed-width little-endian values, whatever the host's byte order. */
function rawData(type: Exclude<ElementType, 'string'>, values: readonly (number | bigint | boolean)[]): Uint8Array {
  const width = ELEMENT_BYTES[type];
  const bytes = new Uint8Array(values.length * width);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => {
    const at = i * width;
    const n = Number(value);
    switch (type) {
      case 'float64':
        return view.setFloat64(at, n, true);
      case 'float32':
        return view.setFloat32(at, n, true);
      case 'float16':
        return view.setUint16(at, toFloat16Bits(n), true);
      case 'int64':
        return view.setBigInt64(at, BigInt(value), true);
      case 'uint64':
        return view.setBigUint64(at, BigInt(value), true);
      case 'int32':
        return view.setInt32(at, n, true);
      case 'uint32':
        return view.setUint32(at, n, true);
      case 'int16':
        return view.setInt16(at, n, true);
      case 'uint16':
        return view.setUint16(at, n, true);
      case 'int8':
        return view.setInt8(at, n);
      case 'uint8':
        return view.setUint8(at, n);
      case 'bool':
        return view.setUint8(at, value ? 1 : 0);
    }
  });
  return bytes;
}

function writeValueInfo(w: ProtobufWriter, info: ValueInfo): void {
  w.string(1, info.name);
  // TypeProto.tensor_type (1) -> TypeProto.Tensor { elem_type (1), shape (2) -> TensorShapeProto { dim (1) } }.
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.varint(1, ONNX_DATA_TYPES[info.type]);
      tensor.message(2, (shape) => {
        for (const dim of info.shape) {
          shape.message(1, (d) => (typeof dim === 'number' ? d.varint(1, dim) : d.string(2, dim)));
        }
      });
    }),
  );
  if (info.docString) w.string(3, info.docString);
}
