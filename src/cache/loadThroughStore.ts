import { OnDeviceError, serializeError, type SerializedError } from '../core/OnDeviceError';
import { fetchModelSet, setProgressFor, type FetchedModelSet } from '../core/fetchModelSet';
import { planDataFiles, type ModelSetPlan } from '../core/onnx/planDataFiles';
import type { ModelSource, Progress } from '../core/protocol';
import type { SetProgress } from '../core/SetProgress';
import { deleteEntry } from './deleteEntry';
import { downloadToStore, type DownloadOptions } from './downloadToStore';
import { loadDataFiles } from './loadDataFiles';
import type { ModelManifest } from './ModelManifest';
import { openModelDb, type ModelDb } from './openModelDb';
import { readStoredModel } from './readStoredModel';
import { revalidateStoredModel } from './revalidateStoredModel';
import { storeKeyOf } from './storeKeyOf';
import { touchEntry } from './touchEntry';

export interface StoreLoadOptions {
  budgetBytes?: number;
  onProgress?: (p: Progress) => void;
  /** Stops a download (ABORTED); what was stored so far stays for a resume. */
  signal?: AbortSignal;
  /** Longest wait for the next bytes of a download (TIMEOUT); default 30 s. */
  stallTimeoutMs?: number;
  /** Called once the ONNX file is verified, before any data file is fetched: throw to refuse the set (memory limits). */
  checkSet?: (plan: ModelSetPlan) => void;
}

export interface StoreLoadResult extends FetchedModelSet {
  /** The load succeeded but the model could not be stored (QUOTA_EXCEEDED, NOT_SUPPORTED). */
  storeWarning?: SerializedError;
  /** Set when an older stored version stands in while the requested one downloads in the background. */
  servedSource?: ModelSource;
}

const updating = new Map<string, Promise<void>>();

/**
 * Model bytes through the offline model store, every file of the model: a verified stored copy when there is one,
 * else a download that is stored as it arrives. Integrity failures purge the file and re-download once.
 */
export async function loadThroughStore(source: ModelSource, options: StoreLoadOptions = {}): Promise<StoreLoadResult> {
  let db: ModelDb;
  try {
    db = await openModelDb();
  } catch (error) {
    // No IndexedDB (or it is broken): the page keeps working from the network.
    const fetched = await fetchModelSet(source, options);
    return { ...fetched, storeWarning: serializeError(error, 'NOT_SUPPORTED') };
  }
  const key = storeKeyOf(source);
  const progress = setProgressFor(source, options.onProgress);
  await purgeRolledBack(db, source);
  const manifest = await db.get('manifests', key);
  let mustNotResume = false;
  if (manifest?.complete) {
    let changed: Response | undefined;
    // A bare URL without a known hash may change on the server; content-addressed entries cannot.
    if (!source.version && !source.sha256 && isOnline()) {
      const outcome = await revalidateStoredModel(manifest);
      if (outcome !== 'unchanged') changed = outcome;
    }
    if (!changed) {
      const read = await readStoredModel(db, manifest, source.sha256);
      if (read.ok) {
        await touchEntry(db, manifest);
        progress.reporter('')({ loaded: read.bytes.byteLength, total: read.bytes.byteLength, lengthComputable: true, fromCache: true });
        return withDataFiles(db, source, key, { bytes: read.bytes, sha256: read.sha256, fromCache: true }, progress, options);
      }
      // A truncated or corrupted chunk is an integrity failure like any other: purge, download once.
      await deleteEntry(db, key);
      mustNotResume = true;
    } else {
      const model = await download(db, source, { ...options, onProgress: progress.reporter(''), resume: false, response: changed }, false);
      return withDataFiles(db, source, key, model, progress, options);
    }
  } else if (source.version && !source.release?.exact) {
    const stale = await serveOlderVersion(db, source, options);
    if (stale) return stale;
  }
  const model = await download(db, source, { ...options, onProgress: progress.reporter(''), resume: !mustNotResume }, mustNotResume);
  const result = await withDataFiles(db, source, key, model, progress, options);
  // Loaded in the foreground (a fresh install, a rollback, `model.update()`): older versions go once this one is verified.
  if (source.release && source.version && !result.storeWarning) await dropOtherVersions(db, source);
  return result;
}

type ModelFile = { bytes: Uint8Array<ArrayBuffer>; sha256: string; fromCache: boolean; storeWarning?: SerializedError };

/** The rest of the set once the ONNX file is in hand: its data files, from the store or the network. */
async function withDataFiles(
  db: ModelDb,
  source: ModelSource,
  key: string,
  model: ModelFile,
  progress: SetProgress,
  options: StoreLoadOptions,
): Promise<StoreLoadResult> {
  const plan = planDataFiles(source, model.bytes);
  options.checkSet?.(plan);
  for (const f of plan.files) progress.expect(f.location, f.bytes);
  const data = await loadDataFiles(db, source, key, plan, progress, { ...options, noStore: model.storeWarning !== undefined });
  const storeWarning = model.storeWarning ?? data?.storeWarning?.toJSON();
  return { ...model, dataFiles: data?.dataFiles ?? [], plan, ...(storeWarning ? { storeWarning } : {}) };
}

