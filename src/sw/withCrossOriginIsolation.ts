/**
 * The headers that make a page cross-origin isolated (SharedArrayBuffer → WASM threads), for hosts
 * that cannot send them (GitHub Pages, most static hosts). See https://web.dev/articles/coop-coep.
 */
export const ISOLATION_HEADERS: readonly (readonly [string, string])[] = [
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Embedder-Policy', 'require-corp'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
];

/** `response` with each isolation header the server did not send added; untouched when nothing is missing. */
export function withCrossOriginIsolation(response: Response): Response {
  // Opaque responses cannot be rewritten (and need no policy of ours).
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) return response;
  const headers = new Headers(response.headers);
  let changed = false;
  for (const [name, value] of ISOLATION_HEADERS) {
    if (headers.has(name)) continue;
    headers.set(name, value);
    changed = true;
  }
  if (!changed) return response;
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
