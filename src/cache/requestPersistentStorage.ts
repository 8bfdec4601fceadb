import { pageGlobals } from '../core/pageGlobals';

/**
 * Ask the browser not to evict stored models under storage pressure. Only pages can ask
 * (StorageManager.persist is Window-only); Chromium grants it silently to engaged or installed sites.
 */
export async function requestPersistentStorage(): Promise<boolean> {
  const storage = pageGlobals().navigator?.storage;
  if (!storage?.persist) return false;
  try {
    return (await storage.persisted?.()) || (await storage.persist());
  } catch {
    return false;
  }
}
