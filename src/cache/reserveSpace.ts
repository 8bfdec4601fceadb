import { OnDeviceError } from '../core/OnDeviceError';
import { chooseEvictions } from './chooseEvictions';
import { deleteEntry } from './deleteEntry';
import type { ModelDb } from './openModelDb';
import { storageEstimate } from './storageEstimate';
import { storedModelSizes } from './storedModelSizes';

/**
 * Make room for `bytesNeeded` more bytes before a download starts, evicting least-recently-used models
 * (never those in `keep`: the model being loaded). Returns QUOTA_EXCEEDED when it cannot fit; the caller then
 * loads from the network without storing.
 */
export async function reserveSpace(
  db: ModelDb,
  keep: ReadonlySet<string>,
  bytesNeeded: number,
  budgetBytes?: number,
): Promise<OnDeviceError | undefined> {
  const { manifests, usedBytes } = await storedModelSizes(db);
  let freeBytes: number;
  if (budgetBytes !== undefined) {
    freeBytes = budgetBytes - usedBytes;
  } else {
    const estimate = await storageEstimate();
    freeBytes = estimate ? estimate.quotaBytes - estimate.usageBytes : Number.POSITIVE_INFINITY;
  }
  if (bytesNeeded <= freeBytes) return undefined;
  const victims = chooseEvictions(manifests, bytesNeeded - freeBytes, keep);
  if (!victims) {
    return new OnDeviceError(
      'QUOTA_EXCEEDED',
      `Not storing the model: it needs ${bytesNeeded} bytes, ${Math.max(0, freeBytes)} are free${budgetBytes !== undefined ? ` within the ${budgetBytes}-byte budget` : ''} even after evicting other models`,
      { bytesNeeded, freeBytes: Math.max(0, freeBytes), budgetBytes },
    );
  }
  for (const m of victims) await deleteEntry(db, m.key);
  return undefined;
}
