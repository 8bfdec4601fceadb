import type { ModelManifest } from './ModelManifest';
import type { ModelDb } from './openModelDb';

/** A stored model with the bytes it holds: its ONNX file plus its data files (a file two models share counts for each). */
export type SizedManifest = ModelManifest & {
  /** Bytes stored for the ONNX file and every data file it uses. */
  setStoredBytes: number;
  /** Bytes deleting this model frees: its ONNX file and the data files no other stored model uses. */
  exclusiveStoredBytes: number;
  /** Size of the whole set, as far as known. */
  setBytes: number;
  /** The ONNX file and every data file it names are stored and verified. */
  setComplete: boolean;
};

/**
 * Every stored model with the bytes its whole set holds, and the bytes the store holds in all (each shared data file
 * once). What eviction, quota and the public listing count.
 */
export async function storedModelSizes(db: ModelDb): Promise<{ manifests: SizedManifest[]; usedBytes: number }> {
  const tx = db.transaction(['manifests', 'files'], 'readonly');
  const [manifests, files] = await Promise.all([tx.objectStore('manifests').getAll(), tx.objectStore('files').getAll(), tx.done]);
  const byKey = new Map(files.map((f) => [f.key, f]));
  const users = new Map<string, number>();
  for (const m of manifests) for (const d of m.dataFiles ?? []) users.set(d.key, (users.get(d.key) ?? 0) + 1);
  const sized = manifests.map((m): SizedManifest => {
    const data = (m.dataFiles ?? []).map((d) => byKey.get(d.key));
    const stored = (only: boolean) =>
      m.storedBytes + data.reduce((sum, f) => sum + (f && (!only || users.get(f.key) === 1) ? f.storedBytes : 0), 0);
    return {
      ...m,
      setStoredBytes: stored(false),
      exclusiveStoredBytes: stored(true),
      setBytes: (m.bytes || m.storedBytes) + data.reduce((sum, f) => sum + (f ? f.bytes || f.storedBytes : 0), 0),
      setComplete: m.complete && data.every((f) => f?.complete),
    };
  });
  const usedBytes = manifests.reduce((sum, m) => sum + m.storedBytes, 0) + files.reduce((sum, f) => sum + f.storedBytes, 0);
  return { manifests: sized, usedBytes };
}
