import { openModelDb } from './openModelDb';

/** Delete every stored model. */
export async function clearModelStore(): Promise<void> {
  if (typeof indexedDB === 'undefined') return;
  const db = await openModelDb();
  const tx = db.transaction(['manifests', 'files', 'chunks'], 'readwrite');
  await Promise.all([tx.objectStore('manifests').clear(), tx.objectStore('files').clear(), tx.objectStore('chunks').clear(), tx.done]);
}
