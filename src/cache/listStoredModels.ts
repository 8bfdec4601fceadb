import { openModelDb } from './openModelDb';
import { storedModelInfo, type StoredModelInfo } from './storedModelInfo';

/** Every stored model (complete or resumable), most recently used first. */
export async function listStoredModels(): Promise<StoredModelInfo[]> {
  if (typeof indexedDB === 'undefined') return [];
  const db = await openModelDb();
  const manifests = await db.getAll('manifests');
  return manifests.sort((a, b) => b.lastUsed - a.lastUsed).map(storedModelInfo);
}
