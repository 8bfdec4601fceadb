// The public API of `ondevice/sw` (built into lib/sw.mjs), for apps that bring their own Workbox service
// worker: precache the runtime files, and add the cross-origin-isolation headers to what it serves.
export { ondeviceRuntimeFiles, type OnDeviceRuntimeFilesOptions, type RuntimePrecacheEntry } from './ondeviceRuntimeFiles';
export { crossOriginIsolationPlugin } from './crossOriginIsolationPlugin';
export { withCrossOriginIsolation, ISOLATION_HEADERS } from './withCrossOriginIsolation';
