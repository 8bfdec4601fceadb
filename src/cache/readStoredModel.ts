import { sha256Hex } from '../core/sha256';
import type { StoredFile } from './ModelManifest';
import type { ModelDb } from './openModelDb';
import { readStoredChunks } from './readStoredChunks';

export type StoredRead = { ok: true; bytes: Uint8Array<ArrayBuffer>; sha256: string } | { ok: false; reason: string };

/**
 * A complete stored model, verified against its sha256 (and `expectedSha256` when the caller knows
 * it) on every read: unverified bytes never leave the store.
 */
export async function readStoredModel(db: ModelDb, manifest: StoredFile, expectedSha256?: string): Promise<StoredRead> {
  if (!manifest.complete || !manifest.sha256) return { ok: false, reason: 'the stored copy is incomplete' };
  const bytes = await readStoredChunks(db, manifest);
  if (typeof bytes === 'string') return { ok: false, reason: bytes };
  if (bytes.byteLength !== manifest.bytes) return { ok: false, reason: `${bytes.byteLength} bytes stored, expected ${manifest.bytes}` };
  const sha256 = await sha256Hex(bytes);
  if (sha256 !== manifest.sha256) return { ok: false, reason: `stored bytes hash to ${sha256}, expected ${manifest.sha256}` };
  if (expectedSha256 && sha256 !== expectedSha256)
    return { ok: false, reason: `stored bytes hash to ${sha256}, the caller expects ${expectedSha256}` };
  return { ok: true, bytes, sha256 };
}
