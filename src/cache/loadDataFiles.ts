import { dataFileTarget, type LoadedDataFile } from '../core/fetchModelSet';
import { OnDeviceError } from '../core/OnDeviceError';
import type { DataFilePlan, ModelSetPlan } from '../core/onnx/planDataFiles';
import type { ModelSource } from '../core/protocol';
import type { SetProgress } from '../core/SetProgress';
import { deleteDataFile, deleteEntry } from './deleteEntry';
import { downloadToStore, type DownloadOptions, type StoreTarget } from './downloadToStore';
import type { DataFileRef, ModelManifest } from './ModelManifest';
import type { ModelDb } from './openModelDb';
import { readStoredModel } from './readStoredModel';
import { reserveSpace } from './reserveSpace';
import { revalidateStoredModel } from './revalidateStoredModel';

export interface DataFilesOptions {
  budgetBytes?: number;
  signal?: AbortSignal;
  stallTimeoutMs?: number;
  /** Only what is stored: undefined when a file is missing (an older version standing in must be whole). */
  storedOnly?: boolean;
  /** The ONNX file could not be stored: neither can its data files. */
  noStore?: boolean;
}

export interface DataFilesResult {
  dataFiles: LoadedDataFile[];
  /** Why the set is not stored (QUOTA_EXCEEDED, NOT_SUPPORTED): it was loaded from the network. */
  storeWarning?: OnDeviceError;
}

/** Where a data file is kept: by content when its sha256 is known up front (shared between versions), else by URL. */
export function dataFileKeyOf(file: Pick<DataFilePlan, 'sha256' | 'url'>): string {
  return file.sha256 ? `data:sha256:${file.sha256}` : `data:url:${file.url}`;
}

/**
 * The external data files of the stored model `modelKey`, each read from the store (verified) or downloaded into it
 * (resuming a partial file). The model's manifest records which files it uses before any is fetched, so a partial
 * set is evicted and resumed as one. When the set cannot fit, or the quota runs out part-way, the files of this set
 * that no other model uses are removed (a retry would run out at the same place) and the rest is loaded from the
 * network with a QUOTA_EXCEEDED store warning. A file that fails its sha256 twice removes the whole set
 * (INTEGRITY_MISMATCH: nothing of it stays stored).
 */
export async function loadDataFiles(
  db: ModelDb,
  source: ModelSource,
  modelKey: string,
  plan: ModelSetPlan,
  progress: SetProgress,
  options: DataFilesOptions,
): Promise<DataFilesResult | undefined> {
  const refs: DataFileRef[] = plan.files.map((f) => ({ location: f.location, key: dataFileKeyOf(f) }));
  let storeWarning: OnDeviceError | undefined;
  let storing = !options.noStore && !options.storedOnly;
  if (storing) {
    storing = await recordDataFiles(db, modelKey, refs);
    const missing = await bytesMissing(db, plan.files);
    storeWarning = missing > 0 ? await reserveSpace(db, new Set([modelKey]), missing, options.budgetBytes) : undefined;
    if (storeWarning) storing = await dropPartialSet(db, modelKey);
  }
  const dataFiles: LoadedDataFile[] = [];
  for (const [i, file] of plan.files.entries()) {
    const report = progress.reporter(file.location, file.location);
    const target: StoreTarget = { ...dataFileTarget(source, file), key: refs[i].key, modelKey };
    const stored = await readStoredFile(db, target, options.storedOnly);
    if (stored) {
      report({ loaded: stored.bytes.byteLength, total: stored.bytes.byteLength, lengthComputable: true, fromCache: true });
      dataFiles.push({ location: file.location, ...stored, fromCache: true });
      continue;
    }
    if (options.storedOnly) return undefined;
    const downloaded = await downloadVerified(db, target, { ...options, onProgress: report, noStore: !storing }, modelKey);
    dataFiles.push({ location: file.location, bytes: downloaded.bytes, sha256: downloaded.sha256, fromCache: false });
    if (downloaded.storeWarning && storing) {
      storeWarning = downloaded.storeWarning;
      storing = await dropPartialSet(db, modelKey);
    }
  }
  return { dataFiles, storeWarning };
}

/** The verified bytes of a complete stored data file, or undefined (a damaged one is purged first). */
async function readStoredFile(
  db: ModelDb,
  target: StoreTarget,
  storedOnly: boolean | undefined,
): Promise<{ bytes: Uint8Array<ArrayBuffer>; sha256: string } | undefined> {
  const record = await db.get('files', target.key);
  if (!record?.complete) return undefined;
  // A data file known only by URL may change on the server (content-addressed ones cannot).
  if (!target.sha256 && !storedOnly && (globalThis.navigator?.onLine ?? true)) {
    if ((await revalidateStoredModel(record)) !== 'unchanged') {
      await deleteDataFile(db, target.key);
      return undefined;
    }
  }
  const read = await readStoredModel(db, record, target.sha256);
  if (read.ok) return read;
  await deleteDataFile(db, target.key);
  return undefined;
}

/** Download (resuming), and once more from scratch after a sha256 mismatch; a second mismatch removes the whole set. */
async function downloadVerified(db: ModelDb, target: StoreTarget, options: Omit<DownloadOptions, 'resume'>, modelKey: string) {
  try {
    return await downloadToStore(db, target, { ...options, resume: true });
  } catch (error) {
    if (!(error instanceof OnDeviceError) || error.code !== 'INTEGRITY_MISMATCH') throw error;
  }
  try {
    return await downloadToStore(db, target, { ...options, resume: false });
  } catch (error) {
    if (error instanceof OnDeviceError && error.code === 'INTEGRITY_MISMATCH') await deleteEntry(db, modelKey).catch(() => undefined);
    throw error;
  }
}

/** Note on the model's manifest which data files it uses; false when the model is not stored (nothing to record on). */
async function recordDataFiles(db: ModelDb, modelKey: string, refs: DataFileRef[]): Promise<boolean> {
  const tx = db.transaction('manifests', 'readwrite');
  const manifest = await tx.store.get(modelKey);
  if (manifest) await tx.store.put({ ...manifest, dataFiles: refs } satisfies ModelManifest);
  await tx.done;
  return manifest !== undefined;
}

/** Bytes the set's data files still need in the store (sizes listed, else the tensors' extents). */
async function bytesMissing(db: ModelDb, files: DataFilePlan[]): Promise<number> {
  let missing = 0;
  for (const f of files) {
    const record = await db.get('files', dataFileKeyOf(f));
    if (!record?.complete) missing += (f.bytes ?? f.extentBytes) - (record?.storedBytes ?? 0);
  }
  return missing;
}

/** The set cannot be stored whole: remove what this model alone holds; returns false (stop storing). */
async function dropPartialSet(db: ModelDb, modelKey: string): Promise<false> {
  await deleteEntry(db, modelKey).catch(() => undefined);
  return false;
}
