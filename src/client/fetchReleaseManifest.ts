import * as v from 'valibot';
import { ReleaseManifestSchema, type ReleaseManifest } from '../registry/ReleaseManifest';

/** A manifest fetch never holds a load up longer than this; past it the stored assignment is used. */
export const MANIFEST_TIMEOUT_MS = 4_000;

/**
 * What `GET /v1/manifest` said: the manifest; `static` (404, or an answer that is not a manifest: static
 * hosting, whose fallback page may even answer 200) — resolve through registry.json as without a server;
 * `unreachable` (offline, network error, timeout, 5xx) — use the stored assignment.
 */
export type ManifestAnswer = { kind: 'manifest'; manifest: ReleaseManifest } | { kind: 'static' } | { kind: 'unreachable' };

/** Fetch this install's release manifest from `server`, bounded by MANIFEST_TIMEOUT_MS. Never rejects. */
export async function fetchReleaseManifest(server: string, installId: string): Promise<ManifestAnswer> {
  if (globalThis.navigator?.onLine === false) return { kind: 'unreachable' };
  const url = new URL('v1/manifest', server);
  url.searchParams.set('install', installId);
  try {
    // no-store: an assignment changes (rollout, rollback) while the URL stays the same.
    const response = await fetch(url, { signal: AbortSignal.timeout(MANIFEST_TIMEOUT_MS), cache: 'no-store', credentials: 'omit' });
    if (response.status === 404) return { kind: 'static' };
    if (!response.ok) return { kind: 'unreachable' };
    if (!/json/i.test(response.headers.get('content-type') ?? '')) return { kind: 'static' };
    const parsed = v.safeParse(ReleaseManifestSchema, await response.json());
    return parsed.success ? { kind: 'manifest', manifest: parsed.output } : { kind: 'static' };
  } catch {
    // Network error, timeout, or a body cut short: treat as offline (the stored assignment stands).
    return { kind: 'unreachable' };
  }
}
