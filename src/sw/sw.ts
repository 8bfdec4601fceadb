/// <reference lib="webworker" />
// The app's service worker (built by scripts/buildServiceWorker.ts into dist/sw.js). It precaches the
// app shell, the library, the runtime worker and onnxruntime's files so the app opens offline, and adds
// COOP/COEP to what it serves so the page is cross-origin isolated even on hosts that do not send them.
// Model files are deliberately not routed: they live in the model store (IndexedDB), once.
import { clientsClaim } from 'workbox-core';
import { addPlugins, cleanupOutdatedCaches, matchPrecache, precacheAndRoute, type PrecacheEntry } from 'workbox-precaching';
import { registerRoute } from 'workbox-routing';
import { NetworkFirst, NetworkOnly } from 'workbox-strategies';
import { crossOriginIsolationPlugin } from './crossOriginIsolationPlugin';
import type { ServiceWorkerMessage } from './protocol';
import { withCrossOriginIsolation } from './withCrossOriginIsolation';

const sw = self as unknown as ServiceWorkerGlobalScope;
const REGISTRY_TIMEOUT_SECONDS = 3;
const REGISTRY_CACHE = 'ondevice-registry';
const NAVIGATION_TIMEOUT_SECONDS = 10;

addPlugins([crossOriginIsolationPlugin]);
// workbox-build's injectManifest replaces this with the list of files and their revisions.
precacheAndRoute((self as unknown as { __WB_MANIFEST: (string | PrecacheEntry)[] }).__WB_MANIFEST);
cleanupOutdatedCaches();

// The first install takes control at once (the page then reloads once to become isolated); an update
// waits in `waiting` until the page's "reload" prompt sends SKIP_WAITING.
clientsClaim();
sw.addEventListener('message', (event) => {
  if ((event.data as ServiceWorkerMessage | undefined)?.type === 'SKIP_WAITING') void sw.skipWaiting();
});

// The registry resolves model ids: network first (new versions), the last copy offline.
const registryUrl = new URL('models/registry.json', sw.registration.scope).href;
registerRoute(
  ({ url }) => url.href === registryUrl,
  new NetworkFirst({ cacheName: REGISTRY_CACHE, networkTimeoutSeconds: REGISTRY_TIMEOUT_SECONDS, plugins: [crossOriginIsolationPlugin] }),
);
// The first page fetches the registry before this worker controls it; keep a copy from the start so
// the first offline visit can resolve ids too. Best effort: a host without a registry still installs.
sw.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(REGISTRY_CACHE)
      .then((cache) => cache.add(registryUrl))
      .catch(() => undefined),
  );
});

// Scripts and workers outside the precache (e.g. a test-only or late-added bundle): the network, with the
// isolation headers too — Chromium refuses a dedicated worker without COEP in a cross-origin-isolated page.
registerRoute(
  ({ request, url }) => url.origin === sw.location.origin && ['script', 'worker', 'sharedworker'].includes(request.destination),
  new NetworkOnly({ plugins: [crossOriginIsolationPlugin] }),
);

// Navigations outside the precache (query strings, deep links): the network with isolation headers,
// and the real app when offline.
const network = new NetworkOnly({ networkTimeoutSeconds: NAVIGATION_TIMEOUT_SECONDS, plugins: [crossOriginIsolationPlugin] });
registerRoute(
  ({ request, url }) => request.mode === 'navigate' && url.origin === sw.location.origin,
  async (options) => {
    try {
      return await network.handle(options);
    } catch {
      const shell = await matchPrecache('index.html');
      return shell ? withCrossOriginIsolation(shell) : Response.error();
    }
  },
);
