import * as v from 'valibot';
import { OnDeviceError } from '../core/OnDeviceError';
import type { ElementType, Feeds, TensorArray, TensorData } from '../core/protocol';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { validateFeeds } from '../core/validateFeeds';
import { InferRequest } from './inferRequestSchema';
import { tensorFromJson } from './tensorFromJson';
import { BYTES_PER_ELEMENT, isV2Datatype, V2_DATATYPES, V2_TO_ELEMENT } from '../core/v2Datatypes';
import { v2Error } from './v2Error';

export interface DecodedInferRequest {
  id: string | undefined;
  feeds: Feeds;
  /** Outputs to answer with, in the model's order, and whether each goes back as binary data. */
  outputs: { name: string; binary: boolean }[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * An Open Inference Protocol infer request body — JSON, or JSON followed by binary tensor data when
 * `Inference-Header-Content-Length` is given (Triton's binary tensor data extension) — as validated feeds
 * for `model`. Every problem is an HttpError 400 naming the input; the browser's `validateFeeds` has the
 * last word, so the server accepts exactly what `Model.run` accepts.
 */
export function decodeInferRequest(
  body: Uint8Array,
  headerLength: string | undefined,
  model: { id: string; inputs: TensorSpec[]; outputs: TensorSpec[] },
): DecodedInferRequest {
  let jsonEnd = body.byteLength;
  if (headerLength !== undefined) {
    jsonEnd = Number(headerLength);
    if (!/^\d+$/.test(headerLength) || jsonEnd > body.byteLength) {
      throw v2Error(
        400,
        'INVALID_INPUT',
        `Inference-Header-Content-Length must be a byte count within the body (${body.byteLength} bytes)`,
      );
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(body.subarray(0, jsonEnd)));
  } catch (error) {
    throw v2Error(400, 'INVALID_INPUT', `the request body is not JSON: ${(error as Error).message}`);
  }
  const parsed = v.safeParse(InferRequest, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const at = v.getDotPath(issue) ?? 'body';
    throw v2Error(400, 'INVALID_INPUT', `invalid infer request at ${at}: ${issue.message}`);
  }
  const request = parsed.output;
  const binary = body.subarray(jsonEnd);
  let offset = 0;
  const feeds: Feeds = {};
  for (const input of request.inputs) {
    const where = `input "${input.name}"`;
    if (Object.hasOwn(feeds, input.name)) throw v2Error(400, 'INVALID_INPUT', `${where} is given twice`);
    if (!isV2Datatype(input.datatype)) {
      throw v2Error(
        400,
        'INVALID_INPUT',
        `${where}: unknown datatype ${JSON.stringify(input.datatype)}; expected one of ${V2_DATATYPES.join(', ')}`,
      );
    }
    const type = V2_TO_ELEMENT[input.datatype];
    const count = input.shape.reduce((a, b) => a * b, 1);
    const size = input.parameters?.binary_data_size;
    let data: TensorArray;
    if (size !== undefined) {
      if (!Number.isSafeInteger(size) || (size as number) < 0)
        throw v2Error(400, 'INVALID_INPUT', `${where}: binary_data_size must be a byte count`);
      data = tensorFromBinary(binary.subarray(offset, offset + (size as number)), type, count, size as number, where);
      offset += size as number;
    } else {
      data = tensorFromJson(input.data, type, count, where);
    }
    feeds[input.name] = { type, data, dims: input.shape } as TensorData;
  }
  if (offset !== binary.byteLength) {
    throw v2Error(
      400,
      'INVALID_INPUT',
      `the binary tensor data is ${binary.byteLength} bytes but the inputs' binary_data_size add up to ${offset}`,
    );
  }
  try {
    validateFeeds(feeds, model.inputs, model.id);
  } catch (error) {
    if (error instanceof OnDeviceError) throw v2Error(400, 'INVALID_INPUT', error.message);
    throw error;
  }
  return { id: request.id, feeds, outputs: selectOutputs(request, model.outputs) };
}

function tensorFromBinary(bytes: Uint8Array, type: ElementType, count: number, size: number, where: string): TensorArray {
  if (type === 'string') throw v2Error(400, 'INVALID_INPUT', `${where}: BYTES tensors are accepted as JSON only`);
  if (bytes.byteLength !== size || size !== count * BYTES_PER_ELEMENT[type]) {
    throw v2Error(
      400,
      'INVALID_INPUT',
      `${where}: shape needs ${count * BYTES_PER_ELEMENT[type]} bytes of binary data, binary_data_size is ${size} (${bytes.byteLength} available)`,
    );
  }
  // Copy: the body offset of a tensor need not be aligned for its element size.
  const copy = new Uint8Array(size);
  copy.set(bytes);
  const Ctor = {
    bool: Uint8Array,
    uint8: Uint8Array,
    int8: Int8Array,
    uint16: Uint16Array,
    int16: Int16Array,
    float16: Uint16Array,
    uint32: Uint32Array,
    int32: Int32Array,
    float32: Float32Array,
    uint64: BigUint64Array,
    int64: BigInt64Array,
    float64: Float64Array,
  }[type];
  return new Ctor(copy.buffer, 0, count);
}

function selectOutputs(request: InferRequest, outputs: TensorSpec[]): { name: string; binary: boolean }[] {
  const allBinary = request.parameters?.binary_data_output === true;
  if (!request.outputs || request.outputs.length === 0) return outputs.map((o) => ({ name: o.name, binary: allBinary }));
  const known = new Set(outputs.map((o) => o.name));
  const wanted = new Map<string, boolean>();
  for (const o of request.outputs) {
    if (!known.has(o.name)) {
      throw v2Error(
        400,
        'INVALID_INPUT',
        `unknown output "${o.name}"; the model's outputs are ${[...known].map((n) => `"${n}"`).join(', ')}`,
      );
    }
    const flag = o.parameters?.binary_data;
    wanted.set(o.name, typeof flag === 'boolean' ? flag : allBinary);
  }
  return outputs.filter((o) => wanted.has(o.name)).map((o) => ({ name: o.name, binary: wanted.get(o.name)! }));
}
