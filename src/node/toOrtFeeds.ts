import type { Feeds } from '../core/protocol';
import type { Ort } from './loadOrt';

type OrtTensor = InstanceType<Ort['Tensor']>;

/** Plain `{ type, data, dims }` feeds as onnxruntime-node tensors (no copy: the tensor wraps the array). */
export function toOrtFeeds(ort: Ort, feeds: Feeds): Record<string, OrtTensor> {
  const out: Record<string, OrtTensor> = {};
  for (const [name, { type, data, dims }] of Object.entries(feeds)) {
    out[name] = new ort.Tensor(type as never, data as never, dims);
  }
  return out;
}
