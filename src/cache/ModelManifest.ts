// Types-only: the records the model store keeps in IndexedDB (database `ondevice-models`).
import type { ModelSource } from '../core/protocol';

/** One file kept as chunks (a model's ONNX file, or one of its external data files), complete or still downloading. */
export interface StoredFile {
  key: string;
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
}

/** One record per stored model (complete or still downloading), keyed by `storeKeyOf(source)`: its ONNX file. */
export interface ModelManifest extends StoredFile {
  id: string;
  version?: string;
  /** What the model was loaded as, so an older version can stand in while a newer one downloads. */
  source: ModelSource;
  /**
   * The external data files the ONNX file names (records of the `files` store, shared by content between models),
   * set once the ONNX file was read. The model is usable offline only when this file and all of them are complete.
   */
  dataFiles?: DataFileRef[];
}

/** A model's use of one stored data file. */
export interface DataFileRef {
  /** The location the model names. */
  location: string;
  /** Key of the `files` record: `data:sha256:<hex>` when the hash is known up front, else `data:url:<url>`. */
  key: string;
}

/** One slice of a stored file. Keyed `[key, index]` (the model's or the data file's key). */
export interface ChunkRecord {
  key: string;
  index: number;
  blob: Blob;
  bytes: number;
}
