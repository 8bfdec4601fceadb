export type OriginPolicy = '*' | ReadonlySet<string>;

/**
 * CORS headers for a request from `origin`, or null when the origin is not allowed. Requests without
 * an Origin header (curl, server-to-server) are allowed: Origin is a browser-enforced signal and a
 * non-browser client can forge it anyway, the site key is what gates ingest.
 */
export function corsHeaders(origin: string | undefined, policy: OriginPolicy): Record<string, string> | null {
  if (origin === undefined) return {};
  const allowed = policy === '*' ? origin !== 'null' : policy.has(origin);
  if (!allowed) return null;
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}

export const PREFLIGHT_HEADERS = {
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'content-type',
  'access-control-max-age': '600',
};
