import type { ElementType, Feeds, TensorArray, TensorData } from '../core/protocol';

/** onnxruntime-node results as plain `{ type, data, dims }` tensors, the same shape the browser `Model.run` returns. */
export function fromOrtOutputs(results: Record<string, { type: string; data: unknown; dims: readonly number[] }>): Feeds {
  const out: Feeds = {};
  for (const [name, tensor] of Object.entries(results)) {
    let data = tensor.data as TensorArray;
    // float16 is raw bits everywhere in ondevice (Uint16Array), whatever onnxruntime hands back.
    if (tensor.type === 'float16' && !(data instanceof Uint16Array)) {
      const view = data as unknown as ArrayBufferView;
      data = new Uint16Array(view.buffer, view.byteOffset, view.byteLength / 2);
    }
    out[name] = { type: tensor.type as ElementType, data, dims: [...tensor.dims] } as TensorData;
  }
  return out;
}
