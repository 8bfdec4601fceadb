import type { Feeds, TensorData } from '../core/protocol';
import { fromFloat16Bits } from '../core/float16';
import { toV2Datatype } from '../core/v2Datatypes';
import { HttpError } from '../http/HttpError';
import { v2Error } from './v2Error';
import { ownValue } from '../core/ownValue';

export interface EncodedResponse {
  body: Uint8Array;
  headers: Record<string, string>;
}

/** Values written as JSON text per step: the text of a huge output is never one string. */
const CHUNK = 65_536;

/**
 * The `$inference_response`: JSON, or JSON followed by binary tensor data (with `Inference-Header-Content-Length`)
 * when any selected output asked for binary. A body over `maxBytes` is refused with HttpError 413 RESPONSE_TOO_LARGE,
 * decided before encoding from the tensor sizes: binary data exactly; JSON at least two bytes a value, or an
 * estimate from up to 4,096 values spread over each output that passes it by more than a quarter. JSON text that
 * still grows past it (near the limit, or values the sample missed) stops being written at once.
 */
export function encodeInferResponse(
  response: { modelName: string; modelVersion: string | undefined; id: string | undefined },
  outputs: Feeds,
  selection: { name: string; binary: boolean }[],
  maxBytes = Number.POSITIVE_INFINITY,
): EncodedResponse {
  const least = selection.reduce((n, { name, binary }) => n + leastBytes(outputs[name], binary), 0);
  if (least > maxBytes) throw tooLarge(`at least ${least}`, maxBytes);
  const estimate = selection.reduce((n, { name, binary }) => n + estimatedBytes(outputs[name], binary), 0);
  // Only an estimate clearly over refuses early: one near the limit is left to the exact count while writing.
  if (estimate > ESTIMATE_MARGIN * maxBytes) throw tooLarge(`about ${estimate}`, maxBytes);
  const binaries: Uint8Array[] = [];
  const dataTexts: string[] = [];
  let budget = maxBytes;
  const described = selection.map(({ name, binary }) => {
    const tensor = ownValue(outputs, name);
    if (!tensor) throw new Error(`the model returned no output ${JSON.stringify(name)}`);
    const head = { name, datatype: toV2Datatype(tensor.type), shape: tensor.dims };
    if (binary && tensor.type !== 'string') {
      const view = tensor.data as Exclude<TensorData['data'], string[]>;
      const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      binaries.push(bytes);
      budget -= bytes.byteLength;
      return { ...head, parameters: { binary_data_size: bytes.byteLength } };
    }
    const text = jsonData(tensor, budget);
    if (text === undefined) throw tooLarge(`more than ${maxBytes}`, maxBytes);
    budget -= text.length;
    dataTexts.push(text);
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
  const head = Buffer.from(json);
  const total = head.byteLength + binaries.reduce((n, b) => n + b.byteLength, 0);
  if (total > maxBytes) throw tooLarge(String(total), maxBytes);
  if (binaries.length === 0) return { body: head, headers: { 'content-type': 'application/json; charset=utf-8' } };
  return {
    body: Buffer.concat([head, ...binaries]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.byteLength) },
  };
}

function tooLarge(size: string, maxBytes: number): HttpError {
  return v2Error(
    413,
    'RESPONSE_TOO_LARGE',
    `the response would be ${size} bytes, over the ${maxBytes}-byte limit (ONDEVICE_MAX_RESPONSE_BYTES): ask for fewer outputs, or for binary data`,
    {},
    { limitBytes: maxBytes },
  );
}

/** The fewest bytes an output can take in the body: its binary size, or "[v,v,…]" with one-character values. */
function leastBytes(tensor: TensorData, binary: boolean): number {
  if (binary && tensor.type !== 'string') return (tensor.data as ArrayBufferView).byteLength;
  if (tensor.type === 'string') return (tensor.data as string[]).reduce((n, s) => n + s.length + 3, 2);
  return 2 * tensor.data.length + 1;
}

/** Values sampled for the size estimate, spread evenly over the output. */
const SAMPLE = 4096;
const ESTIMATE_MARGIN = 1.25;

/** An output's size in the body: binary exactly, JSON text from a sample of its values written out. */
function estimatedBytes(tensor: TensorData, binary: boolean): number {
  const count = tensor.data.length;
  if ((binary && tensor.type !== 'string') || tensor.type === 'string' || count <= 1) return leastBytes(tensor, binary);
  const step = Math.max(1, Math.floor(count / SAMPLE));
  let sampled = 0;
  let chars = 0;
  for (let i = 0; i < count && sampled < SAMPLE; i += step, sampled++) chars += chunkText(tensor, i, i + 1).length + 1;
  return Math.ceil((chars / sampled) * count) + 1;
}

/** The JSON array of a tensor's values, written in chunks; undefined as soon as it would pass `budget` characters. */
function jsonData(tensor: TensorData, budget: number): string | undefined {
  const { type, data } = tensor;
  if (type === 'string') {
    const text = JSON.stringify(data);
    return text.length > budget ? undefined : text;
  }
  const parts: string[] = [];
  let length = 2;
  for (let start = 0; start < data.length; start += CHUNK) {
    const part = chunkText(tensor, start, Math.min(start + CHUNK, data.length));
    length += part.length + (parts.length > 0 ? 1 : 0);
    if (length > budget) return undefined;
    parts.push(part);
  }
  return `[${parts.join(',')}]`;
}

function chunkText({ type, data }: TensorData, start: number, end: number): string {
  if (type === 'bool') return Array.from((data as Uint8Array).subarray(start, end), (x) => (x ? 'true' : 'false')).join(',');
  if (type === 'float16') return JSON.stringify(Array.from((data as Uint16Array).subarray(start, end), fromFloat16Bits)).slice(1, -1);
  if (type === 'int64' || type === 'uint64') return (data as BigInt64Array).subarray(start, end).join(',');
  // NaN and ±Infinity have no JSON spelling; null is what JSON.stringify writes for them.
  return JSON.stringify(Array.from((data as Float32Array).subarray(start, end))).slice(1, -1);
}
