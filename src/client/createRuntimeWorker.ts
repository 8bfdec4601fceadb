/**
 * Start the runtime worker from `url`. Browsers only start module workers from the page's own origin
 * (https://html.spec.whatwg.org/#dom-worker), so when ondevice.js is embedded from another origin (a CDN)
 * we start a same-origin `blob:` module worker that imports the real worker with CORS. Same-origin use
 * keeps the plain URL, so a strict CSP without `blob:` keeps working.
 */
export function createRuntimeWorker(url: string, name: string): Worker {
  const target = new URL(url, globalThis.location?.href);
  if (!globalThis.location || target.origin === globalThis.location.origin) {
    return new Worker(target, { type: 'module', name });
  }
  const bootstrap = URL.createObjectURL(new Blob([bootstrapSource(target.href)], { type: 'text/javascript' }));
  try {
    return new Worker(bootstrap, { type: 'module', name });
  } finally {
    // The constructor resolves the blob URL synchronously, so it need not outlive this call.
    URL.revokeObjectURL(bootstrap);
  }
}

/**
 * A dynamic import, not a static one: static imports of a module worker are fetched as destination
 * "worker" and would need the script's origin in the page's `worker-src`; a dynamic import is a
 * "script" fetch, covered by the `script-src` that already allows ondevice.js. The worker's message
 * port opens as soon as this bootstrap has run, before the import finishes, so messages that arrive
 * meanwhile are held and replayed. A failed import is rethrown from a task so the page's Worker gets
 * an `error` event (a rejection alone would not reach it).
 */
function bootstrapSource(href: string): string {
  const url = JSON.stringify(href);
  return `const held = [];
const hold = (event) => { event.stopImmediatePropagation(); held.push(event); };
addEventListener('message', hold);
import(${url}).then(
  () => {
    removeEventListener('message', hold);
    for (const event of held) dispatchEvent(new MessageEvent('message', { data: event.data, ports: event.ports }));
  },
  (error) => setTimeout(() => { throw new Error('ondevice: could not import ' + ${url} + ': ' + ((error && error.message) || error)); }),
);
`;
}
