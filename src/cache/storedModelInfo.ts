import type { SizedManifest } from './storedModelSizes';

/** A stored model as the public cache API describes it. */
export interface StoredModelInfo {
  id: string;
  version?: string;
  url: string;
  /** Size of the model: its ONNX file plus its external data files (as far as known while a download is incomplete). */
  bytes: number;
  /** Bytes actually stored, over every file of the model (less than `bytes` while a download is incomplete). */
  storedBytes: number;
  /** False while a download of any of its files is incomplete (it resumes on the next load). */
  complete: boolean;
  /** How many external data files the model uses (0 for a single-file model). */
  dataFiles: number;
  /** Epoch milliseconds of the last load from (or into) the store. */
  lastUsed: number;
  sha256?: string;
}

export function storedModelInfo(m: SizedManifest): StoredModelInfo {
  return {
    id: m.id,
    version: m.version,
    url: m.url,
    bytes: m.setBytes,
    storedBytes: m.setStoredBytes,
    complete: m.setComplete,
    dataFiles: m.dataFiles?.length ?? 0,
    lastUsed: m.lastUsed,
    sha256: m.sha256,
  };
}
