import type { StoredFile } from './ModelManifest';
import { chunkRange, type ModelDb } from './openModelDb';

/**
 * The bytes of every stored chunk, concatenated; a string describing the damage when a chunk is
 * missing, truncated or unreadable (the caller purges the entry).
 */
export async function readStoredChunks(db: ModelDb, manifest: StoredFile): Promise<Uint8Array<ArrayBuffer> | string> {
  const records = await db.getAll('chunks', chunkRange(manifest.key));
  if (records.length !== manifest.chunkCount) return `expected ${manifest.chunkCount} chunks, found ${records.length}`;
  let total = 0;
  for (const [i, r] of records.entries()) {
    const last = i === records.length - 1;
    if (r.index !== i) return `chunk ${i} is missing`;
    if (r.blob.size !== r.bytes || (!last && r.bytes !== manifest.chunkBytes) || r.bytes > manifest.chunkBytes || r.bytes === 0) {
      return `chunk ${i} holds ${r.blob.size} bytes, expected ${last ? `1..${manifest.chunkBytes}` : manifest.chunkBytes}`;
    }
    total += r.bytes;
  }
  if (total !== manifest.storedBytes) return `chunks hold ${total} bytes, the manifest says ${manifest.storedBytes}`;
  const out = new Uint8Array(total);
  try {
    await Promise.all(records.map(async (r, i) => out.set(new Uint8Array(await r.blob.arrayBuffer()), i * manifest.chunkBytes)));
  } catch (error) {
    // Chromium keeps large IndexedDB values as files; a cleared or damaged profile makes them unreadable.
    return `a chunk could not be read: ${(error as Error).message}`;
  }
  return out;
}
