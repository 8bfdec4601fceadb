import type { ModelManifest } from './ModelManifest';
import type { ModelDb } from './openModelDb';

/** Mark a stored model as just used (least-recently-used eviction reads `lastUsed`). */
export async function touchEntry(db: ModelDb, manifest: ModelManifest): Promise<void> {
  const tx = db.transaction('manifests', 'readwrite');
  const current = await tx.store.get(manifest.key);
  // Only touch the record we read: a concurrent delete must stay deleted.
  if (current) await tx.store.put({ ...current, lastUsed: Date.now() });
  await tx.done;
}
