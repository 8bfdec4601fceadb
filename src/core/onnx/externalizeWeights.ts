import { protobufFields } from './protobufFields';

/** The data file name the model's own bytes are handed to onnxruntime under (not a name real exports use). */
export const SELF_LOCATION = 'ondevice-inline-weights.bin';

const MIN_TENSOR_BYTES = 4096;

/**
 * The model with its large inline weights (`raw_data` of the graph's initializers, 4 KiB or more) turned into
 * external-data references to where they already sit in the model's own bytes: handed to onnxruntime-web with the
 * original bytes as the data file `SELF_LOCATION`, its heap holds each weight once. Given a protobuf with the
 * weights inside, onnxruntime copies the whole file into its heap and then every tensor out of it: twice the weights,
 * and wasm memory never shrinks. Returns undefined when no initializer is that large (nothing to gain).
 * ModelProto.graph 7 → GraphProto.initializer 5 → TensorProto.raw_data 9, external_data 13, data_location 14.
 *
 * @example
 * const slim = externalizeWeights(bytes)
 * if (slim) await ort.InferenceSession.create(slim, { externalData: [{ path: SELF_LOCATION, data: bytes }] })
 */
export function externalizeWeights(model: Uint8Array): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let changed = false;
  for (const f of protobufFields(model)) {
    if (f.field !== 7 || !f.bytes) {
      parts.push(model.subarray(f.start, f.end));
      continue;
    }
    const graph: Uint8Array[] = [];
    for (const g of protobufFields(f.bytes)) {
      const tensor = g.field === 5 && g.bytes ? externalTensor(g.bytes, model) : undefined;
      if (tensor) {
        changed = true;
        graph.push(lengthDelimited(5, tensor));
      } else graph.push(f.bytes.subarray(g.start, g.end));
    }
    parts.push(lengthDelimited(7, concat(graph)));
  }
  return changed ? concat(parts) : undefined;
}

/** The TensorProto with `raw_data` replaced by a reference to its place in `model`, or undefined when it stays. */
function externalTensor(tensor: Uint8Array, model: Uint8Array): Uint8Array | undefined {
  const fields = [...protobufFields(tensor)];
  const raw = fields.find((f) => f.field === 9 && f.bytes);
  if (!raw?.bytes || raw.bytes.byteLength < MIN_TENSOR_BYTES || fields.some((f) => f.field === 13 || f.field === 14)) return undefined;
  const offset = raw.bytes.byteOffset - model.byteOffset;
  const kept = fields.filter((f) => f !== raw).map((f) => tensor.subarray(f.start, f.end));
  const entry = (key: string, value: string) =>
    lengthDelimited(13, concat([lengthDelimited(1, utf8(key)), lengthDelimited(2, utf8(value))]));
  return concat([
    ...kept,
    entry('location', SELF_LOCATION),
    entry('offset', String(offset)),
    entry('length', String(raw.bytes.byteLength)),
    Uint8Array.of(14 << 3, 1), // data_location: EXTERNAL
  ]);
}

function lengthDelimited(field: number, payload: Uint8Array): Uint8Array {
  return concat([varint((field << 3) | 2), varint(payload.byteLength), payload]);
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  for (let rest = value; ; rest = Math.floor(rest / 128)) {
    if (rest < 128) {
      out.push(rest);
      return Uint8Array.from(out);
    }
    out.push((rest % 128) | 0x80);
  }
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
