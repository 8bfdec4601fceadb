import { openModelDb } from './openModelDb';
import { readStoredModel } from './readStoredModel';
import { touchEntry } from './touchEntry';

/**
 * The verified bytes of a stored model (the most recently used copy of `id`, or exactly `version`),
 * or undefined when none is stored or the stored copy fails verification.
 */
export async function readModelFromStore(id: string, version?: string): Promise<Uint8Array | undefined> {
  if (typeof indexedDB === 'undefined') return undefined;
  const db = await openModelDb();
  const candidates = (await db.getAllFromIndex('manifests', 'id', id))
    .filter((m) => m.complete && (version === undefined || m.version === version))
    .sort((a, b) => b.lastUsed - a.lastUsed);
  for (const m of candidates) {
    const read = await readStoredModel(db, m);
    if (read.ok) {
      await touchEntry(db, m);
      return read.bytes;
    }
  }
  return undefined;
}
