import { assertFitsDeviceMemory } from '../cache/assertFitsDeviceMemory';
import { OnDeviceError } from '../core/OnDeviceError';
import type { ModelSource } from '../core/protocol';

// The smallest valid module: the magic number and version 1.
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/**
 * Why this device cannot run `source` before anything is downloaded: no usable WebAssembly (removed
 * or disabled, e.g. by an enterprise policy or a browser's "enhanced security" mode — both onnxruntime
 * bundles need it), or a model larger than `navigator.deviceMemory` allows (assertFitsDeviceMemory).
 * Throws OnDeviceError NOT_SUPPORTED / OUT_OF_MEMORY; returns when the device may try.
 */
export function assertDeviceCanTry(source: ModelSource): void {
  let usable = false;
  try {
    usable = typeof WebAssembly === 'object' && WebAssembly.validate(EMPTY_MODULE);
  } catch {
    usable = false;
  }
  if (!usable) throw new OnDeviceError('NOT_SUPPORTED', 'WebAssembly is not available in this page, and onnxruntime-web needs it');
  const bytes = source.totalBytes ?? source.bytes;
  if (bytes) assertFitsDeviceMemory(bytes);
}
