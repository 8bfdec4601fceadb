import type { ModelManifest } from './ModelManifest';

/**
 * Which stored models to evict, least recently used first, to free `bytesNeeded`. Models in `keep`
 * (the one being loaded) are never chosen. Returns undefined when even evicting everything else
 * would not free enough.
 */
export function chooseEvictions<M extends ModelManifest & { exclusiveStoredBytes?: number }>(
  manifests: readonly M[],
  bytesNeeded: number,
  keep: ReadonlySet<string> = new Set(),
): M[] | undefined {
  if (bytesNeeded <= 0) return [];
  const candidates = manifests.filter((m) => !keep.has(m.key)).sort((a, b) => a.lastUsed - b.lastUsed || a.key.localeCompare(b.key));
  const chosen: M[] = [];
  let freed = 0;
  for (const m of candidates) {
    if (freed >= bytesNeeded) break;
    chosen.push(m);
    // A model's own bytes and the data files only it uses (see storedModelSizes).
    freed += m.exclusiveStoredBytes ?? m.storedBytes;
  }
  return freed >= bytesNeeded ? chosen : undefined;
}
