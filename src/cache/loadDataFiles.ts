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
  // All files at once, as onnxruntime-web's own loader fetches them: one file's hashing and store writes overlap the
  // others' downloads. The first failure stops the rest (their stored chunks stay for a resume).
  const controller = new AbortController();
  const stop = () => controller.abort();
  options.signal?.addEventListener('abort', stop, { once: true });
  let setStoreWarning = storeWarning;
  let integrityFailed = false;
  const tasks = plan.files.map(async (file, i): Promise<LoadedDataFile | undefined> => {
    try {
      const report = progress.reporter(file.location, file.location);
      const target: StoreTarget = { ...dataFileTarget(source, file), key: refs[i].key, modelKey };
      const stored = await readStoredFile(db, target, options.storedOnly);
      if (stored) {
        report({ loaded: stored.bytes.byteLength, total: stored.bytes.byteLength, lengthComputable: true, fromCache: true });
        return { location: file.location, ...stored, fromCache: true };
      }
      if (options.storedOnly) return undefined;
      const signal = controller.signal;
      const downloaded = await downloadVerified(db, target, { ...options, signal, onProgress: report, noStore: !storing });
      setStoreWarning ??= downloaded.storeWarning;
      return { location: file.location, bytes: downloaded.bytes, sha256: downloaded.sha256, fromCache: false };
    } catch (error) {
      if (error instanceof OnDeviceError && error.code === 'INTEGRITY_MISMATCH') integrityFailed = true;
      stop();
      throw error;
    }
  });
  const settled = await Promise.allSettled(tasks);
  options.signal?.removeEventListener('abort', stop);
  // A file that failed its sha256 twice leaves nothing of the set stored; one that could not be stored (quota) leaves
  // no partial set behind either: it would run out at the same place again. Only once every download has stopped.
  if (integrityFailed || (setStoreWarning && storing)) await dropPartialSet(db, modelKey);
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !isOurAbort(r.reason, options.signal));
  const anyFailure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure ?? anyFailure) throw (failure ?? anyFailure)!.reason;
  const dataFiles = settled.map((r) => (r as PromiseFulfilledResult<LoadedDataFile | undefined>).value);
  if (dataFiles.some((f) => f === undefined)) return undefined;
  return { dataFiles: dataFiles as LoadedDataFile[], storeWarning: setStoreWarning };
}

/** An ABORTED that this loader caused by stopping the other downloads after a failure (not the caller's abort). */
function isOurAbort(reason: unknown, callerSignal: AbortSignal | undefined): boolean {
  return reason instanceof OnDeviceError && reason.code === 'ABORTED' && !callerSignal?.aborted;
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

/** Download (resuming), and once more from scratch after a sha256 mismatch. */
async function downloadVerified(db: ModelDb, target: StoreTarget, options: Omit<DownloadOptions, 'resume'>) {
  try {
    return await downloadToStore(db, target, { ...options, resume: true });
  } catch (error) {
    if (!(error instanceof OnDeviceError) || error.code !== 'INTEGRITY_MISMATCH') throw error;
  }
  return downloadToStore(db, target, { ...options, resume: false });
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
