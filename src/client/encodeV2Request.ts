import type { Feeds } from '../core/protocol';
import { toV2Datatype } from '../core/v2Datatypes';

/**
 * An Open Inference Protocol infer request for `feeds`: a JSON header followed by the raw little-endian
 * bytes of every numeric tensor (Triton's binary tensor data extension), so float32 is not spelled out
 * as decimal text and int64/uint64 stay exact. String tensors travel as JSON (`BYTES` has no binary form
 * on our server). Outputs are asked for as binary too.
 * https://docs.nvidia.com/deeplearning/triton-inference-server/user-guide/docs/protocol/extension_binary_data.html
 */
export function encodeV2Request(feeds: Feeds, id: string): { body: Blob; headerBytes: number } {
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  const inputs = Object.entries(feeds).map(([name, tensor]) => {
    const head = { name, shape: tensor.dims, datatype: toV2Datatype(tensor.type) };
    if (tensor.type === 'string') return { ...head, data: tensor.data };
    const view = tensor.data;
    // A copy: the caller's array may be a view on a shared or later-detached buffer.
    chunks.push(new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice());
    return { ...head, parameters: { binary_data_size: view.byteLength } };
  });
  const header = new TextEncoder().encode(JSON.stringify({ id, inputs, parameters: { binary_data_output: true } }));
  return { body: new Blob([header, ...chunks]), headerBytes: header.byteLength };
}
