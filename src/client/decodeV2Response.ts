import { OnDeviceError } from '../core/OnDeviceError';
import type { ElementType, Feeds, TensorArray, TensorData } from '../core/protocol';
import { bytesOfTensor, tensorFromBytes } from '../core/tensorFromBytes';
import { fromV2Datatype } from '../core/v2Datatypes';

interface V2Output {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  data?: unknown;
  parameters?: { binary_data_size?: unknown };
}

/**
 * The outputs of an Open Inference Protocol infer response — JSON, or JSON followed by binary tensor data
 * when `Inference-Header-Content-Length` is set — as tensors of the same types `Model.run` returns on the
 * device. Anything malformed is INFERENCE_FAILED naming what was wrong (the server answered 200 with
 * something that is not a v2 response: a proxy page, a different server).
 */
export function decodeV2Response(bytes: Uint8Array, headerLength: string | null, url: string): Feeds {
  const bad = (why: string) =>
    new OnDeviceError('INFERENCE_FAILED', `The server's answer from ${url} is not a v2 infer response: ${why}`, { url });
  const jsonEnd = headerLength === null ? bytes.byteLength : Number(headerLength);
  if (!Number.isSafeInteger(jsonEnd) || jsonEnd < 0 || jsonEnd > bytes.byteLength)
    throw bad(`Inference-Header-Content-Length ${headerLength}`);
  let json: { outputs?: unknown };
  try {
    json = JSON.parse(new TextDecoder().decode(bytes.subarray(0, jsonEnd))) as { outputs?: unknown };
  } catch (error) {
    throw bad(`not JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(json?.outputs)) throw bad('no outputs');
  const outputs: Feeds = {};
  let offset = jsonEnd;
  for (const output of json.outputs as V2Output[]) {
    const type = fromV2Datatype(output.datatype);
    const { name, shape } = output;
    if (typeof name !== 'string' || !type) throw bad(`output ${JSON.stringify(name)} has datatype ${JSON.stringify(output.datatype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`output "${name}" has no valid shape`);
    const dims = shape as number[];
    const count = dims.reduce((a, b) => a * b, 1);
    const size = output.parameters?.binary_data_size;
    let data: TensorArray;
    if (size !== undefined) {
      if (type === 'string' || typeof size !== 'number' || size !== bytesOfTensor(type, count) || offset + size > bytes.byteLength) {
        throw bad(`output "${name}": binary_data_size ${String(size)} does not fit ${output.datatype as string} ${JSON.stringify(dims)}`);
      }
      data = tensorFromBytes(bytes.subarray(offset, offset + size), type);
      offset += size;
    } else {
      data = fromJson(output.data, type, count, name, bad);
    }
    outputs[name] = { type, data, dims } as TensorData;
  }
  return outputs;
}

function fromJson(value: unknown, type: ElementType, count: number, name: string, bad: (why: string) => OnDeviceError): TensorArray {
  const flat = Array.isArray(value) ? (value.flat(Infinity) as unknown[]) : undefined;
  if (!flat || flat.length !== count) throw bad(`output "${name}" has ${flat?.length ?? 'no'} values, its shape needs ${count}`);
  if (type === 'string') return flat.map(String);
  // We always ask for binary outputs; FP16 as JSON numbers would need converting to raw bits.
  if (type === 'float16') throw bad(`output "${name}" is FP16 as JSON; expected binary data`);
  if (type === 'int64') return BigInt64Array.from(flat, (x) => BigInt(x as number | string));
  if (type === 'uint64') return BigUint64Array.from(flat, (x) => BigInt(x as number | string));
  const array = tensorFromBytes(new Uint8Array(bytesOfTensor(type, count)), type) as Exclude<
    TensorArray,
    string[] | BigInt64Array | BigUint64Array
  >;
  flat.forEach((x, i) => (array[i] = x === true ? 1 : x === false ? 0 : x === null ? NaN : Number(x)));
  return array;
}
