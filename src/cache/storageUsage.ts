import { openModelDb } from './openModelDb';
import { storedModelSizes } from './storedModelSizes';
import { storageEstimate } from './storageEstimate';

export interface StorageUsage {
  /** Bytes held by stored models (every file; a data file two models share counted once). */
  modelBytes: number;
  /** Bytes this origin uses in all (models, service-worker caches, …), from `navigator.storage.estimate()`. */
  usedBytes: number;
  /** The origin's quota; Infinity where the browser does not say. */
  quotaBytes: number;
  /** quotaBytes − usedBytes. */
  availableBytes: number;
  /** Whether the browser promised not to evict this origin's storage under pressure. */
  persisted: boolean;
}

/** How much the model store and this origin use, and how much is left. */
export async function storageUsage(): Promise<StorageUsage> {
  const modelBytes = typeof indexedDB === 'undefined' ? 0 : (await storedModelSizes(await openModelDb())).usedBytes;
  const estimate = await storageEstimate();
  const usedBytes = estimate?.usageBytes ?? modelBytes;
  const quotaBytes = estimate?.quotaBytes ?? Number.POSITIVE_INFINITY;
  const persisted = (await globalThis.navigator?.storage?.persisted?.().catch(() => false)) ?? false;
  return { modelBytes, usedBytes, quotaBytes, availableBytes: Math.max(0, quotaBytes - usedBytes), persisted };
}
