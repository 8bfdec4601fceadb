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

/**
 * The tensor's data in a buffer we own, so it can be transferred to the page. onnxruntime-web already
 * copies each CPU output out of the wasm heap into a fresh array of its own (wasm-core-impl.ts, `run`),
 * and `getData(true)` downloads a GPU one into a fresh array: that array is used as it is, without a
 * second copy, unless it is a view on a larger or shared buffer.
 */
export async function fromOrtTensor(tensor: OrtTensor): Promise<TensorData> {
  const data = tensor.location === 'cpu' ? tensor.data : await tensor.getData(true);
  let owned: TensorData['data'];
  if (Array.isArray(data)) owned = [...(data as string[])];
  else if (ownsItsBuffer(data as ArrayBufferView)) owned = data as TensorData['data'];
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

/** A view that covers all of a transferable (not shared) buffer: transferring it takes nothing else along. */
function ownsItsBuffer(view: ArrayBufferView): boolean {
  return view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
}
