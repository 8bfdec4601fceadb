import type { StoredFile } from './ModelManifest';

const REVALIDATE_TIMEOUT_MS = 5_000;

/**
 * Ask the server whether a model stored by bare URL changed (If-None-Match / If-Modified-Since).
 * Returns the 200 response when it did, 'unchanged' when it did not or the server cannot be reached
 * (the stored copy is verified anyway).
 */
export async function revalidateStoredModel(manifest: StoredFile): Promise<Response | 'unchanged'> {
  if (!manifest.etag && !manifest.lastModified) return 'unchanged';
  const headers: Record<string, string> = {};
  if (manifest.etag) headers['If-None-Match'] = manifest.etag;
  if (manifest.lastModified) headers['If-Modified-Since'] = manifest.lastModified;
  try {
    const response = await fetch(manifest.url, {
      headers,
      credentials: 'same-origin',
      // no-store: our validators go out as written and a 304 comes back to us, not to the HTTP cache.
      cache: 'no-store',
      signal: AbortSignal.timeout(REVALIDATE_TIMEOUT_MS),
    });
    if (response.status === 200 && !(manifest.etag && response.headers.get('etag') === manifest.etag)) return response;
    await response.body?.cancel().catch(() => undefined);
    return 'unchanged';
  } catch {
    return 'unchanged';
  }
}
