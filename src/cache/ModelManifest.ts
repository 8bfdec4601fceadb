// Types-only: the records the model store keeps in IndexedDB (database `ondevice-models`).
import type { ModelSource } from '../core/protocol';

/** One record per stored model (complete or still downloading), keyed by `storeKeyOf(source)`. */
export interface ModelManifest {
  key: string;
  id: string;
  version?: string;
  url: string;
  /** The verified sha256 of the complete file: the registry's (or caller's), or computed on first download for a bare URL. */
  sha256?: string;
  /** Total size in bytes when known (registry, Content-Length or Content-Range); 0 while unknown. */
  bytes: number;
  /** Bytes held in stored chunks; every chunk but the last is exactly `chunkBytes` long. */
  storedBytes: number;
  chunkBytes: number;
  chunkCount: number;
  /** True once every chunk is stored and the whole file matched its sha256. */
  complete: boolean;
  /** Epoch milliseconds of the last read or write (drives least-recently-used eviction). */
  lastUsed: number;
  /** Validators from the server, for resuming (If-Range) and revalidating (If-None-Match/If-Modified-Since). */
  etag?: string;
  lastModified?: string;
  /** What the model was loaded as, so an older version can stand in while a newer one downloads. */
  source: ModelSource;
}

/** One slice of a model file. Keyed `[key, index]`. */
export interface ChunkRecord {
  key: string;
  index: number;
  blob: Blob;
  bytes: number;
}
