/// <reference types="@webgpu/types" />
import type { Tensor as OrtTensor } from 'onnxruntime-web';
import { OnDeviceError } from '../core/OnDeviceError';
import type { Feeds } from '../core/protocol';

type OrtModule = typeof import('onnxruntime-web');

/** Input buffers a graph-captured session reads, made on its first run and refilled on every later one. */
export interface GpuFeeds {
  /** `name:dims` of each input, in order: a captured graph replays only on the same shapes. */
  signature: string;
  buffers: GPUBuffer[];
  tensors: Record<string, OrtTensor>;
}

const signatureOf = (feeds: Feeds) =>
  Object.entries(feeds)
    .map(([name, t]) => `${name}:${t.dims.join('x')}:${t.type}`)
    .join(',');

/**
 * onnxruntime replays a captured graph only with inputs in GPU buffers (it refuses CPU tensors when
 * `enableGraphCapture` is on: "External buffer must be provided"), and on the buffers it was captured
 * with. So the first call creates one buffer per input; later calls write into the same buffers.
 */
export function uploadGpuFeeds(ort: OrtModule, device: GPUDevice, feeds: Feeds, previous: GpuFeeds | undefined): GpuFeeds {
  const signature = signatureOf(feeds);
  if (previous && previous.signature !== signature) {
    throw new OnDeviceError('INVALID_INPUT', 'A graph-captured model runs only on the input dims of its first run (its warm-up)', {
      first: previous.signature,
      now: signature,
    });
  }
  const held = previous ?? { signature, buffers: [], tensors: {} };
  Object.entries(feeds).forEach(([name, t], i) => {
    if (typeof t.data[0] === 'string' || Array.isArray(t.data)) {
      throw new OnDeviceError('INVALID_INPUT', `Input ${name}: string tensors cannot live on the GPU`);
    }
    const bytes = t.data as unknown as ArrayBufferView;
    if (!previous) {
      // writeBuffer wants sizes in multiples of 4; onnxruntime reads only the tensor's own bytes.
      const buffer = device.createBuffer({
        size: Math.max(16, Math.ceil(bytes.byteLength / 16) * 16),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      held.buffers.push(buffer);
      held.tensors[name] = ort.Tensor.fromGpuBuffer(buffer as never, { dataType: t.type as never, dims: t.dims });
    }
    const padded = bytes.byteLength % 4 === 0 ? bytes : copyPadded(bytes);
    device.queue.writeBuffer(held.buffers[i], 0, padded.buffer as ArrayBuffer, padded.byteOffset, padded.byteLength);
  });
  return held;
}

function copyPadded(view: ArrayBufferView): Uint8Array {
  const out = new Uint8Array(Math.ceil(view.byteLength / 4) * 4);
  out.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return out;
}

export function destroyGpuFeeds(held: GpuFeeds | undefined): void {
  for (const buffer of held?.buffers ?? []) buffer.destroy();
}
