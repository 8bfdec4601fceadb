import { OnDeviceError, serializeError, type SerializedError } from '../core/OnDeviceError';
import { fetchModel, type FetchedModel } from '../core/fetchModel';
import type { ModelSource, Progress } from '../core/protocol';
import { deleteEntry } from './deleteEntry';
import { downloadToStore, type DownloadOptions } from './downloadToStore';
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
}

export interface StoreLoadResult extends FetchedModel {
  /** The load succeeded but the model could not be stored (QUOTA_EXCEEDED, NOT_SUPPORTED). */
  storeWarning?: SerializedError;
  /** Set when an older stored version stands in while the requested one downloads in the background. */
  servedSource?: ModelSource;
}

const updating = new Map<string, Promise<void>>();

/**
 * Model bytes through the offline model store: a verified stored copy when there is one, else a
 * download that is stored as it arrives. Integrity failures purge the entry and re-download once.
 */
export async function loadThroughStore(source: ModelSource, options: StoreLoadOptions = {}): Promise<StoreLoadResult> {
  let db: ModelDb;
  try {
    db = await openModelDb();
  } catch (error) {
    // No IndexedDB (or it is broken): the page keeps working from the network.
    const fetched = await fetchModel(source, options);
    return { ...fetched, storeWarning: serializeError(error, 'NOT_SUPPORTED') };
  }
  const key = storeKeyOf(source);
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
    if (changed) return download(db, source, { ...options, resume: false, response: changed }, false);
    const read = await readStoredModel(db, manifest, source.sha256);
    if (read.ok) {
      await touchEntry(db, manifest);
      options.onProgress?.({ loaded: read.bytes.byteLength, total: read.bytes.byteLength, lengthComputable: true, fromCache: true });
      return { bytes: read.bytes, sha256: read.sha256, fromCache: true };
    }
    // A truncated or corrupted chunk is an integrity failure like any other: purge, download once.
    await deleteEntry(db, key);
    mustNotResume = true;
  } else if (source.version && !source.release?.exact) {
    const stale = await serveOlderVersion(db, source, options);
    if (stale) return stale;
  }
  const result = await download(db, source, { ...options, resume: !mustNotResume }, mustNotResume);
  // Loaded in the foreground (a fresh install, a rollback, `model.update()`): older versions go once this one is verified.
  if (source.release && source.version && !result.storeWarning) await dropOtherVersions(db, source);
  return result;
}

async function download(db: ModelDb, source: ModelSource, options: DownloadOptions, alreadyRetried: boolean): Promise<StoreLoadResult> {
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
 * The registry moved to a version we have not stored, but an older one is stored: use the old one
 * now (verified), fetch the new one in the background, and drop the old once the new is verified.
 */
async function serveOlderVersion(db: ModelDb, source: ModelSource, options: StoreLoadOptions): Promise<StoreLoadResult | undefined> {
  const others = (await db.getAllFromIndex('manifests', 'id', source.id)).filter((m) => m.complete && m.version !== undefined);
  const newest = others.sort((a, b) => b.lastUsed - a.lastUsed)[0];
  if (!newest) return undefined;
  const read = await readStoredModel(db, newest);
  if (!read.ok) {
    await deleteEntry(db, newest.key);
    return undefined;
  }
  await touchEntry(db, newest);
  options.onProgress?.({ loaded: read.bytes.byteLength, total: read.bytes.byteLength, lengthComputable: true, fromCache: true });
  if (isOnline()) startBackgroundUpdate(db, source, options.budgetBytes);
  return { bytes: read.bytes, sha256: read.sha256, fromCache: true, servedSource: newest.source };
}

function startBackgroundUpdate(db: ModelDb, source: ModelSource, budgetBytes?: number): void {
  const key = storeKeyOf(source);
  if (updating.has(key)) return;
  const job = (async () => {
    await download(db, source, { resume: true, budgetBytes }, false);
    const stored = await db.get('manifests', key);
    if (!stored?.complete) return; // not storable (quota): keep serving the old version
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