async function download(db: ModelDb, source: ModelSource, options: DownloadOptions, alreadyRetried: boolean): Promise<ModelFile> {
  let result;
  try {
    result = await downloadToStore(db, source, options);
  } catch (error) {
    if (alreadyRetried || !(error instanceof OnDeviceError) || error.code !== 'INTEGRITY_MISMATCH') throw error;
    result = await downloadToStore(db, source, { ...options, resume: false, response: undefined });
  }
  return { bytes: result.bytes, sha256: result.sha256, fromCache: false, storeWarning: result.storeWarning?.toJSON() };
}

/**
 * The registry moved to a version we have not stored, but an older one is stored whole: use the old one now
 * (verified), fetch the new one in the background, and drop the old once the new is verified.
 */
async function serveOlderVersion(db: ModelDb, source: ModelSource, options: StoreLoadOptions): Promise<StoreLoadResult | undefined> {
  const others = (await db.getAllFromIndex('manifests', 'id', source.id)).filter((m) => m.complete && m.version !== undefined);
  const newest = others.sort((a, b) => b.lastUsed - a.lastUsed)[0];
  if (!newest) return undefined;
  const stored = await readStoredSet(db, newest, options);
  if (!stored) return undefined;
  await touchEntry(db, newest);
  if (isOnline()) startBackgroundUpdate(db, source, options.budgetBytes);
  return { ...stored, servedSource: newest.source };
}

/** A stored model whose every file is stored and verified, or undefined (a damaged ONNX file is purged). */
async function readStoredSet(db: ModelDb, manifest: ModelManifest, options: StoreLoadOptions): Promise<FetchedModelSet | undefined> {
  const read = await readStoredModel(db, manifest);
  if (!read.ok) {
    await deleteEntry(db, manifest.key);
    return undefined;
  }
  const progress = setProgressFor(manifest.source, options.onProgress);
  const plan = planDataFiles(manifest.source, read.bytes);
  options.checkSet?.(plan);
  for (const f of plan.files) progress.expect(f.location, f.bytes);
  const data = await loadDataFiles(db, manifest.source, manifest.key, plan, progress, { storedOnly: true });
  if (!data) return undefined;
  progress.reporter('')({ loaded: read.bytes.byteLength, total: read.bytes.byteLength, lengthComputable: true, fromCache: true });
  return { bytes: read.bytes, sha256: read.sha256, fromCache: true, dataFiles: data.dataFiles, plan };
}

function startBackgroundUpdate(db: ModelDb, source: ModelSource, budgetBytes?: number): void {
  const key = storeKeyOf(source);
  if (updating.has(key)) return;
  const job = (async () => {
    const progress = setProgressFor(source, undefined);
    const model = await download(db, source, { resume: true, budgetBytes }, false);
    const result = await withDataFiles(db, source, key, model, progress, { budgetBytes });
    const stored = await db.get('manifests', key);
    if (result.storeWarning || !stored?.complete) return; // not storable (quota): keep serving the old version
    await dropOtherVersions(db, source);
  })()
    // Fire-and-forget by design: a failed update leaves the old version in place and is retried on the next load.
    .catch(() => undefined)
    .finally(() => updating.delete(key));
  updating.set(key, job);
}

/**
 * The requested version is stored and verified: drop the other stored versions of the model — except the
 * stable one while this install runs a candidate (a rollback then needs no download, so it works offline).
 */
async function dropOtherVersions(db: ModelDb, source: ModelSource): Promise<void> {
  const key = storeKeyOf(source);
  const keep = source.release?.stable;
  for (const m of await db.getAllFromIndex('manifests', 'id', source.id)) {
    if (m.key === key || m.version === undefined || (keep !== undefined && m.version === keep)) continue;
    await deleteEntry(db, m.key);
  }
}

/** Versions the server rolled back never run again here: forget their bytes. */
async function purgeRolledBack(db: ModelDb, source: ModelSource): Promise<void> {
  const rolledBack = source.release?.rolledBack;
  if (!rolledBack?.length) return;
  for (const m of await db.getAllFromIndex('manifests', 'id', source.id)) {
    if (m.version !== undefined && m.version !== source.version && rolledBack.includes(m.version)) await deleteEntry(db, m.key);
  }
}

/** Wait for background version updates started in this context (tests, benchmarks). */
export function backgroundUpdates(): Promise<void> {
  return Promise.all(updating.values()).then(() => undefined);
}

function isOnline(): boolean {
  return globalThis.navigator?.onLine ?? true;
}
