import { chunkRange, type ModelDb } from './openModelDb';

/** Remove one stored model (manifest and every chunk) in a single transaction. */
export async function deleteEntry(db: ModelDb, key: string): Promise<void> {
  const tx = db.transaction(['manifests', 'chunks'], 'readwrite');
  await Promise.all([tx.objectStore('manifests').delete(key), tx.objectStore('chunks').delete(chunkRange(key)), tx.done]);
}
