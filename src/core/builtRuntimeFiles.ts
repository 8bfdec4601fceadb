import { OnDeviceError } from './OnDeviceError';
import type { RuntimeFiles } from './RuntimeFiles';

// Replaced with the list of the files actually built (scripts/buildPackage.ts, vite `define`), so the
// Vite plugin and the service-worker helpers never guess chunk names.
declare const __ONDEVICE_RUNTIME_FILES__: RuntimeFiles | undefined;

/** The runtime files of this build of ondevice (only in the `ondevice/vite` and `ondevice/sw` builds). */
export function builtRuntimeFiles(): RuntimeFiles {
  if (typeof __ONDEVICE_RUNTIME_FILES__ === 'undefined') {
    throw new OnDeviceError(
      'NOT_SUPPORTED',
      'the runtime file list is only built into ondevice/vite and ondevice/sw (scripts/buildPackage.ts)',
    );
  }
  return __ONDEVICE_RUNTIME_FILES__;
}
