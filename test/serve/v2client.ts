// A small Open Inference Protocol client for the tests: JSON and binary tensor data, as Triton's clients send them.
import type { Feeds, TensorData } from '../../src/core/protocol';
import { fromFloat16Bits } from '../../src/core/float16';
import { toV2Datatype, V2_TO_ELEMENT, type V2Datatype } from '../../src/core/v2Datatypes';

export interface V2Answer {
  status: number;
  headers: Headers;
  json: any;
  /** Outputs decoded from JSON or binary data, as plain tensors. */
  outputs: Feeds;
}

/** JSON data for a tensor: FP16 as numbers, BOOL as booleans, INT64 as exact decimal strings. */
export function jsonInput(name: string, t: TensorData) {
  let data: unknown[];
  if (t.type === 'float16') data = Array.from(t.data as Uint16Array, fromFloat16Bits);
  else if (t.type === 'bool') data = Array.from(t.data as Uint8Array, (x) => x !== 0);
  else if (t.type === 'int64' || t.type === 'uint64') data = Array.from(t.data as BigInt64Array, (x) => x.toString());
  else data = Array.from(t.data as Float32Array);
  return { name, shape: t.dims, datatype: toV2Datatype(t.type), data };
}

export async function infer(
  url: string,
  body: unknown,
  init: { binaryInputs?: Feeds; headers?: Record<string, string> } = {},
): Promise<V2Answer> {
  let payload: Uint8Array<ArrayBuffer> | string;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...init.headers };
  if (init.binaryInputs) {
    const b = body as { inputs: unknown[] };
    const chunks: Uint8Array[] = [];
    b.inputs = Object.entries(init.binaryInputs).map(([name, t]) => {
      const view = t.data as Float32Array;
      const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      chunks.push(bytes);
      return { name, shape: t.dims, datatype: toV2Datatype(t.type), parameters: { binary_data_size: bytes.byteLength } };
    });
    const head = Buffer.from(JSON.stringify(b));
    payload = new Uint8Array(Buffer.concat([head, ...chunks]));
    headers['inference-header-content-length'] = String(head.byteLength);
    headers['content-type'] = 'application/octet-stream';
  } else {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(url, { method: 'POST', body: payload, headers });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const headerLength = response.headers.get('inference-header-content-length');
  const jsonEnd = headerLength === null ? bytes.byteLength : Number(headerLength);
  const json = JSON.parse(Buffer.from(bytes.subarray(0, jsonEnd)).toString('utf8'));
  const outputs: Feeds = {};
  let offset = jsonEnd;
  for (const o of json.outputs ?? []) {
    const type = V2_TO_ELEMENT[o.datatype as V2Datatype];
    const size = o.parameters?.binary_data_size;
    if (size !== undefined) {
      const copy = bytes.slice(offset, offset + size);
      offset += size;
      outputs[o.name] = { type, dims: o.shape, data: typedFromBytes(type, copy.buffer) };
    } else {
      outputs[o.name] = { type, dims: o.shape, data: o.data };
    }
  }
  return { status: response.status, headers: response.headers, json, outputs };
}

function typedFromBytes(type: string, buffer: ArrayBuffer): any {
  const ctor: Record<string, any> = {
    float32: Float32Array,
    float64: Float64Array,
    float16: Uint16Array,
    int8: Int8Array,
    uint8: Uint8Array,
    bool: Uint8Array,
    int16: Int16Array,
    uint16: Uint16Array,
    int32: Int32Array,
    uint32: Uint32Array,
    int64: BigInt64Array,
    uint64: BigUint64Array,
  };
  return new ctor[type](buffer);
}

/** The reference output as the values its JSON form carries. */
export function expectedJsonValues(t: TensorData): unknown[] {
  if (t.type === 'float16') return Array.from(t.data as Uint16Array, fromFloat16Bits);
  if (t.type === 'bool') return Array.from(t.data as Uint8Array, (x) => x !== 0);
  if (t.type === 'int64' || t.type === 'uint64') return Array.from(t.data as BigInt64Array, (x) => Number(x));
  // JSON has no -0: compare as JSON would carry it.
  return Array.from(t.data as Float32Array, (x) => (Object.is(x, -0) ? 0 : x));
}
