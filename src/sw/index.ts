// The public API of `ondevice/sw` (built into lib/sw.mjs), for apps that bring their own Workbox service
// worker: precache the runtime files, and add the cross-origin-isolation headers to what it serves.
import { crossOriginIsolationPlugin as workboxPlugin } from './crossOriginIsolationPlugin';

export { ondeviceRuntimeFiles, type OnDeviceRuntimeFilesOptions, type RuntimePrecacheEntry } from './ondeviceRuntimeFiles';
export { withCrossOriginIsolation, ISOLATION_HEADERS } from './withCrossOriginIsolation';

/**
 * A Workbox plugin adding COOP/COEP/CORP to every response a strategy hands to the page. Typed by its shape
 * (not workbox-core's `WorkboxPlugin`), so these types need no particular Workbox version installed.
 *
 * @example
 * import { addPlugins } from 'workbox-precaching';
 * addPlugins([crossOriginIsolationPlugin]);
 */
export const crossOriginIsolationPlugin = workboxPlugin as { handlerWillRespond(param: { response: Response }): Promise<Response> };
