import type { Tensor as OrtTensor } from 'onnxruntime-web';
import type { Feeds, TensorData } from '../core/protocol';

type OrtModule = typeof import('onnxruntime-web');

export function toOrtFeeds(ort: OrtModule, feeds: Feeds): Record<string, OrtTensor> {
  const out: Record<string, OrtTensor> = {};
  for (const [name, t] of Object.entries(feeds)) {
    // float16 travels as its raw bits (Uint16Array); onnxruntime-web accepts that for 'float16'.
    out[name] = new ort.Tensor(t.type as never, t.data as never, t.dims);
  }
  return out;
}

/** Copy out of onnxruntime's tensor into a buffer we own, so it can be transferred to the page. */
export async function fromOrtTensor(tensor: OrtTensor): Promise<TensorData> {
  const data = tensor.location === 'cpu' ? tensor.data : await tensor.getData(true);
  let owned: TensorData['data'];
  if (Array.isArray(data)) owned = [...(data as string[])];
  else {
    const view = data as unknown as { slice(): unknown; constructor: unknown };
    owned = view.slice() as TensorData['data'];
  }
  if (tensor.type === 'float16' && !(owned instanceof Uint16Array) && !Array.isArray(owned)) {
    // onnxruntime-web may hand float16 back as Float16Array where the platform has one; keep bits.
    const bits = new Uint16Array((owned as unknown as { buffer: ArrayBuffer }).buffer);
    owned = bits;
  }
  return { type: tensor.type, data: owned, dims: [...tensor.dims] } as TensorData;
}
