import { chunkRange, type ModelDb } from './openModelDb';

/**
 * Remove one stored model in a single transaction: its manifest, its chunks, and the data files no other stored
 * model uses (with their chunks).
 */
export async function deleteEntry(db: ModelDb, key: string): Promise<void> {
  const tx = db.transaction(['manifests', 'files', 'chunks'], 'readwrite');
  const manifests = tx.objectStore('manifests');
  const chunks = tx.objectStore('chunks');
  const manifest = await manifests.get(key);
  const others = manifest?.dataFiles?.length ? (await manifests.getAll()).filter((m) => m.key !== key) : [];
  const stillUsed = new Set(others.flatMap((m) => m.dataFiles?.map((d) => d.key) ?? []));
  const orphans = (manifest?.dataFiles ?? []).map((d) => d.key).filter((k) => !stillUsed.has(k));
  await Promise.all([
    manifests.delete(key),
    chunks.delete(chunkRange(key)),
    ...orphans.flatMap((k) => [tx.objectStore('files').delete(k), chunks.delete(chunkRange(k))]),
    tx.done,
  ]);
}

/** Remove one stored data file (record and chunks), e.g. after it failed verification. */
export async function deleteDataFile(db: ModelDb, key: string): Promise<void> {
  const tx = db.transaction(['files', 'chunks'], 'readwrite');
  await Promise.all([tx.objectStore('files').delete(key), tx.objectStore('chunks').delete(chunkRange(key)), tx.done]);
}
