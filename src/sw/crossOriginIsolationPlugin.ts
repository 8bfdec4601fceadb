import type { WorkboxPlugin } from 'workbox-core/types.js';
import { withCrossOriginIsolation } from './withCrossOriginIsolation';

/**
 * A Workbox plugin adding COOP/COEP/CORP to every response a strategy hands to the page — and to what it stores, so
 * a cached response is served as Cache Storage holds it, not rewritten: Chromium keeps V8's code cache for a wasm
 * file beside its Cache Storage entry, and applies it only to that very response (onnxruntime's 14–27 MB wasm
 * then skips most of its compile on the next visit). Like Workbox's default, only 200 responses are stored.
 */
export const crossOriginIsolationPlugin: WorkboxPlugin = {
  async cacheWillUpdate({ response }) {
    return response.status === 200 ? withCrossOriginIsolation(response) : null;
  },
  async handlerWillRespond({ response }) {
    return withCrossOriginIsolation(response);
  },
};
