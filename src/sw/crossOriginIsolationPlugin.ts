import type { WorkboxPlugin } from 'workbox-core/types.js';
import { withCrossOriginIsolation } from './withCrossOriginIsolation';

/** A Workbox plugin adding COOP/COEP/CORP to every response a strategy hands to the page. */
export const crossOriginIsolationPlugin: WorkboxPlugin = {
  async handlerWillRespond({ response }) {
    return withCrossOriginIsolation(response);
  },
};
