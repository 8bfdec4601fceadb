import { OnDeviceError } from '../core/OnDeviceError';

const GIB = 1024 ** 3;

/**
 * Refuse a download that cannot possibly be held in memory: the bytes, the session built from them and
 * the page all share the device's RAM. `navigator.deviceMemory` is a coarse hint (GiB, capped at 8 in
 * Chromium: https://www.w3.org/TR/device-memory/), so only models over half of it are refused.
 */
export function assertFitsDeviceMemory(bytes: number): void {
  const deviceMemoryGiB = (globalThis.navigator as (Navigator & { deviceMemory?: number }) | undefined)?.deviceMemory;
  if (!deviceMemoryGiB || !bytes) return;
  const limitBytes = (deviceMemoryGiB * GIB) / 2;
  if (bytes > limitBytes) {
    throw new OnDeviceError(
      'OUT_OF_MEMORY',
      `The model is ${(bytes / 1e6).toFixed(0)} MB; this device reports ${deviceMemoryGiB} GiB of memory, too little to load it`,
      {
        bytes,
        deviceMemoryGiB,
      },
    );
  }
}
