/**
 * The protocol-buffers wire format, only as much as ONNX needs: varints (wire type 0), fixed32
 * floats (5) and length-delimited fields (2). https://protobuf.dev/programming-guides/encoding/
 */
export class ProtobufWriter {
  readonly #parts: Uint8Array[] = [];
  #length = 0;

  /** An int32/int64/enum/bool field. Negative values take ten bytes (two's complement, as protobuf says). */
  varint(field: number, value: number | bigint): this {
    this.#tag(field, 0);
    this.#rawVarint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.#tag(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.#push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, 2);
    this.#rawVarint(value.length);
    this.#push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** An embedded message, encoded by `write` into its own writer. */
  message(field: number, write: (writer: ProtobufWriter) => void): this {
    const inner = new ProtobufWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  /** A packed repeated varint field (the proto3 default for repeated scalars). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtobufWriter();
    for (const value of values) inner.#rawVarint(value);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: readonly number[]): this {
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    values.forEach((value, i) => view.setFloat32(i * 4, value, true));
    return this.bytes(field, bytes);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const part of this.#parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  #tag(field: number, wireType: number): void {
    if (!Number.isInteger(field) || field < 1) throw new Error(`invalid protobuf field number ${field}`);
    this.#rawVarint(field * 8 + wireType);
  }

  #rawVarint(value: number | bigint): void {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error(`varint ${value} is not a safe integer`);
    let rest = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    do {
      const low = Number(rest & 0x7fn);
      rest >>= 7n;
      out.push(rest === 0n ? low : low | 0x80);
    } while (rest !== 0n);
    this.#push(Uint8Array.from(out));
  }

  #push(bytes: Uint8Array): void {
    this.#parts.push(bytes);
    this.#length += bytes.length;
  }
}
