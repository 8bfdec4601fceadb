import { openModelDb } from './openModelDb';
import { storedModelSizes } from './storedModelSizes';
import { storedModelInfo, type StoredModelInfo } from './storedModelInfo';

/** Every stored model (complete or resumable), most recently used first. */
export async function listStoredModels(): Promise<StoredModelInfo[]> {
  if (typeof indexedDB === 'undefined') return [];
  const db = await openModelDb();
  const { manifests } = await storedModelSizes(db);
  return manifests.sort((a, b) => b.lastUsed - a.lastUsed).map(storedModelInfo);
}
