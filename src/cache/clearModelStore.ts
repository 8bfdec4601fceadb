import { openModelDb } from './openModelDb';
import { warmupMemory } from './warmupMemory';

/** Delete every stored model, and what the runtime remembers about warming models up. */
export async function clearModelStore(): Promise<void> {
  if (typeof indexedDB === 'undefined') return;
  const db = await openModelDb();
  const tx = db.transaction(['manifests', 'chunks'], 'readwrite');
  await Promise.all([tx.objectStore('manifests').clear(), tx.objectStore('chunks').clear(), tx.done]);
  await warmupMemory.clear();
}
