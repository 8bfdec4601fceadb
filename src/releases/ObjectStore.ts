// Types-only: release files as content-addressed objects stored in chunks, one interface SQLite and
// PostgreSQL implement (SqliteObjectStore, PostgresObjectStore).

/** Bytes per chunk of newly written objects: no stored value is larger, whatever the file's size. */
export const CHUNK_BYTES = 1024 * 1024;

/** A complete object: its bytes were all received and hash to `sha256`. */
export interface StoredObject {
  sha256: string;
  bytes: number;
  /** Every chunk but the last holds exactly this many bytes. */
  chunkBytes: number;
  chunks: number;
  /** The write whose chunks hold the bytes. */
  key: string;
}

/**
 * Objects are written in chunks under a write's own key, in as many small transactions as it takes;
 * `finishWrite` then names them as object `sha256` in one. A write that never finishes (a killed upload)
 * leaves chunks no object names, which nothing reads and `collectGarbage` removes.
 */
export interface ObjectStore {
  beginWrite(key: string, startedMs: number): Promise<void>;
  writeChunk(key: string, seq: number, bytes: Uint8Array): Promise<void>;
  /**
   * The write's chunks become `object` (whose sha256 the caller checked). When that object exists already its
   * chunks stay, this write's are dropped, and it is touched: `'existing'`.
   */
  finishWrite(key: string, object: Omit<StoredObject, 'key'>, nowMs: number): Promise<'created' | 'existing'>;
  /** Drop an unfinished write's chunks (a refused upload). */
  abandonWrite(key: string): Promise<void>;
  object(sha256: string): Promise<StoredObject | undefined>;
  readChunk(object: StoredObject, seq: number): Promise<Uint8Array>;
  /** Mark objects as just used (an upload that found them stored): the collection spares them for its grace period again. */
  touch(sha256: string, nowMs: number): Promise<void>;
  /**
   * Remove writes started before `writesStartedBeforeMs` that never finished, and objects no version names that
   * were last touched before `objectsTouchedBeforeMs`. Each object goes in its own transaction.
   */
  collectGarbage(cutoffs: { writesStartedBeforeMs: number; objectsTouchedBeforeMs: number }): Promise<{ writes: number; objects: number }>;
  /** The sha256 of every stored object (what the server's disk copy may keep). */
  storedObjects(): Promise<Set<string>>;
}

/** A version names objects that are not stored (collected, or never uploaded). */
export class MissingObjectsError extends Error {
  constructor(readonly sha256s: string[]) {
    super(`not stored: ${sha256s.join(', ')}`);
  }
}
