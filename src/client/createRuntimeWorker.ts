/**
 * Start the runtime worker from `url`. Browsers only start module workers from the page's own origin
 * (https://html.spec.whatwg.org/#dom-worker: "same origin" check), so when ondevice.js is embedded from
 * another origin (a CDN) we start a same-origin `blob:` module worker whose only line imports the real
 * worker cross-origin (a CORS module fetch). Same-origin use keeps the plain URL, so a strict CSP without
 * `blob:` in worker-src keeps working.
 */
export function createRuntimeWorker(url: string, name: string): Worker {
  const target = new URL(url, globalThis.location?.href);
  if (!globalThis.location || target.origin === globalThis.location.origin) {
    return new Worker(target, { type: 'module', name });
  }
  const bootstrap = URL.createObjectURL(new Blob([`import ${JSON.stringify(target.href)};\n`], { type: 'text/javascript' }));
  try {
    return new Worker(bootstrap, { type: 'module', name });
  } finally {
    // The constructor resolves the blob URL synchronously (URL parsing keeps the blob entry), so the
    // object URL can go right away instead of living as long as the page.
    URL.revokeObjectURL(bootstrap);
  }
}
