import { deleteEntry } from './deleteEntry';
import { openModelDb } from './openModelDb';

/** Delete the stored copies of a model id (every version, or just `version`). Resolves to how many were deleted. */
export async function deleteStoredModel(id: string, version?: string): Promise<number> {
  if (typeof indexedDB === 'undefined') return 0;
  const db = await openModelDb();
  const matches = (await db.getAllFromIndex('manifests', 'id', id)).filter((m) => version === undefined || m.version === version);
  for (const m of matches) await deleteEntry(db, m.key);
  return matches.length;
}
