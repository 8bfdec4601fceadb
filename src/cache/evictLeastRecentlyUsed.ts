import { OnDeviceError } from '../core/OnDeviceError';
import { chooseEvictions } from './chooseEvictions';
import { deleteEntry } from './deleteEntry';
import { openModelDb } from './openModelDb';
import { storedModelSizes } from './storedModelSizes';
import { storedModelInfo, type StoredModelInfo } from './storedModelInfo';

export interface EvictOptions {
  /** Model ids never evicted (e.g. the one about to be used). */
  keepIds?: string[];
  /** Internal: store keys never evicted. */
  keepKeys?: string[];
}

/**
 * Delete least-recently-used models until at least `bytesNeeded` bytes are freed. Rejects with
 * QUOTA_EXCEEDED (deleting nothing) when that is impossible.
 *
 * @example
 * await modelStore.evictLeastRecentlyUsed(50e6, { keepIds: ['ppocr-v4-rec'] })
 */
export async function evictLeastRecentlyUsed(bytesNeeded: number, options: EvictOptions = {}): Promise<StoredModelInfo[]> {
  const db = await openModelDb();
  const { manifests } = await storedModelSizes(db);
  const keep = new Set([...(options.keepKeys ?? []), ...manifests.filter((m) => options.keepIds?.includes(m.id)).map((m) => m.key)]);
  const victims = chooseEvictions(manifests, bytesNeeded, keep);
  if (!victims) {
    throw new OnDeviceError('QUOTA_EXCEEDED', `Cannot free ${bytesNeeded} bytes: the other stored models hold less`, { bytesNeeded });
  }
  for (const m of victims) await deleteEntry(db, m.key);
  return victims.map(storedModelInfo);
}
