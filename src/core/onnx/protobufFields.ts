/** One field of a protobuf message as it is on the wire. */
export interface ProtobufField {
  field: number;
  /** Wire type 0 (varint). Values above 2⁵³ lose precision: ONNX keeps offsets and lengths in strings. */
  varint?: number;
  /** Wire type 5 (fixed32), read as a little-endian float (the only fixed32 ONNX uses). */
  fixed32?: number;
  /** Wire type 2 (length-delimited): a view into the message, never a copy. */
  bytes?: Uint8Array;
  /** The whole field as encoded (tag and payload), a view: a message is rewritten by keeping the fields it does not change. */
  raw: Uint8Array;
  /** Where the whole field (tag included) starts and ends in the message. */
  start: number;
  end: number;
}

/**
 * The top-level fields of one protobuf message, in order, without decoding any payload: a 400 MB model's
 * weights are skipped, not read. Wire types 0, 1, 2 and 5 (groups, 3 and 4, are not used by ONNX).
 * Throws a plain Error on bytes that are not a well-formed message; callers say which file.
 * https://protobuf.dev/programming-guides/encoding/
 *
 * @example
 * for (const f of protobufFields(model)) if (f.field === 7 && f.bytes) readGraph(f.bytes)
 */
export function* protobufFields(buf: Uint8Array): Generator<ProtobufField> {
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
    const start = at;
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field < 1) throw new Error(`protobuf field number ${field}`);
    if (wire === 0) {
      const value = varint();
      yield { field, varint: value, raw: buf.subarray(start, at), start, end: at };
    } else if (wire === 1) {
      if (at + 8 > buf.length) throw new Error('truncated protobuf fixed64');
      at += 8;
      yield { field, raw: buf.subarray(start, at), start, end: at };
    } else if (wire === 2) {
      const length = varint();
      if (at + length > buf.length) throw new Error(`protobuf field ${field}: ${length} bytes, ${buf.length - at} left`);
      const bytes = buf.subarray(at, at + length);
      at += length;
      yield { field, bytes, raw: buf.subarray(start, at), start, end: at };
    } else if (wire === 5) {
      if (at + 4 > buf.length) throw new Error('truncated protobuf fixed32');
      const value = new DataView(buf.buffer, buf.byteOffset + at, 4).getFloat32(0, true);
      at += 4;
      yield { field, fixed32: value, raw: buf.subarray(start, at), start, end: at };
    } else throw new Error(`unsupported protobuf wire type ${wire} (field ${field})`);
  }
}

/** The values of a packed repeated varint field (no tags between them). */
export function packedVarints(buf: Uint8Array): number[] {
  const out: number[] = [];
  let value = 0;
  let scale = 1;
  for (const byte of buf) {
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      out.push(value);
      value = 0;
      scale = 1;
    } else scale *= 128;
  }
  if (scale !== 1) throw new Error('truncated packed varint');
  return out;
}

/** A string (or bytes) field as UTF-8 text. */
export function utf8(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
