import type { ModelManifest } from './ModelManifest';

/**
 * Which stored models to evict, least recently used first, to free `bytesNeeded`. Models in `keep`
 * (the one being loaded) are never chosen. Returns undefined when even evicting everything else
 * would not free enough.
 */
export function chooseEvictions(
  manifests: readonly ModelManifest[],
  bytesNeeded: number,
  keep: ReadonlySet<string> = new Set(),
): ModelManifest[] | undefined {
  if (bytesNeeded <= 0) return [];
  const candidates = manifests.filter((m) => !keep.has(m.key)).sort((a, b) => a.lastUsed - b.lastUsed || a.key.localeCompare(b.key));
  const chosen: ModelManifest[] = [];
  let freed = 0;
  for (const m of candidates) {
    if (freed >= bytesNeeded) break;
    chosen.push(m);
    freed += m.storedBytes;
  }
  return freed >= bytesNeeded ? chosen : undefined;
}
