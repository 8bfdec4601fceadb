import { clearModelStore } from './clearModelStore';
import { deleteStoredModel } from './deleteStoredModel';
import { evictLeastRecentlyUsed } from './evictLeastRecentlyUsed';
import { listStoredModels } from './listStoredModels';
import { readModelFromStore } from './readModelFromStore';
import { requestPersistentStorage } from './requestPersistentStorage';
import { storageUsage } from './storageUsage';

/**
 * The offline model store (IndexedDB, shared by the page and the runtime worker). `loadModel` fills it;
 * this is how a page shows and manages what is stored.
 *
 * @example
 * for (const m of await modelStore.list()) console.log(m.id, m.version, m.bytes, new Date(m.lastUsed))
 * const { usedBytes, quotaBytes } = await modelStore.usage()
 * await modelStore.delete('ppocr-v4-rec')
 */
export const modelStore = {
  list: listStoredModels,
  /** Verified bytes of a stored model, or undefined. */
  read: readModelFromStore,
  delete: deleteStoredModel,
  clear: clearModelStore,
  usage: storageUsage,
  evictLeastRecentlyUsed,
  /** Ask for persistent storage (call from the page, e.g. after the first model is stored). */
  persist: requestPersistentStorage,
};
