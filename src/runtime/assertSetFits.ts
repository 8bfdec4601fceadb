import { assertFitsDeviceMemory } from '../cache/assertFitsDeviceMemory';
import { OnDeviceError } from '../core/OnDeviceError';
import { ONNX_FLOAT16 } from '../core/onnx/readExternalData';
import type { ModelSetPlan } from '../core/onnx/planDataFiles';
import type { LoadRequest } from '../core/protocol';

const MB = 1e6;

/**
 * The most weight bytes the WASM backend holds: onnxruntime-web 1.30 ships wasm32 builds only, a heap of at most
 * 4 GiB. Measured here (`npm run bench -- ceiling`, transformer-shaped sets in 3 data files, prepacking on): fp32
 * loads up to 4.12 GB and fails from 4.15 GB (the heap then at 4.00 GiB); int8 (MatMulInteger) loads at 4.25 GB.
 */
export const WASM_HEAP_LIMIT_BYTES = 4.12e9;

/**
 * Heap bytes onnxruntime-web's WASM backend needs per byte of weights, by ONNX data type. Its CPU kernels run fp16
 * weights as fp32 (casts folded into fp32 copies): measured 2.34–2.47 heap bytes per fp16 byte (1.70 GB of fp16 weights
 * load, 1.80 GB do not). Everything else about one (fp32 1.00–1.04 with prepacking, int8 0.94–1.01).
 */
export function heapBytesPerByte(dataType: number): number {
  return dataType === ONNX_FLOAT16 ? 2.4 : 1;
}

/** The heap a set's weights need on WASM (see heapBytesPerByte). */
export function wasmHeapBytesFor(plan: ModelSetPlan): number {
  let bytes = 0;
  for (const ref of plan.tensors.external) bytes += (ref.length ?? ref.expectedBytes ?? 0) * heapBytesPerByte(ref.dataType);
  for (const [dataType, inline] of plan.tensors.inlineBytesByType) bytes += inline * heapBytesPerByte(dataType);
  return bytes;
}

/**
 * Refuse, before any data file is downloaded, a set this device cannot hold: over `navigator.deviceMemory`'s rule
 * (the set's total), or on WASM over what the wasm32 heap holds — OUT_OF_MEMORY naming both sizes, so
 * `fallback: 'server'` can take the model to the server. WebGPU keeps weights in GPU memory: not refused here.
 */
export function assertSetFits(plan: ModelSetPlan, request: LoadRequest): void {
  assertFitsDeviceMemory(plan.totalBytes);
  if (request.backend === 'wasm') assertHeapHolds(request.source.id, plan.totalBytes, wasmHeapBytesFor(plan));
}

/**
 * Before anything is downloaded: a source whose listed size alone (registry `totalBytes`) is over the heap limit
 * cannot fit on WASM whatever its precision (every type takes at least about a byte of heap per byte).
 */
export function assertListedSizeFits(request: LoadRequest): void {
  const listed = request.source.totalBytes ?? request.source.bytes;
  if (listed === undefined) return;
  assertFitsDeviceMemory(listed);
  if (request.backend === 'wasm') assertHeapHolds(request.source.id, listed, listed);
}

function assertHeapHolds(id: string, bytes: number, needed: number): void {
  if (needed <= WASM_HEAP_LIMIT_BYTES) return;
  throw new OnDeviceError(
    'OUT_OF_MEMORY',
    `${id} is ${(bytes / MB).toFixed(0)} MB and needs about ${(needed / MB).toFixed(0)} MB of WebAssembly heap for its weights; onnxruntime-web's WASM backend holds at most ${(WASM_HEAP_LIMIT_BYTES / MB).toFixed(0)} MB (a 32-bit heap). Use a smaller or quantized model, WebGPU, or fallback: 'server'.`,
    { modelBytes: bytes, heapBytesNeeded: needed, heapLimitBytes: WASM_HEAP_LIMIT_BYTES },
  );
}
