import type { Feeds, TensorData } from '../core/protocol';
import { fromFloat16Bits } from '../core/float16';
import { toV2Datatype } from '../core/v2Datatypes';
import { ownValue } from '../core/ownValue';

export interface EncodedResponse {
  body: Buffer;
  headers: Record<string, string>;
}

/**
 * The `$inference_response`: JSON, or JSON followed by binary tensor data (with
 * `Inference-Header-Content-Length`) when any selected output asked for binary.
 */
export function encodeInferResponse(
  response: { modelName: string; modelVersion: string | undefined; id: string | undefined },
  outputs: Feeds,
  selection: { name: string; binary: boolean }[],
): EncodedResponse {
  const binaries: Uint8Array[] = [];
  const dataTexts: string[] = [];
  const described = selection.map(({ name, binary }) => {
    const tensor = ownValue(outputs, name);
    if (!tensor) throw new Error(`the model returned no output ${JSON.stringify(name)}`);
    const head = { name, datatype: toV2Datatype(tensor.type), shape: tensor.dims };
    if (binary && tensor.type !== 'string') {
      const view = tensor.data as Exclude<TensorData['data'], string[]>;
      const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      binaries.push(bytes);
      return { ...head, parameters: { binary_data_size: bytes.byteLength } };
    }
    dataTexts.push(jsonData(tensor));
    return { ...head, data: `\u0000DATA${dataTexts.length - 1}\u0000` };
  });
  const envelope = {
    model_name: response.modelName,
    model_version: response.modelVersion ?? '1',
    ...(response.id !== undefined ? { id: response.id } : {}),
    outputs: described,
  };
  // int64 values do not survive JSON.stringify (BigInt) or Number (> 2^53): data arrays are written as text.
  const json = JSON.stringify(envelope).replace(/"\\u0000DATA(\d+)\\u0000"/g, (_, i: string) => dataTexts[Number(i)]);
  if (binaries.length === 0) {
    return { body: Buffer.from(json), headers: { 'content-type': 'application/json; charset=utf-8' } };
  }
  const head = Buffer.from(json);
  return {
    body: Buffer.concat([head, ...binaries]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.byteLength) },
  };
}

function jsonData(tensor: TensorData): string {
  const { type, data } = tensor;
  if (type === 'string') return JSON.stringify(data);
  if (type === 'bool') return `[${Array.from(data as Uint8Array, (x) => (x ? 'true' : 'false')).join(',')}]`;
  if (type === 'float16') return JSON.stringify(Array.from(data as Uint16Array, fromFloat16Bits));
  if (type === 'int64' || type === 'uint64') return `[${(data as BigInt64Array).join(',')}]`;
  // NaN and ±Infinity have no JSON spelling; null is what JSON.stringify writes for them.
  return JSON.stringify(Array.from(data as Float32Array));
}
