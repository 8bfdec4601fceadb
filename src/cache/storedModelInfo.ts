import type { ModelManifest } from './ModelManifest';

/** A stored model as the public cache API describes it. */
export interface StoredModelInfo {
  id: string;
  version?: string;
  url: string;
  /** Size of the model file. */
  bytes: number;
  /** Bytes actually stored (less than `bytes` while a download is incomplete). */
  storedBytes: number;
  /** False while a download is incomplete (it resumes on the next load). */
  complete: boolean;
  /** Epoch milliseconds of the last load from (or into) the store. */
  lastUsed: number;
  sha256?: string;
}

export function storedModelInfo(m: ModelManifest): StoredModelInfo {
  return {
    id: m.id,
    version: m.version,
    url: m.url,
    bytes: m.bytes || m.storedBytes,
    storedBytes: m.storedBytes,
    complete: m.complete,
    lastUsed: m.lastUsed,
    sha256: m.sha256,
  };
}
