import { deleteEntry } from './deleteEntry';
import { clearLocalExamples } from './localExamples';
import { openModelDb } from './openModelDb';

/**
 * Delete the stored copies of a model id (every version, or just `version`). Resolves to how many were deleted.
 * Deleting every version also deletes the labelled examples kept for the model (federated fine-tuning).
 */
export async function deleteStoredModel(id: string, version?: string): Promise<number> {
  if (typeof indexedDB === 'undefined') return 0;
  if (version === undefined) await clearLocalExamples(id);
  const db = await openModelDb();
  const matches = (await db.getAllFromIndex('manifests', 'id', id)).filter((m) => version === undefined || m.version === version);
  for (const m of matches) await deleteEntry(db, m.key);
  return matches.length;
}
